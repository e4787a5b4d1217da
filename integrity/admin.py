from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from integrity import registry
from integrity.admin_actions import attach_to_user, discard, mark_reviewed, undo_selected
from integrity.models import DoctorRun, Quarantine, RepairChange, RepairJournal


@admin.register(Quarantine)
class QuarantineAdmin(admin.ModelAdmin):
    """The review queue of records that could not be attached: open ones first, by reason."""

    list_display = ["pk", "reason", "source", "status", "created_at", "resolved_by"]
    list_filter = ["status", "reason"]
    search_fields = ["source", "reason"]
    readonly_fields = [
        "source",
        "reason",
        "payload",
        "fingerprint",
        "created_at",
        "status",
        "resolved_at",
        "resolved_by",
    ]
    actions = [attach_to_user, mark_reviewed, discard]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # discard instead: the record stays, and the discard can be undone


@admin.register(RepairChange)
class RepairChangeAdmin(admin.ModelAdmin):
    """Every row and file a repair or an import changed, a page at a time (an import journals thousands)."""

    list_display = ["pk", "journal", "check_name", "model", "object_pk", "action", "undo"]
    list_filter = ["action", "model"]
    list_select_related = ["journal"]
    search_fields = ["object_pk"]
    list_per_page = 100
    fields = ["journal", "check_name", "model", "object_pk", "action", "undo", "before", "after"]
    readonly_fields = fields

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "journal__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="undo does")
    def undo(self, change):
        return change.undo_description()


JOURNAL_PAGE_CHANGES = 20


@admin.register(RepairJournal)
class RepairJournalAdmin(admin.ModelAdmin):
    """Every heal, import, merge and review: who, when, what, which rows; "Undo" puts them back."""

    list_display = ["pk", "kind", "status", "description", "actor", "created_at", "undone_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["actor"]
    search_fields = ["description"]
    readonly_fields = [*(f.name for f in RepairJournal._meta.fields), "changes_made"]
    actions = [undo_selected]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="changes")
    def changes_made(self, journal):
        """The first changes, what undoing each does, and a link to all of them (paginated)."""
        total = journal.changes.count()
        if not total:
            return "None recorded."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td></tr>",
            (
                (change.check_name, change.undo_description())
                for change in journal.changes.order_by("pk")[:JOURNAL_PAGE_CHANGES]
            ),
        )
        url = reverse("admin:integrity_repairchange_changelist") + f"?journal__id__exact={journal.pk}"
        return format_html(
            "<table><thead><tr><th>recorded by</th><th>undo does</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">All {} change(s) of repair #{}, with before and after</a></p>',
            rows,
            url,
            f"{total:,}",
            journal.pk,
        )


@admin.register(DoctorRun)
class DoctorRunAdmin(admin.ModelAdmin):
    """The review queue of doctor findings: each run's checks with their counts, samples, hints and fix plans."""

    list_display = ["pk", "created_at", "problems", "checks_run"]
    readonly_fields = ["created_at", "problems", "findings_table"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="checks run")
    def checks_run(self, run):
        return len(run.results)

    @admin.display(description="findings")
    def findings_table(self, run):
        """Each check that found something, with the plan its fix would apply now (computed from SELECTs)."""
        found = [result for result in run.results if result["count"]]
        if not found:
            return "No problems found."
        rows = format_html_join(
            "",
            "<tr><td><strong>{}</strong><br>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (r["name"], r["description"], r["count"], ", ".join(map(str, r["sample"])), r["hint"], _plan(r["name"]))
                for r in found
            ),
        )
        return format_html(
            "<table><tr><th>check</th><th>count</th><th>sample</th><th>hint</th><th>its fix's plan now</th></tr>{}"
            "</table>",
            rows,
        )


def _plan(name: str, limit: int = 10):
    check = registry.get_check(name)
    if check is None or check.plan_fix is None:
        return "report only: staff decide"
    plan = check.plan_fix()
    lines = [str(change) for change in plan.changes[:limit]] + [f"skipped: {why}" for why in plan.skipped[:limit]]
    more = len(plan.changes) + len(plan.skipped) - len(lines)
    if more > 0:
        lines.append(f"… and {more} more (manage.py heal --only {name})")
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in lines)))
