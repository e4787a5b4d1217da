import json

from django.core.management.base import BaseCommand, CommandError

from integrity import services
from integrity.cli import add_selection_arguments, selected_checks
from lib.progress import progress


class Command(BaseCommand):
    help = "Find every known kind of data defect and report it; exits with status 1 when anything is found."

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        parser.add_argument("--format", choices=["text", "json"], default="text", help="Output format (default: text).")
        parser.add_argument(
            "--no-record",
            action="store_true",
            help="Do not keep this run for the admin's review queue (Integrity › Doctor runs).",
        )

    def handle(self, *args, format, no_record, verbosity, **options):
        checks = selected_checks(options)
        results = []
        for check in progress(checks, command=self, desc="doctor", verbosity=verbosity):
            finding = check.find()
            results.append((check, finding))

        problems = sum(finding.count for _, finding in results)
        report = self._as_json(results, problems)
        if not no_record:
            services.record_doctor_run(results=report["checks"])
        if format == "json":
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._write_text(results, problems, verbosity)
        if problems:
            raise CommandError(f"{problems} problem(s) found.", returncode=1)

    def _as_json(self, results, problems):
        return {
            "problems": problems,
            "checks": [
                {
                    "name": check.name,
                    "description": check.description,
                    "count": finding.count,
                    "sample": finding.sample,
                    "hint": check.hint,
                    "fixable": check.plan_fix is not None,
                }
                for check, finding in results
            ],
        }

    def _write_text(self, results, problems, verbosity):
        width = max((len(check.name) for check, _ in results), default=10)
        for check, finding in results:
            if not finding.count:
                if verbosity >= 2:
                    self.stdout.write(f"{check.name:<{width}}  {self.style.SUCCESS('ok')}")
                continue
            sample = ", ".join(str(pk) for pk in finding.sample)
            self.stdout.write(f"{check.name:<{width}}  {self.style.WARNING(str(finding.count))}  e.g. {sample}")
            self.stdout.write(f"{'':<{width}}  {check.description}")
            self.stdout.write(f"{'':<{width}}  {check.hint}")
        if problems:
            found_by = sum(1 for _, finding in results if finding.count)
            self.stdout.write(
                self.style.WARNING(f"{problems} problem(s) found by {found_by} of {len(results)} checks.")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"No problems found ({len(results)} checks)."))
