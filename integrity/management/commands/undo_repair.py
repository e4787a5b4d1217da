from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrity import services
from integrity.models import RepairChange, RepairJournal


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
                self.stdout.write(f"  {change.undo_description()}")
            self.stdout.write(f"Dry run: would undo repair #{journal_id}: {tally(journal)}.")
            return
        try:
            journal = services.undo_repair(journal_id=journal_id)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Repair #{journal_id} undone: {tally(journal)}."))


def tally(journal: RepairJournal) -> str:
    """What undoing the journal does, counted: rows deleted, restored and put back, files deleted or cut back."""
    counts = {"created row(s) deleted": 0, "row(s) restored": 0, "deleted row(s) put back": 0, "file change(s)": 0}
    for action, model, object_pk in journal.changes.values_list("action", "model", "object_pk"):
        if model == "archive_file":
            counts["file change(s)"] += int(object_pk) if action == RepairChange.Action.CREATE_FILES else 1
        elif action == RepairChange.Action.CREATE_ROWS:
            counts["created row(s) deleted"] += int(object_pk)
        elif action == RepairChange.Action.DELETE_ROW:
            counts["deleted row(s) put back"] += 1
        else:  # an update, or a re-point of many rows
            counts["row(s) restored"] += int(object_pk) if action == RepairChange.Action.REPOINT else 1
    return ", ".join(f"{n:,} {what}" for what, n in counts.items() if n) or "nothing to do"
