"""Defect checks and fixes for conversations and chat sessions, run by `manage.py doctor` and `manage.py heal`.

The constraints make most of these impossible in data written by Cairn; the checks find data loaded around
them (a restore, a raw copy, a migration that ran before its constraint) and the races of a predecessor.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from conversations.models import ChatSession, Conversation, FieldRevision, IdempotencyKey, Message
from integrity import merge
from integrity import services as integrity_services
from integrity.registry import SAMPLE_SIZE, Change, Delete, Finding, Plan, check


def _ms(value):
    """A time at millisecond precision: the repair journal stores times so, and undo compares them."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


ACTIVE = ChatSession.Status.ACTIVE
MERGED = ChatSession.Status.MERGED


def _users_with_several_active_sessions():
    return (
        ChatSession.objects.filter(status=ACTIVE)
        .values("user")
        .annotate(active=Count("pk"))
        .filter(active__gt=1)
        .values_list("user", flat=True)
    )


@check(
    "conversations.multiple_active_sessions",
    hint="Run `manage.py heal --only conversations.multiple_active_sessions` to merge each user's active sessions "
    "into the earliest (messages re-pointed, the others marked merged).",
)
def multiple_active_sessions() -> Finding:
    """Users with more than one active chat session (possible only in data loaded around the constraint)."""
    users = _users_with_several_active_sessions().order_by("user")
    return Finding(count=users.count(), sample=list(users[:SAMPLE_SIZE]))


@multiple_active_sessions.fix
def merge_active_sessions() -> Plan:
    """Keep each user's earliest-started active session; re-point the others' messages to it and mark them
    merged into it (legacy/conversations.md S3). Messages move first, so the tool outputs follow."""
    plan = Plan()
    sessions = ChatSession.objects.filter(status=ACTIVE, user__in=list(_users_with_several_active_sessions()))
    by_user: dict[int, list] = {}
    for session in sessions.order_by("user", "started_at", "pk").values("pk", "user", "last_activity_at", "end_reason"):
        by_user.setdefault(session["user"], []).append(session)
    moves, merges = [], []
    for survivor, *others in by_user.values():
        for other in others:
            for pk in Message.objects.filter(session=other["pk"]).values_list("pk", flat=True).order_by("pk"):
                moves.append(
                    Change(
                        model=Message, pk=pk, before={"session_id": other["pk"]}, after={"session_id": survivor["pk"]}
                    )
                )
            merges.append(
                Change(
                    model=ChatSession,
                    pk=other["pk"],
                    before={"status": ACTIVE, "merged_into_id": None, "end_reason": other["end_reason"]},
                    after={"status": MERGED, "merged_into_id": survivor["pk"], "end_reason": "merged"},
                )
            )
        latest = max(s["last_activity_at"] for s in [survivor, *others])
        if _ms(latest) > survivor["last_activity_at"]:
            merges.append(
                Change(
                    model=ChatSession,
                    pk=survivor["pk"],
                    before={"last_activity_at": survivor["last_activity_at"]},
                    after={"last_activity_at": _ms(latest)},
                )
            )
    plan.changes = moves + merges
    return plan


def _outputs_left_in_merged_sessions():
    return Message.objects.filter(session__status=MERGED, tool_outputs__isnull=False)


@check(
    "conversations.tool_outputs_in_merged_session",
    hint="Run `manage.py heal --only conversations.tool_outputs_in_merged_session` to move them into the session "
    "that was kept, where the assistant looks them up.",
)
def tool_outputs_in_merged_sessions() -> Finding:
    """Messages whose tool outputs sit in a merged session, so button clicks in the kept session cannot find them."""
    return Finding.from_queryset(_outputs_left_in_merged_sessions())


@tool_outputs_in_merged_sessions.fix
def move_tool_outputs() -> Plan:
    plan = Plan()
    rows = _outputs_left_in_merged_sessions().values_list("pk", "session_id", "session__merged_into_id")
    for pk, session, target in rows.order_by("pk"):
        plan.changes.append(Change(model=Message, pk=pk, before={"session_id": session}, after={"session_id": target}))
    return plan


@check(
    "conversations.duplicate_provider_id",
    hint="Review them in the admin (Messages, search the id): the earliest copy is the message, later ones are "
    "webhook retries. Not fixed automatically: nothing is deleted without review.",
)
def duplicate_provider_ids() -> Finding:
    """Messages repeating an earlier message's provider id for the same user (webhook retries stored twice)."""
    earlier = Message.objects.filter(user=OuterRef("user"), external_id=OuterRef("external_id")).filter(
        Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    )
    return Finding.from_queryset(Message.objects.filter(external_id__isnull=False).filter(Exists(earlier)))


