from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts import services
from accounts.identity import display_name, username_key
from accounts.models import Invite, User, possible_duplicates
from integrity.admin_actions import merge_selected


class _UsernameKeyMixin:
    """Admin forms: refuse a name whose key another user already has, as a form error, not a 500."""

    def clean_username(self):
        name = display_name(self.cleaned_data["username"])
        key = username_key(name)
        if not key:
            raise forms.ValidationError("A name needs at least one visible character.")
        others = User.objects.filter(username_key=key)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("That name is taken.")
        return name

    def _post_clean(self):
        if "username" in self.cleaned_data:
            self.instance.set_username(self.cleaned_data["username"])
        super()._post_clean()


class CairnUserChangeForm(_UsernameKeyMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        field_classes = {}


class CairnUserCreationForm(_UsernameKeyMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ["username"]
        field_classes = {}


class PossibleDuplicateFilter(admin.SimpleListFilter):
    """The review queue of possible duplicates: select the ones that are one person and merge them."""

    title = "possible duplicates"
    parameter_name = "duplicates"

    def lookups(self, request, model_admin):
        return [("yes", "Names equal without spaces")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=possible_duplicates().values("pk")).order_by("username_key")
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = CairnUserChangeForm
    add_form = CairnUserCreationForm
    list_display = ["username", "external_id", "invited_by", "merged_into", "is_active", "is_staff", "date_joined"]
    actions = [merge_selected]
    list_filter = [PossibleDuplicateFilter, "is_staff", "is_superuser", "is_active"]
    list_select_related = ["invited_by"]
    search_fields = ["username", "username_key", "external_id"]
    raw_id_fields = ["invited_by", "joined_via"]
    readonly_fields = ["username_key", "username_key_version", "merged_into", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "username_key", "username_key_version", "external_id", "password"]}),
        ("Invite tree", {"fields": ["invited_by", "joined_via", "merged_into"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email", "phone_number"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        # Also match the name under its key, so "ＭＡＸ " or "STRAUSS" find "Max" and "Strauß".
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        key = username_key(search_term)
        if key:
            results |= queryset.filter(username_key__contains=key)
        return results, may_have_duplicates

    def save_model(self, request, obj, form, change):
        # The archive is the source of truth for people too: archive what changed, then save.
        tracked = ["username", "invited_by", "is_staff", "is_superuser", "is_active"]
        before = dict(User.objects.filter(pk=obj.pk).values(*tracked).first() or {}) if change else {}
        super().save_model(request, obj, form, change)
        if change:
            services.archive_admin_changes(acting_user=request.user, user=obj, before=before)
        else:
            services.archive_joined(user=obj)


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ["pk", "created_by", "created_at", "expires_at", "uses", "max_uses"]
    list_select_related = ["created_by"]
    search_fields = ["created_by__username"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["token_hash", "created_at", "uses"]
