"""Every kind of relation to a user the merge engine must find, and every kind of conflict it must resolve."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

USER = settings.AUTH_USER_MODEL


class Workspace(models.Model):
    """One per user (one-to-one), mergeable itself: a conflict is merged record into record."""

    owner = models.OneToOneField(USER, on_delete=models.PROTECT, related_name="workspace")
    title = models.CharField(max_length=50, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self):
        return f"workspace of {self.owner_id}"


class Doc(models.Model):
    """Belongs to a workspace; a slug is unique per workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="docs")
    slug = models.CharField(max_length=50)
    body = models.TextField(blank=True)
    words = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="doc_slug_per_workspace")]

    def __str__(self):
        return self.slug


class Club(models.Model):
    name = models.CharField(max_length=50)
    members = models.ManyToManyField(USER, through="Membership", related_name="clubs")
    followers = models.ManyToManyField(USER, related_name="followed_clubs")  # an auto through table

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A custom through table with its own data and a unique pair."""

    club = models.ForeignKey(Club, on_delete=models.CASCADE)
    person = models.ForeignKey(USER, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["club", "person"], name="one_membership_per_club")]

    def __str__(self):
        return f"{self.person_id} in {self.club_id}"


class Chat(models.Model):
    """At most one active chat per user: a partial unique constraint."""

    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, default="active")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(status="active"), name="one_active_chat_per_user")
        ]

    def __str__(self):
        return f"chat {self.pk} ({self.status})"


class Note(models.Model):
    """Points at anything through a generic foreign key."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=40)
    target = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=100)

    def __str__(self):
        return self.text
