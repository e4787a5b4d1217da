from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrity import services
from integrity.models import RepairJournal


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
            self.stdout.write(f"Dry run: would restore {journal.changes.count()} row(s) of repair #{journal_id}.")
            return
        try:
            journal = services.undo_repair(journal_id=journal_id)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Repair #{journal_id} undone: {journal.changes.count()} row(s) restored.")
        )
