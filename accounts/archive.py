"""Account events in the text archive: everything about people that is state (docs/archive-format.md).

Each function appends one line to `users/<YYYY>_<MM>_users.txt` for the event's UTC month. Callers run them
inside their transaction, before it commits: if the archive cannot be written, the change fails too.
Users are named by external_id; secrets are never written (an invite appears only as its token's SHA-256).
"""

from datetime import UTC, datetime

from django.utils import timezone

from lib import archive_files


def _append(*, at: datetime, human: str, data: dict) -> None:
    month = at.astimezone(UTC)
    archive_files.append_creating(
        f"users/{month:%Y_%m}_users.txt",
        header=f"User Registrations for {month:%B %Y}\n\n",
        text=archive_files.render_line(at=at, human=human, data=data),
    )


def _id(user) -> str | None:
    return user.external_id if user is not None else None


def joined(*, user, invite_hash: str | None = None) -> None:
    inviter = user.invited_by
    human = (
        f"{user.username} joined on invitation from {inviter.username}"
        if inviter
        else f"{user.username} joined directly"
    )
    _append(
        at=user.date_joined,
        human=human,
        data={
            "event": "joined",
            "user": user.external_id,
            "username": user.username,
            "invited_by": _id(inviter),
            "invite": invite_hash,
        },
    )


def created(*, user, invite_hash: str | None = None) -> None:
    """A new user: `joined`, then a `role` event for each role it was created with (createsuperuser, demo)."""
    joined(user=user, invite_hash=invite_hash)
    for attribute, role in (("is_staff", "staff"), ("is_superuser", "superuser")):
        if getattr(user, attribute):
            role_changed(user=user, role=role, granted=True, at=user.date_joined)


def renamed(*, user, old_username: str, at: datetime | None = None) -> None:
    _append(
        at=at or timezone.now(),
        human=f"{old_username} is now called {user.username}",
        data={"event": "renamed", "user": user.external_id, "username": user.username},
    )


def inviter_changed(*, user, by=None, at: datetime | None = None) -> None:
    inviter = user.invited_by
    actor = by.username if by else "An administrator"
    now = f"invited by {inviter.username}" if inviter else "joined directly"
    _append(
        at=at or timezone.now(),
        human=f"{actor} recorded that {user.username} {now}",
        data={"event": "inviter_changed", "user": user.external_id, "invited_by": _id(inviter), "by": _id(by)},
    )


def role_changed(*, user, role: str, granted: bool, by=None, at: datetime | None = None) -> None:
    actor = by.username if by else "An administrator"
    human = f"{actor} made {user.username} {role}" if granted else f"{actor} removed {user.username}'s {role} role"
    _append(
        at=at or timezone.now(),
        human=human,
        data={"event": "role", "user": user.external_id, "role": role, "granted": granted, "by": _id(by)},
    )


def activity_changed(*, user, active: bool, by=None, at: datetime | None = None) -> None:
    event = "reactivated" if active else "deactivated"
    actor = by.username if by else "An administrator"
    _append(
        at=at or timezone.now(),
        human=f"{actor} {event} {user.username}",
        data={"event": event, "user": user.external_id, "by": _id(by)},
    )


def invite_created(*, invite) -> None:
    people = "person" if invite.max_uses == 1 else "people"
    _append(
        at=invite.created_at,
        human=f"{invite.created_by.username} created an invite for {invite.max_uses} {people}",
        data={
            "event": "invite_created",
            "invite": invite.token_hash,
            "by": invite.created_by.external_id,
            "expires_at": invite.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_uses": invite.max_uses,
        },
    )


def merged(*, user, into, by=None, at: datetime | None = None) -> None:
    """`user` was merged into `into`: a tombstone now; whom it invited and its invites are `into`'s."""
    actor = by.username if by else "An administrator"
    _append(
        at=at or timezone.now(),
        human=f"{actor} merged {user.username} into {into.username}",
        data={"event": "merged", "user": user.external_id, "into": into.external_id, "by": _id(by)},
    )


def unmerged(*, user, invitees: list[str], invites: list[str], by=None, at: datetime | None = None) -> None:
    """A merge of `user` was undone: it stands on its own again, with the people it invited and its invites."""
    actor = by.username if by else "An administrator"
    _append(
        at=at or timezone.now(),
        human=f"{actor} undid the merge of {user.username}",
        data={
            "event": "unmerged",
            "user": user.external_id,
            "is_active": user.is_active,
            "invitees": sorted(invitees),
            "invites": sorted(invites),
            "by": _id(by),
        },
    )


def invite_revoked(*, invite, by, at: datetime | None = None) -> None:
    _append(
        at=at or timezone.now(),
        human=f"{by.username} revoked an invite",
        data={"event": "invite_revoked", "invite": invite.token_hash, "by": by.external_id},
    )