@check(
    "conversations.message_user_mismatch",
    hint="Review them in the admin: a message must belong to its session's user.",
)
def message_user_mismatches() -> Finding:
    """Messages whose user is not their session's user (the copy that makes provider ids unique per user)."""
    return Finding.from_queryset(Message.objects.exclude(user=F("session__user")))


def _expired_keys():
    hours = settings.CONVERSATIONS_IDEMPOTENCY_TTL_HOURS
    return IdempotencyKey.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours))


@check(
    "conversations.expired_idempotency_key",
    hint="Run `manage.py heal --only conversations.expired_idempotency_key` (or `prune_idempotency_keys --execute`, "
    "cron it daily); expired keys are ignored meanwhile.",
)
def expired_idempotency_keys() -> Finding:
    """Idempotency-Key records older than CONVERSATIONS_IDEMPOTENCY_TTL_HOURS."""
    return Finding.from_queryset(_expired_keys())


@expired_idempotency_keys.fix
def delete_expired_idempotency_keys() -> Plan:
    """Delete them, journaled: undo_repair puts them back."""
    return Plan(
        changes=[
            Delete(model=IdempotencyKey, pk=pk, before={"created_at": created})
            for pk, created in _expired_keys().values_list("pk", "created_at").iterator()
        ]
    )


@check(
    "conversations.abnormal_session_rate",
    hint="A returning race, or a client in a loop: grep the logs for `chat session created: user=<external id>`.",
)
def abnormal_session_rates() -> Finding:
    """Users who started more than CONVERSATIONS_MAX_SESSIONS_PER_HOUR chat sessions within one clock hour."""
    users = (
        ChatSession.objects.annotate(hour=TruncHour("started_at"))
        .values("user", "hour")
        .annotate(started=Count("pk"))
        .filter(started__gt=settings.CONVERSATIONS_MAX_SESSIONS_PER_HOUR)
        .values_list("user", flat=True)
        .distinct()
        .order_by("user")
    )
    return Finding(count=users.count(), sample=list(users[:SAMPLE_SIZE]))


# --- Merges (integrity.merge): what a merge of two users, or of two records here, does with collisions ------

# Both users have a conversation with one session_id: merged into one, the other kept as a tombstone.
merge.declare(Conversation, "owner", merge.MergeRecords())
# Both have an active chat session: the loser's ends (there is one active session per user).
merge.declare(ChatSession, "user", merge.Reassign(updates={"status": "ended", "end_reason": "account merged"}))
# Idempotency keys are short-lived replay records: the survivor's stay, the other's are journaled.
merge.declare(IdempotencyKey, "owner", merge.Collapse())
# Message.user has no policy: two messages with one provider id for both users refuse the merge, naming them.
# A chat session merged into another is marked merged (its constraint wants both fields together).
merge.declare_tombstone(ChatSession, status="merged")
# A merged conversation's fields: the survivor keeps its own and takes the other's where it has none; the
# other's different values go into the survivor's history, which its owner sees (nothing is lost from view).
HISTORY_FIELDS = ["transcript", "analysis", "audio"]
merge.declare_fill_empty(Conversation, [*HISTORY_FIELDS, "audio_filename"])


def keep_merged_values_in_history(*, journal, survivor, losers):
    survivor = Conversation.objects.get(pk=survivor.pk)  # with the values the merge gave it
    now = timezone.now()
    revisions = []
    for loser in losers:
        for field in HISTORY_FIELDS:
            value = getattr(loser, field)
            value = value.name if field == "audio" else value
            mine = getattr(survivor, field)
            mine = mine.name if field == "audio" else mine
            if value not in (None, "", [], {}) and value != mine:
                revisions.append(
                    FieldRevision(conversation=survivor, field=field, value=value, replaced_at=now, replaced_by="merge")
                )
    created = FieldRevision.objects.bulk_create(revisions)
    return integrity_services.created_rows(
        journal=journal, label="conversations.merge", model=FieldRevision, pks=[r.pk for r in created]
    )


merge.declare_after_merge(Conversation, keep_merged_values_in_history)
# Staff merge one user's conversations or chat sessions only.
merge.declare_same(Conversation, ["owner"])
merge.declare_same(ChatSession, ["user"])
