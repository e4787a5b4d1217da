from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from conversations import importer, legacy


class Command(BaseCommand):
    help = (
        "Import the legacy conversations database (audio analyzer + WhatsApp assistant) following "
        "legacy/conversations.md; a dry run unless --execute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--db", required=True, help="The legacy SQLite file: a path or a sqlite:/// URL.")
        parser.add_argument(
            "--now",
            help="Reference time for ending inactive sessions, ISO 8601 (default: the newest legacy message).",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Print what would be imported (the default).")
        mode.add_argument("--execute", action="store_true", help="Import, in one transaction.")

    def handle(self, *args, db, now, execute, verbosity, **options):
        reference = None
        if now:
            reference = parse_datetime(now.replace("Z", "+00:00")) if now.strip() else None
            if reference is None:
                raise CommandError(f"--now {now}: not an ISO 8601 time (e.g. 2024-05-20T09:30:00Z).")
            reference = reference.replace(tzinfo=reference.tzinfo or UTC)
        try:
            rows = legacy.read_legacy(db)
        except legacy.LegacyError as error:
            raise CommandError(str(error)) from None
        plan = legacy.plan_import(rows, now=reference)
        if verbosity >= 1:
            self.stdout.write(
                f"Read {len(rows['subcontractors'])} subcontractor(s), "
                f"{len(rows['conversation_sessions'])} session(s), "
                f"{len(rows['messages'])} message(s), {len(rows['conversations'])} conversation row(s); "
                f"now = {plan.now.isoformat()}."
            )
        report = importer.import_plan(plan=plan, execute=execute, description=f"import_conversations --db {db}")
        for rejected in report.rejected:
            self.stderr.write(
                self.style.WARNING(f"{rejected.table} {rejected.legacy_id}: {rejected.reason} ({rejected.why})")
            )
        self._write_report(report, execute)
        if report.rejected:
            raise CommandError(
                f"{len(report.rejected)} legacy record(s) were rejected (named above, kept in Quarantine); "
                + ("everything else was imported." if execute else "nothing was written (dry run).")
            )

    def _write_report(self, report, execute):
        verb = "Imported" if execute else "Would import"
        statuses = ", ".join(f"{status} {n}" for status, n in sorted(report.sessions_by_status.items())) or "none"
        self.stdout.write(
            f"{verb}: {report.users_created} new user(s) ({report.users_existing} already here, "
            f"{report.phone_numbers_kept} given their phone number); "
            f"{report.conversations_created} conversation(s) (C1: {report.conversation_groups_with_duplicates} from "
            f"duplicate rows; C5: {report.replaced_values} replaced value(s) kept in Quarantine); "
            f"{report.sessions_created} chat session(s) ({statuses}); {report.messages_created} message(s) "
            f"(S4: {report.retry_copies_dropped} retry cop(ies) dropped); {report.already_imported} legacy row(s) "
            "already imported."
        )
        quarantined = ", ".join(f"{reason} {n}" for reason, n in sorted(report.quarantined.items()) if n)
        self.stdout.write(f"Quarantine: {quarantined or 'nothing'}.")
        if not execute:
            self.stdout.write("Dry run: nothing changed. Run again with --execute to import.")
        elif not report.changed_anything:
            self.stdout.write(self.style.SUCCESS("Nothing new: this database was already imported."))
        else:
            self.stdout.write(self.style.SUCCESS("Done."))
        if report.journal_id:
            self.stdout.write(f"Journal #{report.journal_id}. Undo it with: manage.py undo_repair {report.journal_id}")
