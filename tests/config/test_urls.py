import pytest

pytestmark = pytest.mark.django_db


def test_health_check_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_the_home_page_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_the_home_page_leads_to_every_app(client_for, user):
    page = client_for(user).get("/").content.decode()
    for url in ["/prayers/", "/onboarding/", "/conversations/", "/invites/"]:
        assert f'href="{url}"' in page, url
