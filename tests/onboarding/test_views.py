import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from onboarding import services
from onboarding.models import ApiKey, OnboardingSession, WebsiteAnalysis
from tests.onboarding.factories import (
    ApiKeyFactory,
    OnboardingSessionFactory,
    PersonaDataFactory,
    ResearchPreferencesFactory,
    WebsiteAnalysisFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_analyzer")]

GEMINI = "AIza" + "ViewTestKeyViewTestKeyViewTest" + "K" + "9x2Q"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def at_step(user, step):
    return OnboardingSessionFactory(user=user, current_step=step)


def test_the_wizard_requires_login(client):
    response = client.get("/onboarding/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_a_new_user_starts_at_step_one_and_nothing_is_created_by_looking(alice):
    response = alice.get("/onboarding/")
    assert response["Location"] == "/onboarding/step/1/"
    page = alice.get("/onboarding/step/1/")
    assert page.status_code == 200
    assert b"Step 1 of 6" in page.content
    assert b"<progress" in page.content
    assert not OnboardingSession.objects.exists()


def test_the_wizard_resumes_where_the_user_left_off(alice, user):
    at_step(user, 4)
    assert alice.get("/onboarding/")["Location"] == "/onboarding/step/4/"


def test_a_step_not_reached_yet_redirects_to_the_current_one(alice, user):
    at_step(user, 2)
    response = alice.get("/onboarding/step/5/")
    assert response["Location"] == "/onboarding/step/2/"
    assert alice.get("/onboarding/step/9/").status_code == 404


def test_saving_a_key_shows_it_masked_and_never_in_plaintext(alice, user):
    response = alice.post("/onboarding/step/1/", {"action": "save", "provider": "gemini", "key": GEMINI})
    assert response.status_code == 302
    assert messages_of(response) == ["Saved your Google Gemini key (AIza…9x2Q)."]
    page = alice.get("/onboarding/step/1/").content.decode()
    assert "AIza…9x2Q" in page
    assert GEMINI not in page
    assert ApiKey.objects.get().reveal() == GEMINI


def test_a_malformed_key_is_a_field_error(alice):
    response = alice.post("/onboarding/step/1/", {"action": "save", "provider": "exa", "key": "nope"})
    assert response.status_code == 200
    assert "does not look like a Exa key" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_next_needs_a_key_then_moves_to_step_two(alice, user):
    response = alice.post("/onboarding/step/1/", {"action": "next"})
    assert messages_of(response) == ["Add at least one API key to continue."]
    ApiKeyFactory(session=services.get_session(user=user))
    assert alice.post("/onboarding/step/1/", {"action": "next"})["Location"] == "/onboarding/step/2/"


def test_removing_a_key_removes_only_ones_own(alice, user, other_user):
    ApiKeyFactory(session__user=user, provider="gemini")
    theirs = ApiKeyFactory(session__user=other_user, provider="exa")
    alice.post("/onboarding/keys/exa/remove/")
    alice.post("/onboarding/keys/gemini/remove/")
    assert list(ApiKey.objects.all()) == [theirs]


def test_analyzing_a_site_stores_it_and_offers_use_previous_the_second_time(alice, user):
    at_step(user, 2)
    response = alice.post("/onboarding/step/2/", {"action": "analyze", "url": "Bakery.example/"})
    assert messages_of(response) == ["Analyzed Bakery.example/."]
    analysis = WebsiteAnalysis.objects.get()
    assert (analysis.url_key, analysis.status) == ("https://bakery.example", "completed")
    again = alice.post("/onboarding/step/2/", {"action": "analyze", "url": "https://bakery.example"})
    page = again.content.decode()
    assert "Use previous" in page
    assert "Analyze again" in page
    alice.post("/onboarding/step/2/", {"action": "analyze", "url": "https://bakery.example", "again": "1"})
    assert WebsiteAnalysis.objects.count() == 1


def test_a_failed_analysis_is_shown_with_its_reason(alice, user):
    at_step(user, 2)
    response = alice.post("/onboarding/step/2/", {"action": "analyze", "url": "fail.example"})
    assert messages_of(response) == ["Could not analyze fail.example: The site answered HTTP 503."]
    assert WebsiteAnalysis.objects.get().status == "failed"
    assert "The site answered HTTP 503." in alice.get("/onboarding/step/2/").content.decode()


def test_an_invalid_url_is_a_field_error(alice, user):
    at_step(user, 2)
    response = alice.post("/onboarding/step/2/", {"action": "analyze", "url": "not a site"})
    assert response.status_code == 200
    assert "is not a website address" in response.content.decode()


def test_the_no_website_path_takes_a_description(alice, user):
    at_step(user, 2)
    response = alice.post("/onboarding/step/2/", {"action": "describe", "description": "We fix bikes in Leeds."})
    assert response["Location"] == "/onboarding/step/3/"
    assert services.get_session(user=user).business_description == "We fix bikes in Leeds."


def test_preferences_are_validated_and_saved(alice, user):
    at_step(user, 3)
    bad = alice.post("/onboarding/step/3/", {"research_depth": "Extreme"})
    assert bad.status_code == 200
    assert b"Select a valid choice" in bad.content
    good = alice.post("/onboarding/step/3/", {"research_depth": "Deep", "content_types": ["News"]})
    assert good["Location"] == "/onboarding/step/4/"
    assert services.summary_for_user(user).preferences.research_depth == "Deep"


def test_the_persona_is_built_then_edited(alice, user):
    at_step(user, 4)
    alice.post("/onboarding/step/4/", {"action": "generate", "selected_platforms": ["linkedin"]})
    assert services.summary_for_user(user).persona.selected_platforms == ["linkedin"]
    bad = alice.post("/onboarding/step/4/", {"action": "save", "selected_platforms": ["x"], "core_persona": "[1"})
    assert "This is not valid JSON" in bad.content.decode()
    good = alice.post(
        "/onboarding/step/4/", {"action": "save", "selected_platforms": ["x"], "core_persona": '{"tone": "dry"}'}
    )
    assert good["Location"] == "/onboarding/step/5/"
    persona = services.summary_for_user(user).persona
    assert (persona.core_persona, persona.selected_platforms) == ({"tone": "dry"}, ["x"])


def test_integrations_are_optional(alice, user):
    at_step(user, 5)
    assert alice.post("/onboarding/step/5/", {})["Location"] == "/onboarding/step/6/"


def test_the_summary_reads_the_database_and_finish_completes_the_session(alice, client_for, user):
    session = at_step(user, 6)
    ApiKeyFactory(session=session, plaintext=GEMINI)
    WebsiteAnalysisFactory(session=session, url="https://bakery.example")
    ResearchPreferencesFactory(session=session)
    PersonaDataFactory(session=session, selected_platforms=["blog"])
    page = alice.get("/onboarding/step/6/").content.decode()
    for text in ["AIza…9x2Q", "https://bakery.example", "Deep research", "for blog"]:
        assert text in page
    assert GEMINI not in page
    response = alice.post("/onboarding/step/6/")
    assert messages_of(response) == ["Onboarding complete. Welcome aboard!"]
    assert services.get_session(user=user).is_completed
    fresh = client_for(user).get("/onboarding/", follow=True)  # a fresh browser
    assert fresh.redirect_chain[-1][0] == "/onboarding/step/6/"
    assert "AIza…9x2Q" in fresh.content.decode()
    assert "Completed on" in fresh.content.decode()


def test_another_users_analysis_is_a_404_on_every_page(alice, other_user):
    theirs = WebsiteAnalysisFactory(session__user=other_user)
    assert alice.get(f"/onboarding/analyses/{theirs.pk}/").status_code == 404
    assert alice.post(f"/onboarding/analyses/{theirs.pk}/use/").status_code == 404
    assert OnboardingSession.objects.get(user=other_user).website is None


def test_ones_own_analysis_can_be_viewed_and_used(alice, user):
    mine = WebsiteAnalysisFactory(session=at_step(user, 2))
    assert mine.url in alice.get(f"/onboarding/analyses/{mine.pk}/").content.decode()
    alice.post(f"/onboarding/analyses/{mine.pk}/use/")
    assert services.get_session(user=user).website == mine


def test_pages_never_show_another_users_data(alice, user, other_user):
    theirs = OnboardingSessionFactory(user=other_user, current_step=6)
    ApiKeyFactory(session=theirs, plaintext=GEMINI)
    WebsiteAnalysisFactory(session=theirs, url="https://bobs-site.example")
    at_step(user, 6)
    for step in range(1, 7):
        page = alice.get(f"/onboarding/step/{step}/").content.decode()
        assert "bobs-site" not in page
        assert "AIza…9x2Q" not in page


def test_the_summary_page_uses_a_constant_number_of_queries(alice, user, django_assert_max_num_queries):
    session = at_step(user, 6)
    for provider in ["gemini", "openai", "exa"]:
        ApiKeyFactory(session=session, provider=provider)
    with django_assert_max_num_queries(14):
        alice.get("/onboarding/step/6/")


def test_a_submitted_key_is_hidden_from_error_reports(alice):
    response = alice.post("/onboarding/step/1/", {"action": "save", "provider": "gemini", "key": GEMINI})
    assert response.wsgi_request.sensitive_post_parameters == ("key",)


def test_a_url_too_long_to_store_is_a_field_error(alice, user):
    at_step(user, 2)
    response = alice.post("/onboarding/step/2/", {"action": "analyze", "url": "example.com/" + "a" * 1985})
    assert response.status_code == 200
    assert "too long" in response.content.decode()


@pytest.mark.parametrize("count", [1, 8])
def test_the_website_step_lists_analyses_in_a_constant_number_of_queries(
    alice, user, count, django_assert_max_num_queries
):
    session = at_step(user, 2)
    for n in range(count):
        WebsiteAnalysisFactory(session=session, url=f"https://site{n}.example")
    with django_assert_max_num_queries(12):
        page = alice.get("/onboarding/step/2/")
    assert page.content.decode().count("onboarding/analyses/") >= count


@pytest.mark.parametrize("provider", ["open router", "azure/openai"])
def test_an_imported_key_of_any_provider_name_is_listed_and_removable(alice, user, provider):
    ApiKeyFactory(session=at_step(user, 6), provider=provider)
    assert provider in alice.get("/onboarding/step/1/").content.decode()
    alice.post(reverse("onboarding:remove_key", args=[provider]))
    assert not ApiKey.objects.exists()


def test_building_the_persona_again_keeps_the_chosen_platforms(alice, user):
    at_step(user, 4)
    alice.post("/onboarding/step/4/", {"action": "generate", "selected_platforms": ["medium", "x"]})
    page = alice.get("/onboarding/step/4/").content.decode()
    assert page.count('name="selected_platforms"') == 7 + 2  # the edit form's checkboxes, the rebuild's hidden inputs
    alice.post("/onboarding/step/4/", {"action": "generate", "selected_platforms": ["medium", "x"]})
    assert services.summary_for_user(user).persona.selected_platforms == ["medium", "x"]
