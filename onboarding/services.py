"""Every read and write of onboarding data: each function takes the user and resolves the session from it.

Writes are one transaction each and rest on the models' unique constraints (get_or_create /
update_or_create, conditional updates), never on a check-then-insert. The slow part of a website
analysis (the fetch) runs before the transaction, so no lock is held while a remote site answers.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from onboarding import crypto, persona
from onboarding.analyzer import AnalysisResult, get_analyzer
from onboarding.models import (
    STEP_COUNT,
    STYLE_FIELDS,
    ApiKey,
    OnboardingSession,
    PersonaData,
    ResearchPreferences,
    WebsiteAnalysis,
)
from onboarding.normalize import url_key
from onboarding.providers import PROVIDERS, key_format_error, normalize_provider

# --- the session ----------------------------------------------------------------------------------------------


@transaction.atomic
def get_session(*, user: User) -> OnboardingSession:
    """The user's one session, created on first use (the OneToOne constraint keeps it to one)."""
    session, _ = OnboardingSession.objects.get_or_create(user=user)
    return session


def session_for_user(user: User) -> OnboardingSession:
    """Read-only: the user's session, or an unsaved fresh one (step 1) when they have not started."""
    return OnboardingSession.objects.filter(user=user).first() or OnboardingSession(user=user)


def _reach_step(session: OnboardingSession, step: int) -> None:
    """Move the resume point forward to `step` (never back): a conditional update, safe under races."""
    step = min(step, STEP_COUNT)
    if OnboardingSession.objects.filter(pk=session.pk, current_step__lt=step).update(
        current_step=step, updated_at=timezone.now()
    ):
        session.current_step = step


@transaction.atomic
def complete_step(*, user: User, step: int) -> OnboardingSession:
    """Record that the user finished `step`; the wizard resumes at the next one."""
    session = get_session(user=user)
    _reach_step(session, step + 1)
    return session


@transaction.atomic
def finish_onboarding(*, user: User) -> OnboardingSession:
    """Mark the session complete (the first Finish counts; a second one changes nothing)."""
    session = get_session(user=user)
    now = timezone.now()
    OnboardingSession.objects.filter(pk=session.pk, completed_at__isnull=True).update(
        completed_at=now, current_step=STEP_COUNT, updated_at=now
    )
    session.refresh_from_db()
    return session


# --- step 1: API keys -----------------------------------------------------------------------------------------


@sensitive_variables("key")
@transaction.atomic
def save_api_key(*, user: User, provider: str, key: str) -> ApiKey:
    """Add or replace the user's key for a provider; it is stored encrypted only."""
    provider = normalize_provider(provider)
    if provider not in PROVIDERS:
        raise ValidationError({"provider": f"Unknown provider {provider!r}."})
    error = key_format_error(provider, key)
    if error:
        raise ValidationError({"key": error})
    session = get_session(user=user)
    api_key, _ = ApiKey.objects.update_or_create(
        session=session, provider=provider, defaults={"secret": crypto.encrypt(key)}
    )
    return api_key


@transaction.atomic
def remove_api_key(*, user: User, provider: str) -> bool:
    """Remove the user's key for a provider; False when there was none."""
    deleted, _ = ApiKey.objects.filter(session__user=user, provider=normalize_provider(provider)).delete()
    return bool(deleted)


def api_keys_for_user(user: User):
    return ApiKey.objects.filter(session__user=user).order_by("provider")


def reveal_api_key(*, user: User, provider: str) -> str | None:
    """The user's own key for `provider`, decrypted, for a call made on their behalf; None when they have none.

    Never log or display it: show `ApiKey.masked` instead.
    """
    key = ApiKey.objects.filter(session__user=user, provider=normalize_provider(provider)).first()
    return key.reveal() if key is not None else None


# --- step 2: website ------------------------------------------------------------------------------------------


URL_MAX_LENGTH = 2000


def clean_url(raw: str) -> str:
    """The url_key of a URL typed by a user, or ValidationError saying what is wrong with it."""
    if not raw or not raw.strip():
        raise ValidationError("Enter your website's address.")
    key = url_key(raw)
    try:
        parts = urlsplit(key)
        hostname, _ = parts.hostname, parts.port  # .port raises ValueError for a bad port
    except ValueError:
        hostname = None
    if len(key) > URL_MAX_LENGTH:
        raise ValidationError(f"That address is too long (at most {URL_MAX_LENGTH} characters).")
    plausible = hostname and ("." in hostname or ":" in hostname or hostname == "localhost")
    if not plausible or any(ch.isspace() for ch in key):
        raise ValidationError(f"{raw.strip()!r} is not a website address (e.g. example.com).")
    return key


def analyses_for_user(user: User):
    """The user's live analyses, newest first."""
    return WebsiteAnalysis.objects.live().filter(session__user=user).order_by("-updated_at", "-pk")


