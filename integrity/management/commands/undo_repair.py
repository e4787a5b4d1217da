from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrity import services
from integrity.models import RepairChange, RepairJournal


def describe(change: RepairChange) -> str:
    """What undoing one journal row does, in a line."""
    match change.action:
        case RepairChange.Action.CREATE_ROWS:
            return f"delete {change.object_pk} {change.model} row(s) it created"
        case RepairChange.Action.CREATE_FILES:
            return f"delete {change.object_pk} archive file(s) it created"
        case RepairChange.Action.CREATE_FILE:
            return f"delete the archive file {change.object_pk} it wrote"
        case _:
            return f"{change.model} {change.object_pk}: {change.after} → {change.before}"


class Command(BaseCommand):
    help = (
        "Revert a repair or an import recorded in the journal (see `heal --execute`, `import_archives --execute`), "
        "all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("journal_id", type=int, help="The repair's number, as heal printed it.")
        parser.add_argument("--dry-run", action="store_true", help="List what would be restored and change nothing.")

    def handle(self, *args, journal_id, dry_run, **options):
        journal = RepairJournal.objects.filter(pk=journal_id).first()
        if journal is None:
            raise CommandError(f"Repair #{journal_id} does not exist.")
        if dry_run:
            for change in journal.changes.order_by("-pk"):
                self.stdout.write(f"  {describe(change)}")
            self.stdout.write(f"Dry run: would restore {journal.changes.count()} row(s) of repair #{journal_id}.")
            return
        try:
            journal = services.undo_repair(journal_id=journal_id)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Repair #{journal_id} undone: {journal.changes.count()} row(s) restored.")
        )
