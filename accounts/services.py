"""Every write to accounts goes through these functions; each is one transaction."""

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import archive
from accounts.identity import username_key
from accounts.models import Invite, User

NAME_TAKEN = "That name is taken."


def _now():
    """Now, in whole seconds: the precision of the text archive, so a rebuild gives back the same values."""
    return timezone.now().replace(microsecond=0)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_invite(*, acting_user: User, expires_in: timedelta, max_uses: int) -> tuple[Invite, str]:
    """Create an invite and return it with its token; the token is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(24)
    invite = Invite.objects.create(
        created_by=acting_user,
        token_hash=hash_token(token),
        expires_at=_now() + expires_in,
        max_uses=max_uses,
    )
    archive.invite_created(invite=invite)
    return invite, token


@transaction.atomic
def revoke_invite(*, acting_user: User, invite: Invite) -> None:
    """End an invite now. Only its creator may."""
    if invite.created_by_id != acting_user.pk:
        raise ValidationError("Only the person who made an invite can revoke it.")
    now = _now()
    if Invite.objects.filter(pk=invite.pk, expires_at__gt=now).update(expires_at=now):
        archive.invite_revoked(invite=invite, by=acting_user, at=now)


class InviteUnusable(Exception):
    """A join link that cannot be used; `reason` is a sentence for the person holding it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def find_invite(token: str) -> Invite:
    """The usable invite behind a token, or InviteUnusable saying why not."""
    invite = Invite.objects.select_related("created_by").filter(token_hash=hash_token(token)).first()
    if invite is None:
        raise InviteUnusable("This invite link is not valid. Check that you copied all of it.")
    if invite.expires_at <= timezone.now():
        raise InviteUnusable("This invite link has expired. Ask the person who sent it for a new one.")
    if invite.uses >= invite.max_uses:
        raise InviteUnusable("This invite link has already been used. Ask the person who sent it for a new one.")
    return invite


@transaction.atomic
def sign_up(*, token: str, username: str, password: str) -> User:
    """Create a user from an invite link, with invited_by set to the invite's creator.

    The invite's use is claimed by a conditional UPDATE and the name by the unique username_key
    constraint, in one transaction: concurrent sign-ups with the same name or the last use of an
    invite have exactly one winner, and a loser changes nothing.
    """
    invite = find_invite(token)
    claimed = Invite.objects.filter(pk=invite.pk, uses__lt=F("max_uses"), expires_at__gt=timezone.now()).update(
        uses=F("uses") + 1
    )
    if not claimed:
        raise InviteUnusable("This invite link has already been used. Ask the person who sent it for a new one.")
    user = User(invited_by=invite.created_by, joined_via=invite, date_joined=_now())
    user.set_username(username)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        if User.objects.filter(username_key=username_key(username)).exists():
            raise ValidationError({"username": NAME_TAKEN}) from None
        raise
    archive.joined(user=user, invite_hash=invite.token_hash)
    return user


@transaction.atomic
def ensure_user(
    *,
    external_id: str,
    username: str,
    password: str | None = None,
    invited_by: User | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
    username_as_given: bool = False,
    phone_number: str = "",
) -> tuple[User, bool]:
    """The user with this external id, created if there is none; an existing user is never renamed.

    For imports and demo data. Raises ValidationError when the name belongs to a different user.
    `username_as_given` keeps the name's whitespace as it is (see User.set_username).
    """
    user = User(
        external_id=external_id,
        invited_by=invited_by,
        is_staff=is_staff,
        is_superuser=is_superuser,
        phone_number=phone_number,
        date_joined=_now(),
    )
    user.set_username(username, as_given=username_as_given)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        existing = User.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing, False
        if User.objects.filter(username_key=user.username_key).exists():
            raise ValidationError({"username": f"{username!r} ({external_id}): {NAME_TAKEN}"}) from None
        raise
    archive.created(user=user)
    return user, True


def archive_joined(*, user: User) -> None:
    """Archive a user created outside sign-up (the admin's add form)."""
    archive.created(user=user)


ARCHIVED_ROLES = {"is_staff": "staff", "is_superuser": "superuser"}


def archive_admin_changes(*, acting_user: User, user: User, before: dict) -> None:
    """Archive what a staff member changed on a user in the admin (name, inviter, roles, active state).

    The admin's change form saves the row itself (the one place plain edits are allowed); this writes
    the matching events, in the same transaction, so a rebuild from the archive has the same people.
    """
    if before.get("username") not in (None, user.username):
        archive.renamed(user=user, old_username=before["username"])
    if "invited_by" in before and before["invited_by"] != user.invited_by_id:
        archive.inviter_changed(user=user, by=acting_user)
    for attribute, role in ARCHIVED_ROLES.items():
        if attribute in before and before[attribute] != getattr(user, attribute):
            archive.role_changed(user=user, role=role, granted=getattr(user, attribute), by=acting_user)
    if "is_active" in before and before["is_active"] != user.is_active:
        archive.activity_changed(user=user, active=user.is_active, by=acting_user)


