"""Every write to prayers goes through these functions.

The text archive is the source of truth: each function writes the archive first, inside the database
transaction, so a failed archive write fails the request and leaves the database unchanged. A prayer's
row is locked while its file is appended to, so two app servers never interleave one prayer's lines.
"""

import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from archives.archive_format import prayer_file_name, render_event_line, render_prayer_file
from archives.models import Activity, Prayer
from lib import archive_files

Kind = Activity.Kind


def normalize_text(text: str) -> str:
    """Line breaks as "\\n" (browsers send "\\r\\n"), no blank lines at either end."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def prayer_requests_of(*, user):
    """A user's own prayer requests, newest first, as dicts (for other apps: read-only, scoped to `user`)."""
    return (
        Prayer.objects.filter(author=user)
        .order_by("-submitted_at", "-pk")
        .values("archive_id", "request", "is_answered", "is_archived", "submitted_at")
    )


def derive_state(events: Iterable[tuple[str, str]]) -> dict:
    """is_answered, is_archived and testimony from (kind, text) events in time order (thywill.md R9)."""
    state = {"is_answered": False, "is_archived": False, "testimony": ""}
    for kind, text in events:
        if kind == Kind.ANSWERED:
            state["is_answered"] = True
        elif kind == Kind.TESTIMONY:
            state["testimony"] = text
        elif kind in (Kind.ARCHIVED, Kind.RESTORED):
            state["is_archived"] = kind == Kind.ARCHIVED
    return state


def refresh_state(prayer: Prayer) -> Prayer:
    """Recompute the derived fields from the prayer's events and save them if they changed."""
    events = prayer.activities.order_by("at", "pk").values_list("kind", "text")
    state = derive_state(events)
    changed = [field for field, value in state.items() if getattr(prayer, field) != value]
    for field in changed:
        setattr(prayer, field, state[field])
    if changed:
        prayer.save(update_fields=changed)
    return prayer


@transaction.atomic
def submit_prayer(*, acting_user: User, request: str, generated_prayer: str = "") -> Prayer:
    request, generated_prayer = normalize_text(request), normalize_text(generated_prayer)
    if not request:
        raise ValidationError({"request": "Write what you would like prayer for."})
    now = timezone.now().replace(microsecond=0)
    archive_id = uuid.uuid4().hex
    content = render_prayer_file(
        archive_id=archive_id,
        author_name=acting_user.username,
        author_id=acting_user.external_id,
        submitted_at=now,
        request=request,
        generated_prayer=generated_prayer,
    )
    path = archive_files.create_new(prayer_file_name(now), content)
    return Prayer.objects.create(
        archive_id=archive_id,
        author=acting_user,
        request=request,
        generated_prayer=generated_prayer,
        submitted_at=now,
        archive_path=path,
    )


def _lock(prayer: Prayer) -> Prayer:
    """The prayer's row, locked until the transaction ends: one writer per prayer file."""
    return Prayer.objects.select_for_update().get(pk=prayer.pk)


def _record(*, acting_user: User, prayer: Prayer, kind: str, text: str = "") -> Activity:
    """Append one event to the (locked) prayer's file, then insert it and refresh the derived state.

    Each event of a prayer gets a later second than the one before (the row lock makes this safe), so the
    archive alone orders them: R9 orders same-instant events by where their key first appears, which
    would put a second "archived" in one second before the "restored" between them.
    """
    at = timezone.now().replace(microsecond=0)
    latest = prayer.activities.order_by("-at").values_list("at", flat=True).first()
    if latest is not None and at <= latest:
        at = latest + timedelta(seconds=1)
    line = render_event_line(
        at=at, kind=kind, actor_name=acting_user.username, actor_id=acting_user.external_id, text=text
    )
    archive_files.append(prayer.archive_path, line)
    activity = Activity.objects.create(prayer=prayer, actor=acting_user, kind=kind, at=at, text=text)
    refresh_state(prayer)
    return activity


def _require_author(acting_user: User, prayer: Prayer, action: str) -> None:
    if prayer.author_id != acting_user.pk:
        raise PermissionDenied(f"Only the person who asked for prayer can {action} it.")


@transaction.atomic
def mark_prayed(*, acting_user: User, prayer: Prayer) -> Activity:
    """An "I prayed": a user may pray for a request many times, and each time is an event."""
    prayer = _lock(prayer)
    if prayer.is_archived:
        raise ValidationError("This request is archived; it can be prayed for again once it is restored.")
    return _record(acting_user=acting_user, prayer=prayer, kind=Kind.PRAYED)


@transaction.atomic
def mark_answered(*, acting_user: User, prayer: Prayer, testimony: str = "") -> Activity:
    prayer = _lock(prayer)
    _require_author(acting_user, prayer, "mark as answered")
    activity = _record(acting_user=acting_user, prayer=prayer, kind=Kind.ANSWERED)
    testimony = normalize_text(testimony)
    if testimony:
        _record(acting_user=acting_user, prayer=prayer, kind=Kind.TESTIMONY, text=testimony)
    return activity


@transaction.atomic
def archive_prayer(*, acting_user: User, prayer: Prayer) -> Activity:
    prayer = _lock(prayer)
    _require_author(acting_user, prayer, "archive")
    if prayer.is_archived:
        raise ValidationError("This request is already archived.")
    return _record(acting_user=acting_user, prayer=prayer, kind=Kind.ARCHIVED)


@transaction.atomic
def restore_prayer(*, acting_user: User, prayer: Prayer) -> Activity:
    prayer = _lock(prayer)
    _require_author(acting_user, prayer, "restore")
    if not prayer.is_archived:
        raise ValidationError("This request is not archived.")
    return _record(acting_user=acting_user, prayer=prayer, kind=Kind.RESTORED)


@transaction.atomic
def flag_prayer(*, acting_user: User, prayer: Prayer) -> Activity:
    """Ask staff to review a request; anyone may."""
    return _record(acting_user=acting_user, prayer=_lock(prayer), kind=Kind.FLAGGED)
