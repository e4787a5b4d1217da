"""Staff review of conversations, chat sessions and messages.

Conversations and messages are written by the services (claims on unique constraints, history of
replaced values); the admin shows them read-only so an edit here can neither lose a field nor bypass
that history. Sessions may be escalated or ended by staff through the change form: the form includes
`user` and `status`, so the "one active session per user" constraint is validated as a form error.
"""

from django.contrib import admin
from django.db.models import Count

from conversations.models import ChatSession, Conversation, FieldRevision, IdempotencyKey, ImportedRecord, Message
from integrity.admin_actions import merge_selected
from lib.admin import ReadOnlyAdminMixin


class FieldRevisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FieldRevision
    fields = ["field", "value", "replaced_at", "replaced_by"]
    readonly_fields = fields
    extra = 0


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["session_id", "owner", "merged_into", "created_at", "updated_at", "revision_count"]
    actions = [merge_selected]
    list_select_related = ["owner"]
    search_fields = ["session_id", "owner__username", "owner__external_id"]
    readonly_fields = ["owner", "session_id", "transcript", "analysis", "audio", "audio_filename", "created_at"]
    date_hierarchy = "created_at"
    inlines = [FieldRevisionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(revision_count=Count("revisions"))

    @admin.display(description="replaced values", ordering="revision_count")
    def revision_count(self, conversation):
        return conversation.revision_count


class MessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Message
    fk_name = "session"
    fields = ["created_at", "direction", "external_id", "body", "button_id", "tool_outputs"]
    readonly_fields = fields
    extra = 0


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "status", "started_at", "last_activity_at", "message_count", "merged_into"]
    actions = [merge_selected]
    list_filter = ["status"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__external_id", "legacy_id"]
    raw_id_fields = ["user", "merged_into"]
    fields = ["user", "status", "started_at", "last_activity_at", "ended_at", "end_reason", "merged_into", "legacy_id"]
    readonly_fields = ["started_at", "last_activity_at", "merged_into", "legacy_id"]
    inlines = [MessageInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=Count("messages"))

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, session):
        return session.message_count


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "session", "direction", "external_id"]
    list_filter = ["direction"]
    list_select_related = ["user", "session"]
    search_fields = ["external_id", "body", "user__username"]
    raw_id_fields = ["session", "user", "in_reply_to"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["key", "owner", "state", "response_code", "created_at"]
    list_filter = ["state"]
    list_select_related = ["owner"]
    search_fields = ["key", "owner__username"]


@admin.register(ImportedRecord)
class ImportedRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["table", "legacy_id", "outcome", "object_pk", "imported_at"]
    list_filter = ["table", "outcome"]
    search_fields = ["legacy_id", "object_pk"]
