from django.conf import settings
from django.db import models
from django.db.models import Count, Q


class PrayerQuerySet(models.QuerySet):
    def _listed(self):
        """Newest first, with the author and how many times people prayed."""
        return (
            self.select_related("author")
            .annotate(prayed_count=Count("activities", filter=Q(activities__kind=Activity.Kind.PRAYED)))
            .order_by("-submitted_at", "-pk")
        )

    def on_the_wall(self):
        """Active requests."""
        return self.filter(is_archived=False)._listed()

    def archived_by(self, user):
        """A user's own archived requests."""
        return self.filter(author=user, is_archived=True)._listed()


class Prayer(models.Model):
    """A prayer request. is_answered, is_archived and testimony are derived from its activity."""

    archive_id = models.CharField(max_length=64, unique=True, help_text="The id in the text archive.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="prayers"
    )
    request = models.TextField()
    generated_prayer = models.TextField(blank=True)
    submitted_at = models.DateTimeField()
    is_answered = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    testimony = models.TextField(blank=True)
    archive_path = models.CharField(
        max_length=500, blank=True, help_text="The prayer's file, relative to CAIRN_ARCHIVE_ROOT."
    )

    objects = PrayerQuerySet.as_manager()

    class Meta:
        indexes = [
            # The wall: active requests, newest first.
            models.Index(fields=["is_archived", "-submitted_at"], name="prayer_wall"),
        ]

    def __str__(self):
        return f"Prayer {self.archive_id} by {self.author or 'unknown'}"


class Activity(models.Model):
    """One thing someone did to a prayer. Prayer state is derived from these rows."""

    class Kind(models.TextChoices):
        PRAYED = "prayed", "prayed"
        ANSWERED = "answered", "marked answered"
        TESTIMONY = "testimony", "added a testimony"
        ARCHIVED = "archived", "archived"
        RESTORED = "restored", "restored"
        FLAGGED = "flagged", "flagged"

    prayer = models.ForeignKey(Prayer, on_delete=models.PROTECT, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    at = models.DateTimeField()
    text = models.TextField(blank=True, help_text="The testimony, for testimony events.")

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["at", "pk"]
        indexes = [
            # A prayer's page and state derivation read its events in time order.
            models.Index(fields=["prayer", "at"], name="activity_prayer_at"),
            # The wall counts "prayed" events per prayer.
            models.Index(fields=["prayer", "kind"], name="activity_prayer_kind"),
        ]

    def __str__(self):
        return f"{self.actor or 'unknown'} {self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"