def archive_user_merge(*, survivor: User, losers: list[User], acting_user: User | None, undone: bool) -> None:
    """Archive a merge of users (or its undoing), inside the merge's transaction (integrity.merge calls it)."""
    for loser in losers:
        if not undone:
            archive.merged(user=loser, into=survivor, by=acting_user)
            continue
        invitees = User.objects.filter(invited_by=loser).values_list("external_id", flat=True)
        invites = Invite.objects.filter(created_by=loser).values_list("token_hash", flat=True)
        archive.unmerged(user=loser, invitees=list(invitees), invites=list(invites), by=acting_user)


@dataclass
class ReplayResult:
    changed: Counter = field(default_factory=Counter)  # what was created or changed, by event kind
    problems: list[tuple[int, str]] = field(default_factory=list)  # (index of the event, why it was not applied)


@transaction.atomic
def replay_account_events(*, events: list[tuple[datetime, str, dict]]) -> ReplayResult:
    """Bring users and invites to the state the archived account events describe (docs/archive-format.md).

    Idempotent: replaying the same events again changes nothing. The archive wins over the database for
    every field an event sets. An event that cannot apply (an unknown user, a name another user has) is
    returned as a problem, never guessed at.
    """
    result = ReplayResult()
    users = {u.external_id: u for u in User.objects.filter(external_id__in=_mentioned_ids(events))}
    invites = {i.token_hash: i for i in Invite.objects.filter(token_hash__in=_mentioned_invites(events))}
    for index, (at, event, data) in enumerate(events):
        try:
            _replay_one(at, event, data, users, invites, result)
        except ValidationError as error:
            result.problems.append((index, " ".join(error.messages)))
    _count_invite_uses(invites.values())
    return result


def _mentioned_ids(events) -> set[str]:
    return {data.get(key) for _, _, data in events for key in ("user", "by", "invited_by") if data.get(key)}


def _mentioned_invites(events) -> set[str]:
    return {data["invite"] for _, _, data in events if data.get("invite")}


def _user(users: dict, external_id: str | None, *, required: bool = True) -> User | None:
    if external_id is None and not required:
        return None
    if external_id not in users:
        raise ValidationError(f"no user with external id {external_id!r}")
    return users[external_id]


def _replay_one(at, event, data, users, invites, result) -> None:
    if event == "joined":
        if data["user"] in users:
            return
        user = User(
            external_id=data["user"], date_joined=at, invited_by=_user(users, data.get("invited_by"), required=False)
        )
        user.joined_via = invites.get(data.get("invite"))
        user.set_username(data["username"])
        user.set_unusable_password()
        _save_user(user, data)
        users[user.external_id] = user
        result.changed["joined"] += 1
    elif event == "renamed":
        user = _user(users, data["user"])
        if user.username != data["username"]:
            user.set_username(data["username"])
            _save_user(user, data, fields=["username", "username_key", "username_key_version"])
            result.changed["renamed"] += 1
    elif event == "inviter_changed":
        user, inviter = _user(users, data["user"]), _user(users, data.get("invited_by"), required=False)
        if user.invited_by_id != (inviter.pk if inviter else None):
            user.invited_by = inviter
            user.save(update_fields=["invited_by"])
            result.changed["inviter_changed"] += 1
    elif event == "role":
        user, field_name = _user(users, data["user"]), ROLE_FIELDS.get(data["role"])
        if field_name is None:
            raise ValidationError(f"unknown role {data['role']!r}")
        if getattr(user, field_name) != data["granted"]:
            setattr(user, field_name, data["granted"])
            user.save(update_fields=[field_name])
            result.changed["role"] += 1
    elif event in ("deactivated", "reactivated"):
        user = _user(users, data["user"])
        if user.is_active != (event == "reactivated"):
            user.is_active = event == "reactivated"
            user.save(update_fields=["is_active"])
            result.changed[event] += 1
    elif event in ("merged", "unmerged"):
        return  # merges move rows of every app: archives.rebuild.apply_merges replays them after the import
    elif event == "invite_created":
        if data["invite"] in invites:
            return
        invites[data["invite"]] = Invite.objects.create(
            created_by=_user(users, data["by"]),
            token_hash=data["invite"],
            expires_at=datetime.fromisoformat(data["expires_at"]),
            max_uses=data["max_uses"],
        )
        Invite.objects.filter(pk=invites[data["invite"]].pk).update(created_at=at)
        result.changed["invite_created"] += 1
    elif event == "invite_revoked":
        invite = invites.get(data["invite"])
        if invite is None:
            raise ValidationError(f"no invite {data['invite'][:12]}…")
        if Invite.objects.filter(pk=invite.pk, expires_at__gt=at).update(expires_at=at):
            result.changed["invite_revoked"] += 1
    else:
        raise ValidationError(f"unknown account event {event!r}")


ROLE_FIELDS = {"staff": "is_staff", "superuser": "is_superuser"}


def _save_user(user: User, data: dict, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError:
        raise ValidationError(f"{data['username']!r}: another user already has that name") from None


def _count_invite_uses(invites) -> None:
    """An invite's uses are the people who joined with it (never fewer than the database counted)."""
    for invite in invites:
        joined = User.objects.filter(joined_via=invite).count()
        Invite.objects.filter(pk=invite.pk, uses__lt=joined).update(uses=joined)
