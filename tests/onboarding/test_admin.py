import pytest

from tests.accounts.factories import UserFactory
from tests.onboarding.factories import ApiKeyFactory, WebsiteAnalysisFactory

pytestmark = pytest.mark.django_db

PLAINTEXT = "AIza" + "AdminPageMustNeverShowThisKey12" + "Zq9X"


@pytest.fixture
def staff_client(client_for):
    return client_for(UserFactory(username="Staff", is_staff=True, is_superuser=True))


def test_api_keys_are_masked_on_every_admin_page(staff_client):
    key = ApiKeyFactory(plaintext=PLAINTEXT)
    pages = [
        "/admin/onboarding/apikey/",
        f"/admin/onboarding/apikey/{key.pk}/change/",
        f"/admin/onboarding/onboardingsession/{key.session_id}/change/",
        "/admin/onboarding/onboardingsession/",
    ]
    for page in pages:
        body = staff_client.get(page).content.decode()
        assert PLAINTEXT not in body, page
        assert key.secret not in body, page
    assert "AIza…Zq9X" in staff_client.get("/admin/onboarding/apikey/").content.decode()


def test_staff_cannot_add_or_edit_a_key(staff_client):
    key = ApiKeyFactory()
    assert staff_client.get("/admin/onboarding/apikey/add/").status_code == 403
    staff_client.post(f"/admin/onboarding/apikey/{key.pk}/change/", {"provider": "openai"})
    key.refresh_from_db()
    assert key.provider == "gemini"


def test_analysis_admin_lists_analyses(staff_client):
    analysis = WebsiteAnalysisFactory(url="https://Example.com/")
    body = staff_client.get("/admin/onboarding/websiteanalysis/").content.decode()
    assert analysis.url in body


def test_a_member_who_is_not_staff_cannot_open_the_onboarding_admin(client_for, user):
    ApiKeyFactory(session__user=user)
    response = client_for(user).get("/admin/onboarding/apikey/")
    assert response.status_code == 302