def get_analysis_for_user(*, user: User, analysis_id: int) -> WebsiteAnalysis:
    """The user's analysis with this id; WebsiteAnalysis.DoesNotExist for anyone else's."""
    return analyses_for_user(user).get(pk=analysis_id)


def find_existing_analysis(*, user: User, url: str) -> WebsiteAnalysis | None:
    """'Check existing': the user's analysis of the same url_key, if there is one."""
    return analyses_for_user(user).filter(url_key=url_key(url)).first()


def analyze_website(*, user: User, url: str, analyzer=None) -> WebsiteAnalysis:
    """Fetch and analyze a website, then store the result (see record_analysis). Never raises for a failed
    fetch: the failure is stored and returned as a `failed` analysis (or on the completed one it leaves alone)."""
    key = clean_url(url)
    result = (analyzer or get_analyzer()).analyze(key)
    return record_analysis(user=user, url=url.strip(), result=result)


@transaction.atomic
def record_analysis(*, user: User, url: str, result: AnalysisResult) -> WebsiteAnalysis:
    """Store an analysis result on the one live row of (session, url_key).

    A completed result replaces the profile. A failed one is recorded as the row's error; it makes the row
    `failed` only when there is no completed profile to keep: a failure never hides an earlier success.
    """
    session = get_session(user=user)
    key = url_key(url)
    now = timezone.now()
    if result.ok:
        values = {field: result.fields.get(field) for field in STYLE_FIELDS}
        analysis, _ = WebsiteAnalysis.objects.update_or_create(
            session=session,
            url_key=key,
            merged_into=None,
            defaults={
                "url": url,
                "status": WebsiteAnalysis.Status.COMPLETED,
                "error": "",
                "last_attempt_at": now,
                "analyzed_at": now,
                **values,
            },
        )
    else:
        analysis, created = WebsiteAnalysis.objects.select_for_update().get_or_create(
            session=session,
            url_key=key,
            merged_into=None,
            defaults={
                "url": url,
                "status": WebsiteAnalysis.Status.FAILED,
                "error": result.error,
                "last_attempt_at": now,
            },
        )
        if not created:
            # Only the error fields: the completed profile (and its status) stay as they were.
            WebsiteAnalysis.objects.filter(pk=analysis.pk).update(
                error=result.error, last_attempt_at=now, updated_at=now
            )
            analysis.refresh_from_db()
    if analysis.is_completed:
        OnboardingSession.objects.filter(pk=session.pk).update(website=analysis, updated_at=now)
    return analysis


@transaction.atomic
def use_analysis(*, user: User, analysis_id: int) -> WebsiteAnalysis:
    """'Use previous': choose one of the user's own analyses for the rest of the wizard."""
    analysis = get_analysis_for_user(user=user, analysis_id=analysis_id)
    session = get_session(user=user)
    OnboardingSession.objects.filter(pk=session.pk).update(website=analysis, updated_at=timezone.now())
    return analysis


@transaction.atomic
def save_business_description(*, user: User, description: str) -> OnboardingSession:
    """The 'no website' path: a description of the business instead of a site to analyze."""
    description = description.strip()
    if not description:
        raise ValidationError({"description": "Describe your business in a sentence or two."})
    session = get_session(user=user)
    OnboardingSession.objects.filter(pk=session.pk).update(business_description=description, updated_at=timezone.now())
    session.business_description = description
    return session


def chosen_analysis(session: OnboardingSession) -> WebsiteAnalysis | None:
    """The analysis the wizard builds on: the one chosen in step 2, else the newest completed one."""
    if session.website_id:
        chosen = WebsiteAnalysis.objects.live().filter(pk=session.website_id, session=session).first()
        if chosen is not None:
            return chosen
    return (
        WebsiteAnalysis.objects.live()
        .filter(session=session, status=WebsiteAnalysis.Status.COMPLETED)
        .order_by("-updated_at", "-pk")
        .first()
    )


# --- step 3: research preferences -----------------------------------------------------------------------------


@transaction.atomic
def save_research_preferences(
    *, user: User, research_depth: str, content_types: list[str], auto_research: bool, factual_content: bool
) -> ResearchPreferences:
    if research_depth not in ResearchPreferences.Depth.values:
        raise ValidationError({"research_depth": f"Choose one of {', '.join(ResearchPreferences.Depth.values)}."})
    session = get_session(user=user)
    preferences, _ = ResearchPreferences.objects.update_or_create(
        session=session,
        defaults={
            "research_depth": research_depth,
            "content_types": list(content_types),
            "auto_research": auto_research,
            "factual_content": factual_content,
        },
    )
    return preferences


# --- step 4: persona ------------------------------------------------------------------------------------------


