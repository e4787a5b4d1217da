import pytest
from django.core.exceptions import ValidationError

from onboarding import services
from onboarding.analyzer import AnalysisResult
from onboarding.models import ApiKey, OnboardingSession, WebsiteAnalysis
from tests.onboarding.factories import ApiKeyFactory, OnboardingSessionFactory, WebsiteAnalysisFactory

pytestmark = pytest.mark.django_db

GEMINI = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrS" + "9x2Q"
PROFILE = {"writing_style": {"tone": "friendly"}, "style_patterns": {"x": 1}, "crawl_result": {"title": "Hi"}}


def test_get_session_creates_one_session_and_then_reuses_it(user):
    first = services.get_session(user=user)
    assert services.get_session(user=user) == first
    assert OnboardingSession.objects.filter(user=user).count() == 1


def test_save_api_key_replaces_the_key_of_a_provider_and_stores_it_encrypted(user):
    services.save_api_key(user=user, provider="Gemini ", key=GEMINI)
    replacement = "AIza" + "Z" * 31 + "1234"
    key = services.save_api_key(user=user, provider="gemini", key=replacement)
    assert ApiKey.objects.filter(session__user=user).count() == 1
    assert key.reveal() == replacement
    assert replacement not in ApiKey.objects.get().secret
    assert key.masked == "AIza…1234"


@pytest.mark.parametrize(
    ("provider", "key", "field"),
    [
        ("gemini", "sk-not-a-gemini-key-at-all", "key"),
        ("gemini", " " + GEMINI, "key"),
        ("exa", "not-a-uuid", "key"),
        ("nonsense", "whatever-123456", "provider"),
        ("mistral", "", "key"),
    ],
)
def test_save_api_key_rejects_a_malformed_key_naming_the_field(user, provider, key, field):
    with pytest.raises(ValidationError) as error:
        services.save_api_key(user=user, provider=provider, key=key)
    assert field in error.value.message_dict
    assert not ApiKey.objects.exists()


def test_remove_api_key_removes_only_the_users_own_key(user, other_user):
    ApiKeyFactory(session__user=user, provider="gemini")
    theirs = ApiKeyFactory(session__user=other_user, provider="gemini")
    assert services.remove_api_key(user=user, provider="gemini") is True
    assert services.remove_api_key(user=user, provider="gemini") is False
    assert list(ApiKey.objects.all()) == [theirs]


def test_record_analysis_updates_the_one_row_of_a_url_key(user):
    first = services.record_analysis(user=user, url="Example.com/", result=AnalysisResult(ok=True, fields=PROFILE))
    again = services.record_analysis(
        user=user, url="https://example.com", result=AnalysisResult(ok=True, fields={"writing_style": {"tone": "x"}})
    )
    assert again.pk == first.pk
    assert again.url == "https://example.com"
    assert again.writing_style == {"tone": "x"}
    assert WebsiteAnalysis.objects.count() == 1


def test_a_failed_fetch_is_stored_as_failed_with_its_reason(user):
    analysis = services.record_analysis(
        user=user, url="down.example.com", result=AnalysisResult.failed("The site answered HTTP 503.")
    )
    assert analysis.status == "failed"
    assert analysis.error == "The site answered HTTP 503."
    assert analysis.writing_style is None


def test_a_failed_fetch_never_hides_an_earlier_completed_analysis(user):
    completed = services.record_analysis(user=user, url="example.com", result=AnalysisResult(ok=True, fields=PROFILE))
    after = services.record_analysis(user=user, url="example.com/", result=AnalysisResult.failed("Timed out."))
    assert after.pk == completed.pk
    assert after.status == "completed"
    assert after.writing_style == {"tone": "friendly"}
    assert after.error == "Timed out."
    assert services.summary_for_user(user).website.pk == completed.pk


def test_a_completed_analysis_replaces_an_earlier_failure(user):
    services.record_analysis(user=user, url="example.com", result=AnalysisResult.failed("Timed out."))
    analysis = services.record_analysis(user=user, url="example.com", result=AnalysisResult(ok=True, fields=PROFILE))
    assert (analysis.status, analysis.error) == ("completed", "")


def test_find_existing_analysis_matches_by_url_key_and_only_for_the_user(user, other_user):
    mine = WebsiteAnalysisFactory(session__user=user, url="https://Example.com/")
    WebsiteAnalysisFactory(session__user=other_user, url="https://example.org")
    assert services.find_existing_analysis(user=user, url="EXAMPLE.com") == mine
    assert services.find_existing_analysis(user=user, url="example.org") is None


def test_use_analysis_refuses_another_users_analysis(user, other_user):
    theirs = WebsiteAnalysisFactory(session__user=other_user)
    with pytest.raises(WebsiteAnalysis.DoesNotExist):
        services.use_analysis(user=user, analysis_id=theirs.pk)


@pytest.mark.parametrize("raw", ["", "   ", "not a url", "localhost:99999", "https://"])
def test_clean_url_rejects_what_is_not_a_website(raw):
    with pytest.raises(ValidationError):
        services.clean_url(raw)


def test_steps_only_move_the_resume_point_forward(user):
    services.complete_step(user=user, step=3)
    services.complete_step(user=user, step=1)
    assert services.get_session(user=user).current_step == 4


def test_finish_marks_the_session_complete_once(user):
    first = services.finish_onboarding(user=user).completed_at
    assert first is not None
    assert services.finish_onboarding(user=user).completed_at == first
    assert services.get_session(user=user).current_step == 6


def test_generate_persona_reads_the_chosen_analysis_and_the_preferences(user):
    services.record_analysis(user=user, url="example.com", result=AnalysisResult(ok=True, fields=PROFILE))
    services.save_research_preferences(
        user=user, research_depth="Deep", content_types=["blog"], auto_research=True, factual_content=False
    )
    persona = services.generate_persona(user=user, selected_platforms=["linkedin", "blog"])
    assert persona.core_persona["tone"] == "friendly"
    assert persona.core_persona["research"]["depth"] == "Deep"
    assert set(persona.platform_personas) == {"linkedin", "blog"}
    assert persona.selected_platforms == ["linkedin", "blog"]


def test_save_persona_rejects_an_empty_core_persona(user):
    with pytest.raises(ValidationError):
        services.save_persona(user=user, core_persona={}, selected_platforms=[])


def test_summary_reads_everything_with_masked_keys(user):
    services.save_api_key(user=user, provider="gemini", key=GEMINI)
    services.record_analysis(user=user, url="example.com", result=AnalysisResult(ok=True, fields=PROFILE))
    services.save_integrations(user=user, platforms=["wordpress", "linkedin", "wordpress"])
    summary = services.summary_for_user(user).as_dict()
    assert summary["api_keys"] == {
        "count": 1,
        "providers": [{"provider": "gemini", "label": "Google Gemini", "masked": "AIza…9x2Q"}],
    }
    assert GEMINI not in str(summary)
    assert summary["website"]["url_key"] == "https://example.com"
    assert summary["integrations"] == ["linkedin", "wordpress"]


def test_summary_of_a_user_who_never_started_creates_nothing(user):
    assert services.summary_for_user(user).as_dict()["current_step"] == 1
    assert not OnboardingSession.objects.exists()


def test_a_session_belongs_to_one_user(user):
    session = OnboardingSessionFactory(user=user)
    assert services.get_session(user=user) == session
