from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError

from archives import importer, rebuild
from archives.thywill import read_thywill_archive
from integrity import services as integrity
from lib.progress import progress_counter

BAD_FILE_REASONS = {"unreadable_file", "unsafe_path", "unparsed_prayer_file", "archive_conflict"}


class Command(BaseCommand):
    help = (
        "Import a ThyWill text archive (a text_archives folder or a complete_site_archive .zip) following "
        "legacy/thywill.md R1–R14; a dry run unless --execute."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A ThyWill text_archives folder, a complete_site_archive*.zip, or a root.")
        parser.add_argument(
            "--timezone", default="UTC", help="IANA zone the archive's naive times are wall time in (default: UTC)."
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Report what would be imported (the default).")
        mode.add_argument("--execute", action="store_true", help="Import, and copy the files into the archive root.")
        parser.add_argument("--batch-size", type=int, default=1000, help="Prayers per transaction (default: 1000).")

    def handle(self, *args, path, timezone, execute, batch_size, verbosity, **options):
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"--timezone {timezone}: not an IANA time zone name (e.g. Europe/London)") from None
        try:
            archive = read_thywill_archive(path, tz=tz)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if verbosity >= 1:
            self.stdout.write(
                f"Read {archive.files_read} file(s), {archive.lines_read} line(s): {len(archive.users)} user(s), "
                f"{len(archive.prayers)} prayer(s)."
            )
        # One journal for the whole import: the files copied, then every row (see `undo_repair`).
        journal = integrity.start_journal(kind="import", description=f"import_archives {path}") if execute else None
        try:
            archive_paths = importer.copy_into_archive_root(path, archive, journal=journal) if execute else {}
            replayed = rebuild.apply_account_events(archive, execute=execute)
            archive = rebuild.resolve_external_ids(archive)
        except BaseException:
            if journal is not None:
                integrity.finish_journal(journal=journal, summary={}, failed=True)
            raise
        bar = progress_counter(command=self, total=len(archive.prayers), desc="import", verbosity=verbosity)
        try:
            report = importer.import_archive(
                archive=archive,
                tz=tz,
                execute=execute,
                archive_paths=archive_paths,
                batch_size=batch_size,
                on_prayers=bar.update,
                journal=journal,
                account_events=replayed,
            )
        finally:
            bar.close()
        merges = rebuild.apply_merges(archive, execute=execute)
        if merges:
            self.stdout.write(f"{'Merges replayed' if execute else 'Would replay merges'}: {merges}.")
        if replayed:
            self.stdout.write(
                "Account events: " + ", ".join(f"{kind} {n}" for kind, n in sorted(replayed.items())) + "."
            )
        elif archive.account_events and not execute:
            self.stdout.write(f"Would replay {len(archive.account_events)} account event(s).")
        self._write_bad_files(archive)
        self._write_report(report, execute)
        if report.journal_id:
            self.stdout.write(f"Journal #{report.journal_id}. Undo it with: manage.py undo_repair {report.journal_id}")

    def _write_bad_files(self, archive):
        """Name every file that could not be read or used, and why; the rest of the archive is imported."""
        for record in archive.quarantine:
            if record.reason in BAD_FILE_REASONS:
                where = record.payload.get("relpath") or record.payload.get("member") or record.source
                line = record.payload.get("line")
                where = f"{where}:{line}" if line else where
                self.stderr.write(self.style.WARNING(f"{where}: {record.payload.get('why', record.reason)}"))

    def _write_report(self, report, execute):
        verb = "Imported" if execute else "Would import"
        self.stdout.write(
            f"{verb}: {report.users_created} new user(s) ({report.users_linked} already here), "
            f"{report.inviters_set} inviter link(s), {report.prayers_created} new prayer(s) "
            f"({report.prayers_existing} already here), {report.activities_created} activity row(s)."
        )
        quarantined = ", ".join(f"{reason} {count}" for reason, count in sorted(report.quarantined.items()) if count)
        self.stdout.write(f"Quarantine: {quarantined or 'nothing'}.")
        if not execute:
            self.stdout.write("Dry run: nothing changed. Run again with --execute to import.")
        elif not report.changed_anything:
            self.stdout.write(self.style.SUCCESS("Nothing new: this archive was already imported."))
        else:
            self.stdout.write(self.style.SUCCESS("Done."))
