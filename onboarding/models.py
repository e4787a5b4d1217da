"""One onboarding session per user and what the six wizard steps collect.

Every child row hangs off the session (never off a hash of an id or a legacy session id), and each
"one per …" rule is a database constraint: one session per user, one key per (session, provider), one live
analysis per (session, url_key), one preferences row and one persona per session.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from onboarding import crypto

STEP_COUNT = 6
STEP_TITLES = {
    1: "API keys",
    2: "Website",
    3: "Research preferences",
    4: "Persona",
    5: "Integrations",
    6: "Summary",
}


class OnboardingSession(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="onboarding")
    current_step = models.PositiveSmallIntegerField(default=1, help_text="The step the wizard resumes at (1–6).")
    completed_at = models.DateTimeField(null=True, blank=True)
    business_description = models.TextField(blank=True, help_text="The 'no website' path of step 2.")
    website = models.ForeignKey(
        "onboarding.WebsiteAnalysis",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The analysis the user chose in step 2 (else the newest completed one is used).",
    )
    integrations = models.JSONField(default=list, blank=True, help_text="Platforms the user means to connect.")
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Set when this session was merged into another (its user's merge): the row is kept.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("merge_onboardingsession", "Can merge onboarding sessions")]
        constraints = [
            models.CheckConstraint(
                condition=Q(current_step__gte=1, current_step__lte=STEP_COUNT), name="onboarding_step_in_range"
            ),
        ]

    def __str__(self):
        return f"Onboarding of {self.user}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class ApiKey(models.Model):
    """A provider key, stored only as a Fernet token (onboarding.crypto); shown masked."""

    session = models.ForeignKey(OnboardingSession, on_delete=models.CASCADE, related_name="api_keys")
    provider = models.CharField(max_length=64)
    secret = models.TextField(help_text="Fernet token of the key (CAIRN_FERNET_KEYS).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]
        constraints = [
            models.UniqueConstraint(fields=["session", "provider"], name="onboarding_one_key_per_provider"),
        ]

    def __str__(self):
        return f"{self.provider} key of {self.session.user}"

    def __repr__(self):
        return f"<ApiKey {self.pk} {self.provider}>"  # never the secret

    def reveal(self) -> str:
        """The plaintext key; raises crypto.InvalidToken when the key ring cannot open it."""
        return crypto.decrypt(self.secret)

    @property
    def masked(self) -> str:
        try:
            return crypto.mask(self.reveal())
        except crypto.InvalidToken:
            return "(cannot decrypt with the current keys)"


STYLE_FIELDS = [
    "writing_style",
    "content_characteristics",
    "target_audience",
    "content_type",
    "recommended_settings",
    "crawl_result",
    "style_patterns",
    "style_guidelines",
]


class WebsiteAnalysisQuerySet(models.QuerySet):
    def live(self):
        """Analyses not merged into another one (merged ones are kept as tombstones, see merged_into)."""
        return self.filter(merged_into__isnull=True)


class WebsiteAnalysis(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    session = models.ForeignKey(OnboardingSession, on_delete=models.CASCADE, related_name="analyses")
    url = models.CharField(max_length=2000, help_text="The URL as the user (or the legacy row) wrote it.")
    url_key = models.CharField(max_length=2000, help_text="onboarding.normalize.url_key(url).")
    status = models.CharField(max_length=20, choices=Status)
    error = models.TextField(blank=True, help_text="Why the last analysis of this URL failed, if it did.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True, help_text="When the stored profile was computed.")
    writing_style = models.JSONField(null=True, blank=True)
    content_characteristics = models.JSONField(null=True, blank=True)
    target_audience = models.JSONField(null=True, blank=True)
    content_type = models.JSONField(null=True, blank=True)
    recommended_settings = models.JSONField(null=True, blank=True)
    crawl_result = models.JSONField(null=True, blank=True)
    style_patterns = models.JSONField(null=True, blank=True)
    style_guidelines = models.JSONField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
        help_text="Set when heal folded this duplicate into another analysis; the row is kept, not deleted.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebsiteAnalysisQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "website analyses"
        ordering = ["-updated_at", "-pk"]
        permissions = [("merge_websiteanalysis", "Can merge website analyses")]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "url_key"],
                condition=Q(merged_into__isnull=True),
                name="onboarding_one_live_analysis_per_url_key",
            ),
            models.CheckConstraint(condition=~Q(url_key=""), name="onboarding_url_key_not_empty"),
        ]

    def __str__(self):
        return f"{self.url} ({self.status})"

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED


class ResearchPreferences(models.Model):
    class Depth(models.TextChoices):
        BASIC = "Basic", "Basic"
        STANDARD = "Standard", "Standard"
        DEEP = "Deep", "Deep"
        COMPREHENSIVE = "Comprehensive", "Comprehensive"

    session = models.OneToOneField(OnboardingSession, on_delete=models.CASCADE, related_name="research_preferences")
    # Not limited to Depth at the database level: imported ALwrity values are kept as they were.
    research_depth = models.CharField(max_length=50)
    content_types = models.JSONField(default=list, blank=True)
    auto_research = models.BooleanField(null=True, blank=True)
    factual_content = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "research preferences"

    def __str__(self):
        return f"Research preferences of {self.session.user}"


class PersonaData(models.Model):
    session = models.OneToOneField(OnboardingSession, on_delete=models.CASCADE, related_name="persona")
    core_persona = models.JSONField(null=True, blank=True)
    platform_personas = models.JSONField(null=True, blank=True)
    quality_metrics = models.JSONField(null=True, blank=True)
    selected_platforms = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "persona data"

    def __str__(self):
        return f"Persona of {self.session.user}"
