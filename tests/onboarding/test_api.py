import pytest

from onboarding.models import WebsiteAnalysis
from tests.onboarding.factories import ApiKeyFactory, OnboardingSessionFactory, WebsiteAnalysisFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_analyzer")]

GEMINI = "AIza" + "ApiTestKeyApiTestKeyApiTestKey" + "A" + "9x2Q"
API = "/api/onboarding"


def test_complete_analyzes_and_stores_one_row_per_url_key(alice, user):
    first = alice.post(f"{API}/style-detection/complete", {"url": "Bakery.example/"}, content_type="application/json")
    assert first.status_code == 200
    body = first.json()
    assert (body["status"], body["url_key"], body["error"]) == ("completed", "https://bakery.example", "")
    assert body["writing_style"]["person"] == "first person"
    again = alice.post(
        f"{API}/style-detection/complete", {"url": "https://bakery.example"}, content_type="application/json"
    )
    assert again.json()["id"] == body["id"]
    assert WebsiteAnalysis.objects.count() == 1


def test_a_failed_analysis_is_returned_with_its_reason(alice):
    response = alice.post(f"{API}/style-detection/complete", {"url": "fail.example"}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error"]) == ("failed", "The site answered HTTP 503.")


@pytest.mark.parametrize("body", [{}, {"url": ""}, {"url": "not a url"}, {"url": ["x"]}])
def test_bad_input_is_a_400_with_a_json_field_error(alice, body):
    response = alice.post(f"{API}/style-detection/complete", body, content_type="application/json")
    assert response.status_code == 400
    assert "url" in response.json()


def test_malformed_json_is_a_400_json_error(alice):
    response = alice.post(f"{API}/style-detection/complete", "{oops", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_check_existing_matches_by_url_key_for_the_user_only(alice, user, other_user):
    mine = WebsiteAnalysisFactory(session__user=user, url="https://Bakery.example/")
    WebsiteAnalysisFactory(session__user=other_user, url="https://bobs.example")
    found = alice.get(f"{API}/style-detection/check-existing", {"url": "bakery.example"}).json()
    assert found["exists"] is True
    assert found["analysis"]["id"] == mine.pk
    assert alice.get(f"{API}/style-detection/check-existing", {"url": "bobs.example"}).json() == {
        "exists": False,
        "analysis": None,
    }
    assert alice.get(f"{API}/style-detection/check-existing").status_code == 400


def test_another_users_analysis_answers_404_like_a_missing_one(alice, other_user):
    theirs = WebsiteAnalysisFactory(session__user=other_user)
    for pk in [theirs.pk, theirs.pk + 1000]:
        response = alice.get(f"{API}/style-detection/analysis/{pk}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_ones_own_analysis_is_returned(alice, user):
    mine = WebsiteAnalysisFactory(session__user=user)
    assert alice.get(f"{API}/style-detection/analysis/{mine.pk}").json()["url"] == mine.url


def test_session_analyses_lists_only_the_users_live_analyses(alice, user, other_user):
    session = OnboardingSessionFactory(user=user)
    kept = WebsiteAnalysisFactory(session=session, url="https://a.example")
    WebsiteAnalysisFactory(session=session, url="https://A.example/x", merged_into=kept)
    WebsiteAnalysisFactory(session__user=other_user)
    analyses = alice.get(f"{API}/style-detection/session-analyses").json()["analyses"]
    assert [a["id"] for a in analyses] == [kept.pk]


def test_summary_masks_keys_and_shows_only_the_users_data(alice, user, other_user):
    ApiKeyFactory(session__user=user, plaintext=GEMINI)
    ApiKeyFactory(session__user=other_user, provider="exa", plaintext="fa4efa4e-e86a-4f31-85f4-1e1c6956af5d")
    response = alice.get(f"{API}/summary")
    assert response.status_code == 200
    body = response.json()
    assert body["api_keys"] == {
        "count": 1,
        "providers": [{"provider": "gemini", "label": "Google Gemini", "masked": "AIza…9x2Q"}],
    }
    assert GEMINI not in response.content.decode()
    assert body["user"] == user.external_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/style-detection/complete"),
        ("get", "/style-detection/check-existing?url=a.example"),
        ("get", "/style-detection/analysis/1"),
        ("get", "/style-detection/session-analyses"),
        ("get", "/summary"),
    ],
)
def test_the_api_needs_a_signed_in_user_and_answers_json(client, method, path):
    response = getattr(client, method)(f"{API}{path}")
    assert response.status_code == 403
    assert response.json()["detail"] == "Authentication credentials were not provided."


def test_a_wrong_method_is_a_json_405(alice):
    response = alice.get(f"{API}/style-detection/complete")
    assert response.status_code == 405
    assert "detail" in response.json()


def test_the_openapi_schema_lists_the_endpoints_and_the_docs_page_loads(alice):
    schema = alice.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert set(paths) >= {
        "/api/onboarding/style-detection/complete",
        "/api/onboarding/style-detection/check-existing",
        "/api/onboarding/style-detection/analysis/{id}",
        "/api/onboarding/style-detection/session-analyses",
        "/api/onboarding/summary",
    }
    docs = alice.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content  # served from the sidecar package, no network
