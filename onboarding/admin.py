"""Staff review of onboarding. API keys are shown masked only: the secret field is never on a page."""

from django.contrib import admin
from django.db.models import Count

from integrity.admin_actions import merge_selected
from onboarding.integrity import possibly_duplicate_analysis_pks
from onboarding.models import ApiKey, OnboardingSession, PersonaData, ResearchPreferences, WebsiteAnalysis


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["provider", "masked", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OnboardingSession)
class OnboardingSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "current_step", "completed_at", "key_count", "analysis_count", "updated_at"]
    actions = [merge_selected]
    list_filter = ["current_step", ("completed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__external_id"]
    raw_id_fields = ["user", "website"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ApiKeyInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(key_count=Count("api_keys", distinct=True), analysis_count=Count("analyses", distinct=True))
        )

    @admin.display(description="keys", ordering="key_count")
    def key_count(self, session):
        return session.key_count

    @admin.display(description="analyses", ordering="analysis_count")
    def analysis_count(self, session):
        return session.analysis_count


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only and masked: keys are added and replaced by their owner in the wizard, never by staff."""

    list_display = ["provider", "session", "masked", "updated_at"]
    list_filter = ["provider"]
    list_select_related = ["session__user"]
    search_fields = ["session__user__username", "session__user__external_id", "provider"]
    fields = ["session", "provider", "masked", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PossibleDuplicateAnalysisFilter(admin.SimpleListFilter):
    """The review queue of analyses equal under url_key: merge them here, or let heal fold them."""

    title = "possible duplicates"
    parameter_name = "duplicates"

    def lookups(self, request, model_admin):
        return [("yes", "Same site (url_key) in one session")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=possibly_duplicate_analysis_pks()).order_by("session", "url_key")
        return queryset


@admin.register(WebsiteAnalysis)
class WebsiteAnalysisAdmin(admin.ModelAdmin):
    list_display = ["url", "session", "status", "merged_into", "analyzed_at", "updated_at"]
    actions = [merge_selected]
    list_filter = [PossibleDuplicateAnalysisFilter, "status", ("merged_into", admin.EmptyFieldListFilter)]
    list_select_related = ["session__user"]
    search_fields = ["url", "url_key", "session__user__username", "session__user__external_id"]
    raw_id_fields = ["session", "merged_into"]
    readonly_fields = ["url_key", "created_at", "updated_at"]


@admin.register(ResearchPreferences)
class ResearchPreferencesAdmin(admin.ModelAdmin):
    list_display = ["session", "research_depth", "auto_research", "factual_content", "updated_at"]
    list_select_related = ["session__user"]
    search_fields = ["session__user__username", "session__user__external_id"]
    raw_id_fields = ["session"]


@admin.register(PersonaData)
class PersonaDataAdmin(admin.ModelAdmin):
    list_display = ["session", "selected_platforms", "updated_at"]
    list_select_related = ["session__user"]
    search_fields = ["session__user__username", "session__user__external_id"]
    raw_id_fields = ["session"]
