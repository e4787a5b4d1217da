"""Every write to conversations goes through these functions; each is one transaction.

Rows that two requests may write at once are claimed on a unique constraint (get_or_create) and then
changed field by field (QuerySet.update), never with a whole-row save(): see docs/conversations.md.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from conversations import bot
from conversations.models import ChatSession, Conversation, FieldRevision, IdempotencyKey, Message

logger = logging.getLogger("conversations")

SESSION_ID_MAX_LENGTH = 255


# --- recorded conversations ------------------------------------------------------------------------------


def is_empty_transcript(value) -> bool:
    return value is None or not str(value).strip()


def is_empty_analysis(value) -> bool:
    """None, {} and [] are "no analysis" (legacy/conversations.md C2); so is blank text."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == {} or value == []


def _is_empty(field: str, value) -> bool:
    return is_empty_analysis(value) if field == "analysis" else is_empty_transcript(value)


def canonical_json(value) -> str:
    """JSON text that is equal for equal values: key order and whitespace do not matter (C4)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _equal(field: str, old, new) -> bool:
    if field == "analysis":
        return canonical_json(old) == canonical_json(new)
    return old == new


def clean_session_id(session_id) -> str:
    session_id = str(session_id or "").strip()
    if not session_id:
        raise ValidationError({"session_id": "A session_id is required."})
    if len(session_id) > SESSION_ID_MAX_LENGTH:
        raise ValidationError({"session_id": f"A session_id has at most {SESSION_ID_MAX_LENGTH} characters."})
    return session_id


@transaction.atomic
def save_conversation(
    *,
    owner: User,
    session_id: str,
    source: str,
    transcript: str | None = None,
    analysis=None,
    audio: str | None = None,
    audio_filename: str | None = None,
) -> tuple[Conversation, bool]:
    """Save the fields a request carries into the owner's conversation `session_id`; (row, created).

    The row is claimed with get_or_create on the unique (owner, session_id), then locked, so the
    upload and save-analysis endpoints may run in any order, any number of times, at once: there is
    one row and each keeps the other's fields. An empty value (None, blank, {} or []) is "not carried"
    and changes nothing. A non-empty value that a different one replaces is kept as a FieldRevision.
    """
    session_id = clean_session_id(session_id)
    if not is_empty_analysis(analysis) and not isinstance(analysis, dict | list):
        raise ValidationError({"analysis": "The analysis must be a JSON object."})
    conversation, created = Conversation.objects.get_or_create(owner=owner, session_id=session_id)
    # The other endpoint may be writing this row now: lock it, read it, change only what we carry.
    # (On SQLite, BEGIN IMMEDIATE has already serialized the writers; select_for_update is a no-op.)
    current = Conversation.objects.select_for_update(no_key=True).get(pk=conversation.pk)
    while current.merged_into_id is not None:  # merged (same owner): its session_id leads to the survivor
        current = Conversation.objects.select_for_update(no_key=True).get(pk=current.merged_into_id)
    carried = {"transcript": transcript, "analysis": analysis, "audio": audio}
    now = timezone.now()
    updates, revisions = {}, []
    for field, new in carried.items():
        if _is_empty(field, new):
            continue
        old = getattr(current, field)
        old = old.name if field == "audio" else old
        if _equal(field, old, new):
            continue
        if not _is_empty(field, old):
            revisions.append(
                FieldRevision(conversation=current, field=field, value=old, replaced_at=now, replaced_by=source)
            )
        updates[field] = new
    if audio and audio_filename:
        updates["audio_filename"] = audio_filename[:255]
    if updates:
        Conversation.objects.filter(pk=current.pk).update(updated_at=now, **updates)
        FieldRevision.objects.bulk_create(revisions)
        current.refresh_from_db()
    return current, created


def get_conversation_for_user(*, user: User, session_id: str) -> Conversation | None:
    conversation = Conversation.objects.filter(owner=user, session_id=session_id).first()
    while conversation is not None and conversation.merged_into_id is not None:  # a merged one leads on
        conversation = Conversation.objects.filter(owner=user, pk=conversation.merged_into_id).first()
    return conversation


# --- chat sessions -------------------------------------------------------------------------------------


def inactivity() -> timedelta:
    return timedelta(minutes=settings.CONVERSATIONS_CHAT_INACTIVITY_MINUTES)


def resolve_active_session(*, user: User, now: datetime) -> ChatSession:
    """The user's active chat session, started if there is none or if it went stale. Call once per request.

    Race-free on the partial unique constraint "one active session per user": concurrent callers all
    get the same row. A session idle for longer than the inactivity setting is ended by a conditional
    UPDATE (only if it is still active and still idle), so of several requests that find it stale,
    exactly one ends it and all continue in the one new session.
    """
    for _ in range(5):
        session, created = ChatSession.objects.get_or_create(
            user=user, status=ChatSession.Status.ACTIVE, defaults={"started_at": now, "last_activity_at": now}
        )
        if created:
            logger.info("chat session created: user=%s session=%s", user.external_id, session.pk)
            return session
        cutoff = now - inactivity()
        if session.last_activity_at >= cutoff:
            logger.info("chat session reused: user=%s session=%s", user.external_id, session.pk)
            return session
        ended = ChatSession.objects.filter(
            pk=session.pk, status=ChatSession.Status.ACTIVE, last_activity_at__lt=cutoff
        ).update(
            status=ChatSession.Status.ENDED, ended_at=session.last_activity_at + inactivity(), end_reason="inactivity"
        )
        if ended:
            logger.info("chat session ended for inactivity: user=%s session=%s", user.external_id, session.pk)
    raise RuntimeError(f"Could not resolve an active chat session for {user.external_id}.")  # pragma: no cover


@dataclass(frozen=True)
class ChatTurn:
    session: ChatSession
    inbound: Message
    reply: Message | None
    retry: bool


@transaction.atomic
def receive_message(
    *, user: User, external_id: str | None, body: str = "", button_id: str = "", now: datetime | None = None
) -> ChatTurn:
    """Store a message from `user`, let the assistant answer it, and return both.

    The active session is resolved once here and handed to every later step. A message whose provider
    id is already stored for this user is a retry: nothing is written and the stored reply is returned.
    """
    external_id = (external_id or "").strip() or None
    body = (body or "").strip()
    button_id = (button_id or "").strip()
    if not body and not button_id:
        raise ValidationError("A message needs a body or a button id.")
    if external_id:
        stored = _stored_turn(user, external_id)
        if stored:
            return stored
    now = now or timezone.now()
    session = resolve_active_session(user=user, now=now)
    try:
        with transaction.atomic():
            inbound = Message.objects.create(
                session=session,
                user=user,
                external_id=external_id,
                direction=Message.Direction.IN,
                body=body,
                button_id=button_id,
                created_at=now,
            )
    except IntegrityError:
        stored = _stored_turn(user, external_id) if external_id else None
        if stored is None:
            raise
        return stored  # the same message, committed by a concurrent delivery meanwhile
    answer = bot.respond(user=user, session=session, inbound=inbound)
    reply = Message.objects.create(
        session=session,
        user=user,
        direction=Message.Direction.OUT,
        body=answer.body,
        buttons=answer.buttons,
        tool_outputs=answer.tool_outputs,
        in_reply_to=inbound,
        created_at=now,
    )
    ChatSession.objects.filter(pk=session.pk, last_activity_at__lt=now).update(last_activity_at=now)
    return ChatTurn(session=session, inbound=inbound, reply=reply, retry=False)


def _stored_turn(user: User, external_id: str) -> ChatTurn | None:
    inbound = Message.objects.select_related("session").filter(user=user, external_id=external_id).first()
    if inbound is None:
        return None
    reply = Message.objects.filter(in_reply_to=inbound).first()
    logger.info("chat message retry: user=%s message=%s", user.external_id, external_id)
    return ChatTurn(session=inbound.session, inbound=inbound, reply=reply, retry=True)


def active_session_for_user(*, user: User) -> ChatSession | None:
    """The user's active session for display (no staleness check, no writes)."""
    return ChatSession.objects.filter(user=user, status=ChatSession.Status.ACTIVE).first()


