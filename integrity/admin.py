from django.contrib import admin

from integrity.admin_actions import undo_selected
from integrity.models import Quarantine, RepairChange, RepairJournal


@admin.register(Quarantine)
class QuarantineAdmin(admin.ModelAdmin):
    list_display = ["pk", "reason", "source", "status", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["source", "reason"]
    readonly_fields = ["source", "reason", "payload", "fingerprint", "created_at", "resolved_at", "resolved_by"]


class RepairChangeInline(admin.TabularInline):
    model = RepairChange
    fields = ["check_name", "model", "object_pk", "action", "before", "after"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RepairJournal)
class RepairJournalAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "actor", "created_at", "undone_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["actor"]
    readonly_fields = [f.name for f in RepairJournal._meta.fields]
    inlines = [RepairChangeInline]
    actions = [undo_selected]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