@transaction.atomic
def generate_persona(*, user: User, selected_platforms: list[str]) -> PersonaData:
    """Build the persona from the chosen analysis (or the business description) and the preferences."""
    session = get_session(user=user)
    analysis = chosen_analysis(session)
    preferences = ResearchPreferences.objects.filter(session=session).first()
    built = persona.build_persona(
        analysis={f: getattr(analysis, f) for f in STYLE_FIELDS} if analysis and analysis.is_completed else None,
        preferences=preferences,
        description=session.business_description,
        platforms=selected_platforms,
    )
    return _store_persona(session, built)


@transaction.atomic
def save_persona(
    *,
    user: User,
    core_persona: dict,
    selected_platforms: list[str],
    platform_personas: dict | None = None,
    quality_metrics: dict | None = None,
) -> PersonaData:
    """Store the user's edits of their persona."""
    if not isinstance(core_persona, dict) or not core_persona:
        raise ValidationError({"core_persona": "The core persona must be a non-empty JSON object."})
    session = get_session(user=user)
    existing = PersonaData.objects.filter(session=session).first()
    if platform_personas is None:
        platform_personas = persona.platform_personas(core_persona, selected_platforms, existing)
    if quality_metrics is None:
        quality_metrics = persona.quality_metrics(core_persona, selected_platforms, edited=True)
    return _store_persona(
        session,
        {
            "core_persona": core_persona,
            "platform_personas": platform_personas,
            "quality_metrics": quality_metrics,
            "selected_platforms": list(selected_platforms),
        },
    )


def _store_persona(session: OnboardingSession, values: dict) -> PersonaData:
    data, _ = PersonaData.objects.update_or_create(session=session, defaults=values)
    return data


# --- step 5: integrations -------------------------------------------------------------------------------------


@transaction.atomic
def save_integrations(*, user: User, platforms: list[str]) -> OnboardingSession:
    session = get_session(user=user)
    platforms = sorted(set(platforms))
    OnboardingSession.objects.filter(pk=session.pk).update(integrations=platforms, updated_at=timezone.now())
    session.integrations = platforms
    return session


# --- step 6: summary ------------------------------------------------------------------------------------------


@dataclass
class Summary:
    """Everything the wizard collected, read from the database (step 6, the API, verify_onboarding)."""

    session: OnboardingSession
    keys: list[dict]
    website: WebsiteAnalysis | None
    analyses_count: int
    preferences: ResearchPreferences | None
    persona: PersonaData | None

    def as_dict(self) -> dict:
        website = self.website
        return {
            "user": self.session.user.external_id,
            "current_step": self.session.current_step,
            "completed": self.session.is_completed,
            "completed_at": self.session.completed_at.isoformat() if self.session.completed_at else None,
            "api_keys": {"count": len(self.keys), "providers": self.keys},
            "website": analysis_as_dict(website) if website else None,
            "business_description": self.session.business_description,
            "analyses_count": self.analyses_count,
            "research_preferences": (
                {
                    "research_depth": self.preferences.research_depth,
                    "content_types": self.preferences.content_types,
                    "auto_research": self.preferences.auto_research,
                    "factual_content": self.preferences.factual_content,
                }
                if self.preferences
                else None
            ),
            "persona": (
                {
                    "core_persona": self.persona.core_persona,
                    "platform_personas": self.persona.platform_personas,
                    "quality_metrics": self.persona.quality_metrics,
                    "selected_platforms": self.persona.selected_platforms,
                }
                if self.persona
                else None
            ),
            "integrations": self.session.integrations,
        }


def summary_for_user(user: User) -> Summary:
    """Read-only: a user who never started gets an empty summary, and nothing is created."""
    session = OnboardingSession.objects.select_related("user").filter(user=user).first()
    if session is None:
        session = OnboardingSession(user=user)
        return Summary(session=session, keys=[], website=None, analyses_count=0, preferences=None, persona=None)
    keys = [
        {
            "provider": k.provider,
            "label": PROVIDERS[k.provider].label if k.provider in PROVIDERS else k.provider,
            "masked": k.masked,
        }
        for k in ApiKey.objects.filter(session=session).order_by("provider")
    ]
    return Summary(
        session=session,
        keys=keys,
        website=chosen_analysis(session),
        analyses_count=WebsiteAnalysis.objects.live().filter(session=session).count(),
        preferences=ResearchPreferences.objects.filter(session=session).first(),
        persona=PersonaData.objects.filter(session=session).first(),
    )


def analysis_as_dict(analysis: WebsiteAnalysis) -> dict:
    return {
        "id": analysis.pk,
        "url": analysis.url,
        "url_key": analysis.url_key,
        "status": analysis.status,
        "error": analysis.error,
        "analyzed_at": analysis.analyzed_at.isoformat() if analysis.analyzed_at else None,
        "updated_at": analysis.updated_at.isoformat() if analysis.updated_at else None,
        **{field: getattr(analysis, field) for field in STYLE_FIELDS},
    }


def reached_step(session: OnboardingSession) -> int:
    return STEP_COUNT if session.is_completed else session.current_step
