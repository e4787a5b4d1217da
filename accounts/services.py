"""Every write to accounts goes through these functions; each is one transaction."""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import archive
from accounts.identity import username_key
from accounts.models import Invite, User

NAME_TAKEN = "That name is taken."


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_invite(*, acting_user: User, expires_in: timedelta, max_uses: int) -> tuple[Invite, str]:
    """Create an invite and return it with its token; the token is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(24)
    invite = Invite.objects.create(
        created_by=acting_user,
        token_hash=hash_token(token),
        expires_at=timezone.now() + expires_in,
        max_uses=max_uses,
    )
    archive.invite_created(invite=invite)
    return invite, token


@transaction.atomic
def revoke_invite(*, acting_user: User, invite: Invite) -> None:
    """End an invite now. Only its creator may."""
    if invite.created_by_id != acting_user.pk:
        raise ValidationError("Only the person who made an invite can revoke it.")
    if Invite.objects.filter(pk=invite.pk, expires_at__gt=timezone.now()).update(expires_at=timezone.now()):
        archive.invite_revoked(invite=invite, by=acting_user)


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
    user = User(invited_by=invite.created_by, joined_via=invite)
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
) -> tuple[User, bool]:
    """The user with this external id, created if there is none; an existing user is never renamed.

    For imports and demo data. Raises ValidationError when the name belongs to a different user.
    """
    user = User(external_id=external_id, invited_by=invited_by, is_staff=is_staff, is_superuser=is_superuser)
    user.set_username(username)
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
    archive.joined(user=user)
    return user, True


def archive_joined(*, user: User) -> None:
    """Archive a user created outside sign-up (the admin's add form, createsuperuser)."""
    archive.joined(user=user)


ARCHIVED_ROLES = {"is_staff": "staff", "is_superuser": "superuser"}


def archive_admin_changes(*, acting_user: User, user: User, before: dict) -> None:
    """Archive what a staff member changed on a user in the admin (names, roles, active state).

    The admin's change form saves the row itself (the one place plain edits are allowed); this writes
    the matching events, in the same transaction, so a rebuild from the archive has the same people.
    """
    if before.get("username") not in (None, user.username):
        archive.renamed(user=user, old_username=before["username"])
    for field, role in ARCHIVED_ROLES.items():
        if field in before and before[field] != getattr(user, field):
            archive.role_changed(user=user, role=role, granted=getattr(user, field), by=acting_user)
    if "is_active" in before and before["is_active"] != user.is_active:
        archive.activity_changed(user=user, active=user.is_active, by=acting_user)
