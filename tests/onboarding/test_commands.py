import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from onboarding.models import OnboardingSession, WebsiteAnalysis
from tests.onboarding.factories import ApiKeyFactory, OnboardingSessionFactory, WebsiteAnalysisFactory

pytestmark = pytest.mark.django_db

GEMINI = "AIza" + "VerifyKeyVerifyKeyVerifyKeyVer" + "Z" + "7Q2x"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_verify_onboarding_prints_the_summary_with_masked_keys(user):
    session = OnboardingSessionFactory(user=user, current_step=3)
    ApiKeyFactory(session=session, plaintext=GEMINI)
    WebsiteAnalysisFactory(session=session, url="https://bakery.example")
    out = run("verify_onboarding", user.external_id)
    assert f"Alice ({user.external_id}): step 3 (Research preferences), not completed" in out
    assert "gemini AIza…7Q2x" in out
    assert "Website: https://bakery.example (completed, tone friendly)" in out
    assert GEMINI not in out
    data = json.loads(run("verify_onboarding", "alice", "--format", "json"))
    assert data["api_keys"]["providers"][0]["masked"] == "AIza…7Q2x"


def test_verify_onboarding_of_an_unknown_user_is_a_command_error(db):
    with pytest.raises(CommandError, match="nobody: no such user"):
        run("verify_onboarding", "nobody")


def test_seed_demo_onboarding_needs_the_demo_users(db):
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_demo_onboarding")


def test_seed_demo_onboarding_is_idempotent_and_offline(db, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the demo never fetches anything")

    monkeypatch.setattr(socket, "create_connection", no_network)
    run("seed_demo")
    assert "2 user(s) seeded" in run("seed_demo_onboarding")
    before = list(OnboardingSession.objects.values_list("pk", "current_step", "completed_at", "updated_at"))
    assert "0 user(s) seeded" in run("seed_demo_onboarding")
    assert list(OnboardingSession.objects.values_list("pk", "current_step", "completed_at", "updated_at")) == before
    alice = OnboardingSession.objects.get(user__external_id="demo:alice")
    assert alice.is_completed
    assert alice.persona.selected_platforms == ["blog", "instagram"]
    assert WebsiteAnalysis.objects.filter(session=alice, status="completed").count() == 1
    assert OnboardingSession.objects.get(user__external_id="demo:bob").current_step == 3
