from django.core.management.base import BaseCommand

from integrity import services
from integrity.cli import add_selection_arguments, selected_checks
from lib.progress import progress_counter

SHOWN_PER_CHECK = 20


class Command(BaseCommand):
    help = "Repair what doctor finds: prints the plan, and applies and journals it with --execute."

    def add_arguments(self, parser):
        add_selection_arguments(parser)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Print the plan and change nothing (the default).")
        mode.add_argument("--execute", action="store_true", help="Apply the plan and record it in the repair journal.")
        parser.add_argument("--batch-size", type=int, default=500, help="Changes per transaction (default: 500).")

    def handle(self, *args, execute, batch_size, verbosity, **options):
        plans = {check.name: check.plan_fix() for check in selected_checks(options) if check.plan_fix}
        plans = {name: plan for name, plan in plans.items() if plan.changes or plan.skipped}
        for name, plan in plans.items():
            self._write_plan(name, plan, verbosity)
        total = sum(len(plan.changes) for plan in plans.values())
        if not total:
            self.stdout.write(self.style.SUCCESS("Nothing to heal."))
            return
        if not execute:
            self.stdout.write(f"Dry run: nothing changed. Run again with --execute to apply {total} change(s).")
            return

        bar = progress_counter(command=self, total=total, desc="heal", verbosity=verbosity)
        try:
            journal = services.apply_plans(
                plans=plans, description="manage.py heal", batch_size=batch_size, on_batch=bar.update
            )
        finally:
            bar.close()
        changed = sum(counts["changed"] for counts in journal.summary.values())
        skipped = sum(counts["skipped"] for counts in journal.summary.values())
        self.stdout.write(self.style.SUCCESS(f"Repair #{journal.pk}: {changed} change(s) applied, {skipped} skipped."))
        self.stdout.write(f"Undo it with: manage.py undo_repair {journal.pk}")

    def _write_plan(self, name, plan, verbosity):
        if not plan.changes and not plan.skipped:
            return
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"{name}: {len(plan.changes)} change(s), {len(plan.skipped)} skipped")
        )
        shown = plan.changes if verbosity >= 2 else plan.changes[:SHOWN_PER_CHECK]
        for change in shown:
            self.stdout.write(f"  {change}")
        if len(shown) < len(plan.changes):
            self.stdout.write(f"  … and {len(plan.changes) - len(shown)} more (-v 2 lists all)")
        for reason in plan.skipped:
            self.stdout.write(self.style.WARNING(f"  skipped: {reason}"))
