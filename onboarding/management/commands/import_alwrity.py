from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError

from lib.progress import progress_counter
from onboarding import alwrity, importer


class Command(BaseCommand):
    help = (
        "Import ALwrity's onboarding data (its database and JSON progress files) following "
        "legacy/alwrity.md Part B; a dry run unless --execute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--db", required=True, help="ALwrity's database: a SQLite file, sqlite:///path, or a postgres:// URL."
        )
        parser.add_argument(
            "--json-dir", required=True, help="The folder of the .onboarding_progress*.json files (read-only)."
        )
        parser.add_argument(
            "--timezone", default="UTC", help="IANA zone the legacy naive times are wall time in (default: UTC)."
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Print the plan and change nothing (the default).")
        mode.add_argument("--execute", action="store_true", help="Import.")

    def handle(self, *args, db, json_dir, timezone, execute, verbosity, **options):
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"--timezone {timezone}: not an IANA time zone name (e.g. Europe/Berlin).") from None
        try:
            tables = alwrity.read_database(db)
            files, file_quarantine = alwrity.read_json_dir(json_dir)
        except alwrity.LegacyInputError as error:
            raise CommandError(str(error)) from None
        plan = alwrity.plan_import(tables=tables, files=files, file_quarantine=file_quarantine, tz=tz)
        if verbosity >= 1:
            self.stdout.write(
                f"Read {sum(len(rows) for rows in tables.values())} row(s) and {len(files)} per-user file(s): "
                f"{len(plan.users)} user(s); not users: {', '.join(plan.not_users) or 'none'}."
            )
        if verbosity >= 2 or not execute:
            for user_plan in plan.users.values():
                self.stdout.write("  " + user_plan.describe())
        bar = progress_counter(command=self, total=len(plan.users), desc="import", verbosity=verbosity)
        try:
            report = importer.import_plan(
                plan=plan, execute=execute, description=f"import_alwrity --db {_safe(db)}", on_user=bar.update
            )
        finally:
            bar.close()
        self._write_report(plan, report, execute)

    def _write_report(self, plan, report, execute):
        verb = "Imported" if execute else "Would import"
        created = ", ".join(f"{label} {n}" for label, n in sorted(report.created.items()) if n) or "nothing new"
        self.stdout.write(f"{verb}: {created}.")
        if report.updated:
            self.stdout.write("Updated: " + ", ".join(f"{k} {n}" for k, n in sorted(report.updated.items())) + ".")
        by_reason = plan_reasons(plan)
        self.stdout.write("Quarantine: " + (", ".join(f"{k} {n}" for k, n in by_reason) or "nothing") + ".")
        if report.quarantine_known:
            self.stdout.write(f"  ({report.quarantine_known} of them already in quarantine.)")
        if plan.merged:
            merged = ", ".join(f"{kind} {n}" for kind, n in sorted(plan.merged.items()) if n)
            self.stdout.write(f"Merged away (not quarantined): {merged or 'nothing'}.")
        for problem in report.problems:
            self.stderr.write(self.style.ERROR(problem))
        if not execute:
            self.stdout.write("Dry run: nothing changed. Run again with --execute to import.")
        elif not report.changed_anything:
            self.stdout.write(self.style.SUCCESS("Nothing new: these inputs were already imported."))
        else:
            self.stdout.write(self.style.SUCCESS("Done."))
        if report.journal_id:
            self.stdout.write(f"Journal #{report.journal_id}. Undo it with: manage.py undo_repair {report.journal_id}")
        if report.problems:
            raise CommandError(f"{len(report.problems)} user(s) could not be imported (listed above).")


def plan_reasons(plan) -> list[tuple[str, int]]:
    counts = {}
    for record in plan.quarantine:
        key = f"{record.source} {record.reason}"
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items())


def _safe(db: str) -> str:
    """The --db value for the journal, without a password."""
    if "://" in db and "@" in db:
        scheme, rest = db.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return db
