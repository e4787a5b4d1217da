import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Replace
from django.utils import timezone

from accounts.identity import KEY_VERSION, display_name, username_key

# Stored names: sign-up allows far fewer characters (accounts.forms), imports keep what the legacy data has
# (a ThyWill display name has no limit). 500 characters of a key stay within PostgreSQL's btree index limit.
STORED_USERNAME_MAX_LENGTH = 500
USERNAME_KEY_MAX_LENGTH = 500


def new_local_external_id() -> str:
    """The external id of a user who signed up here rather than through an identity provider."""
    return f"cairn:{uuid.uuid4()}"


class UserManager(DjangoUserManager):
    def _create_user(self, username, email, password, **extra_fields):
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_username(username)
        user.set_password(password)
        user.save(using=self._db)
        # createsuperuser and scripts come through here: archive the new user like any sign-up.
        from accounts import archive

        archive.created(user=user)
        return user

    def get_by_natural_key(self, username):
        # Log-in and createsuperuser find a user by key, so "MAX " signs in as "Max".
        return self.get(username_key=username_key(username))


class User(AbstractUser):
    """The one user model. Every other table points here by foreign key."""

    external_id = models.CharField(
        max_length=255,
        unique=True,
        default=new_local_external_id,
        help_text="The identity provider's id (e.g. user_2abc123xyz), or cairn:<uuid> for a local sign-up.",
    )
    username = models.CharField(
        max_length=STORED_USERNAME_MAX_LENGTH,
        unique=True,
        help_text="The display name, whitespace collapsed (sign-up also composes it to NFC; an import whose rules "
        "say so keeps it exactly as stored).",
        error_messages={"unique": "That name is taken."},
    )
    username_key = models.CharField(
        max_length=USERNAME_KEY_MAX_LENGTH,
        unique=True,
        editable=False,
        help_text="accounts.identity.username_key(username): one user per key.",
    )
    username_key_version = models.PositiveSmallIntegerField(default=KEY_VERSION, editable=False)
    invited_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invitees",
    )
    joined_via = models.ForeignKey(
        "accounts.Invite",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The invite this user signed up with.",
    )
    phone_number = models.TextField(
        blank=True,
        help_text="As a legacy system stored it (the conversations import's subcontractors): kept, not checked.",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        help_text="Set when this account was merged into another: a tombstone, so old ids and names still resolve.",
    )

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        permissions = [("merge_user", "Can merge users")]
        constraints = [
            models.CheckConstraint(condition=~Q(username_key=""), name="user_username_key_not_empty"),
            models.CheckConstraint(condition=~Q(invited_by=F("pk")), name="user_not_invited_by_self"),
            models.CheckConstraint(condition=~Q(merged_into=F("pk")), name="user_not_merged_into_self"),
        ]

    def __str__(self):
        return self.username

    def set_username(self, name: str, *, as_given: bool = False) -> None:
        """Set the display name and keep its key in step.

        The name's whitespace is collapsed, unless `as_given` (an import whose rules say "exactly as stored");
        the key is the same either way.
        """
        key = username_key(name)
        if not key:
            raise ValidationError({"username": "A name needs at least one visible character."})
        if len(key) > USERNAME_KEY_MAX_LENGTH or len(name) > STORED_USERNAME_MAX_LENGTH:
            raise ValidationError({"username": "That name is too long."})
        self.username = name if as_given else display_name(name)
        self.username_key = key
        self.username_key_version = KEY_VERSION

    def clean(self):
        # AbstractUser.clean() would NFKC the display name; Cairn keeps it as given and derives the key.
        self.email = self.__class__.objects.normalize_email(self.email)
        if self.username:
            self.set_username(self.username)


class Invite(models.Model):
    """An invite link. The token itself is shown once and never stored: only its SHA-256."""

    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(max_uses__gte=1), name="invite_max_uses_positive"),
            models.CheckConstraint(condition=Q(uses__lte=F("max_uses")), name="invite_uses_within_max"),
        ]

    def __str__(self):
        return f"Invite {self.pk} by {self.created_by}"

    @property
    def uses_left(self) -> int:
        return self.max_uses - self.uses

    @property
    def is_usable(self) -> bool:
        return self.uses_left > 0 and self.expires_at > timezone.now()


def possible_duplicates() -> models.QuerySet:
    """Users (not merged away) who share their name, spaces removed, with another such user: "Grace Lee" and
    "GraceLee". Staff review them in the admin (the "possible duplicates" filter) and merge those who are one."""
    squeezed = Replace("username_key", Value(" "), Value(""))
    standing = User._base_manager.filter(merged_into__isnull=True).annotate(squeezed=squeezed)
    shared = standing.values("squeezed").annotate(n=Count("pk")).filter(n__gt=1).values("squeezed")
    return standing.filter(squeezed__in=shared)
