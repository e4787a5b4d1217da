from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.identity import resolve_user
from integrity import merge


class Command(BaseCommand):
    help = (
        "Merge records into one (the others become tombstones pointing at it): prints the plan, a dry run "
        "unless --execute. The same engine and plan as the admin's 'Merge selected'; undo with undo_repair."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", help="The model, as app_label.model_name, e.g. accounts.user.")
        parser.add_argument("survivor", help="The record that stays: a pk (for users also a name or external id).")
        parser.add_argument("losers", nargs="+", help="The records merged into it.")
        parser.add_argument(
            "--take", action="append", default=[], metavar="FIELD=RECORD", help="Keep RECORD's value of FIELD."
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Print the plan and change nothing (the default).")
        mode.add_argument("--execute", action="store_true", help="Merge, and print the journal id.")

    def handle(self, *args, model, survivor, losers, take, execute, **options):
        try:
            model = apps.get_model(model)
        except (LookupError, ValueError):
            raise CommandError(f"{model}: no such model (use app_label.model_name, e.g. accounts.user)") from None
        survivor = self._record(model, survivor)
        losers = [self._record(model, name) for name in losers]
        chosen = {}
        for item in take:
            field, _, record = item.partition("=")
            chosen[field] = self._record(model, record).pk
        plan = merge.plan_merge(survivor=survivor, losers=losers, take=chosen)
        self.stdout.write(f"Merge {', '.join(map(str, losers))} into {survivor} ({model._meta.label_lower}):")
        for line in plan.lines() or ["nothing points at them: only the tombstones are written"]:
            self.stdout.write(f"  {line}")
        for name, pk in plan.take.items():
            self.stdout.write(f"  {name}: the value of #{pk}")
        if not plan.ok:
            raise CommandError("Refused: " + " ".join(plan.refusals))
        if not execute:
            self.stdout.write("Dry run: nothing changed. Run again with --execute to merge.")
            return
        try:
            journal = merge.execute_merge(plan=plan, description=f"manage.py merge by {survivor}")
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Merged: repair #{journal.pk}. Undo it with: manage.py undo_repair {journal.pk}")
        )

    def _record(self, model, reference: str):
        if model is get_user_model():
            user = resolve_user(reference)
            if user is not None:
                return user
        record = model._base_manager.filter(pk=reference).first() if reference.isdigit() else None
        if record is None:
            raise CommandError(f"{model._meta.label_lower} {reference!r}: no such record.")
        return record
