"""Concurrent "complete" requests for one URL: the (session, url_key) constraint keeps one row.

Real transactions and one connection per thread, so `transaction=True`; runs on SQLite (file) and
PostgreSQL.
"""

import json

import pytest
from django.test import Client

from onboarding.models import OnboardingSession, WebsiteAnalysis
from tests.accounts.test_concurrency import _run_concurrently
from tests.onboarding.factories import ApiKeyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_analyzer")]

THREADS = 6


def test_concurrent_completes_for_one_url_leave_one_analysis(user):
    urls = ["bakery.example", "https://Bakery.example/", "HTTPS://bakery.example", "bakery.example/"]

    def complete(index):
        client = Client(raise_request_exception=True)
        client.force_login(user)
        body = json.dumps({"url": urls[index % len(urls)]})
        return client.post("/api/onboarding/style-detection/complete", body, content_type="application/json")

    responses = _run_concurrently(complete, THREADS)

    assert [r.status_code for r in responses] == [200] * THREADS
    assert len({r.json()["id"] for r in responses}) == 1
    assert OnboardingSession.objects.filter(user=user).count() == 1
    assert WebsiteAnalysis.objects.get().url_key == "https://bakery.example"


def test_concurrent_key_saves_for_one_provider_leave_one_key(user, client_for):
    ApiKeyFactory(session__user=user, provider="openai")  # the session exists; the key row does not
    keys = [f"AIza{'K' * 34}{i}" for i in range(THREADS)]

    def save(index):
        client = Client(raise_request_exception=True)
        client.force_login(user)
        return client.post("/onboarding/step/1/", {"action": "save", "provider": "gemini", "key": keys[index]})

    statuses = [r.status_code for r in _run_concurrently(save, THREADS)]

    assert statuses == [302] * THREADS
    gemini = OnboardingSession.objects.get(user=user).api_keys.filter(provider="gemini")
    assert gemini.count() == 1
    assert gemini.get().reveal() in keys