# --- idempotency keys ------------------------------------------------------------------------------------

IDEMPOTENCY_LOCK_TIMEOUT = timedelta(minutes=2)  # an in-progress key older than this was abandoned


def idempotency_ttl() -> timedelta:
    return timedelta(hours=settings.CONVERSATIONS_IDEMPOTENCY_TTL_HOURS)


@transaction.atomic
def claim_idempotency_key(*, owner: User, key: str, fingerprint: str, now: datetime) -> tuple[IdempotencyKey, bool]:
    """The key's record and whether this request now owns it (and must run, then finish or release it).

    Claimed on the unique (owner, key): of concurrent requests with one key exactly one runs. An expired
    key (older than the TTL) is claimed afresh; so is one whose request was abandoned mid-way.
    """
    record, created = IdempotencyKey.objects.get_or_create(
        owner=owner, key=key, defaults={"fingerprint": fingerprint, "created_at": now, "locked_at": now}
    )
    if created:
        return record, True
    fresh = {"fingerprint": fingerprint, "state": IdempotencyKey.State.IN_PROGRESS, "locked_at": now}
    if record.created_at < now - idempotency_ttl():
        reset = {**fresh, "created_at": now, "response_code": None, "response_body": None}
        if IdempotencyKey.objects.filter(pk=record.pk, created_at=record.created_at).update(**reset):
            record.refresh_from_db()
            return record, True
    elif (
        record.state == IdempotencyKey.State.IN_PROGRESS
        and record.fingerprint == fingerprint
        and record.locked_at < now - IDEMPOTENCY_LOCK_TIMEOUT
        and IdempotencyKey.objects.filter(pk=record.pk, state=record.state, locked_at=record.locked_at).update(**fresh)
    ):
        record.refresh_from_db()
        return record, True
    record.refresh_from_db()
    return record, False


@transaction.atomic
def finish_idempotency_key(*, record: IdempotencyKey, status: int, body) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS).update(
        state=IdempotencyKey.State.FINISHED, response_code=status, response_body=body
    )


@transaction.atomic
def release_idempotency_key(*, record: IdempotencyKey) -> None:
    """Forget a claim whose request failed without a stored answer (a 5xx, a 409): a retry may run again."""
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_PROGRESS).delete()


@transaction.atomic
def prune_idempotency_keys(*, older_than: datetime) -> int:
    return IdempotencyKey.objects.filter(created_at__lt=older_than).delete()[0]
