"""Staff review of prayers and their activity. Everything here is read-only: the text archive is the source of
truth and only archives.services writes it, so an edit, add or delete in the admin would leave the database
and the archive disagreeing."""

from django.contrib import admin
from django.db.models import Count, Q

from archives.models import Activity, Prayer
from lib.admin import ReadOnlyAdminMixin


class ActivityInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Activity
    fields = ["at", "actor", "kind", "text"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Prayer)
class PrayerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["archive_id", "author", "submitted_at", "is_answered", "is_archived", "prayed_count"]
    list_filter = ["is_answered", "is_archived"]
    list_select_related = ["author"]
    search_fields = ["archive_id", "request", "author__username"]
    raw_id_fields = ["author"]
    readonly_fields = ["archive_id", "archive_path", "is_answered", "is_archived", "testimony"]
    inlines = [ActivityInline]

    def get_queryset(self, request):
        prayed = Count("activities", filter=Q(activities__kind=Activity.Kind.PRAYED))
        return super().get_queryset(request).annotate(prayed_count=prayed)

    @admin.display(description="prayed", ordering="prayed_count")
    def prayed_count(self, prayer):
        return prayer.prayed_count


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["prayer", "actor", "kind", "at"]
    list_filter = ["kind"]  # staff find flagged requests with kind = flagged
    list_select_related = ["prayer__author", "actor"]
    search_fields = ["prayer__archive_id", "actor__username"]
    raw_id_fields = ["prayer", "actor"]
    readonly_fields = ["prayer", "actor", "kind", "at", "text"]
    date_hierarchy = "at"
