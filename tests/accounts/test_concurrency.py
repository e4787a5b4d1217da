"""Concurrent sign-ups: the unique constraint on username_key decides, never a Python check.

These tests need real transactions and real connections (one per thread), so they use
`transaction=True`. The suite runs on a SQLite file database and on PostgreSQL.
"""

import threading

import pytest
from django.db import connection
from django.test import Client

from accounts.models import Invite, User
from tests.accounts.factories import InviteFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
PASSWORD = "a long enough passphrase"


def _run_concurrently(work, count):
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index):
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # reported below; a thread must not swallow a failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_sign_ups_of_one_name_have_exactly_one_winner():
    InviteFactory(token="t", created_by=UserFactory(username="Host"), max_uses=THREADS)

    def sign_up(index):
        name = "Max" if index % 2 else "max "
        data = {"username": name, "password1": PASSWORD, "password2": PASSWORD}
        return Client(raise_request_exception=True).post("/join/t/", data)

    responses = _run_concurrently(sign_up, THREADS)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (THREADS - 1) + [302]
    for response in responses:
        if response.status_code == 200:
            assert "That name is taken." in response.content.decode()
    assert User.objects.filter(username_key="max").count() == 1
    assert Invite.objects.get().uses == 1


def test_concurrent_sign_ups_cannot_use_an_invite_more_than_max_uses():
    InviteFactory(token="t", created_by=UserFactory(username="Host"), max_uses=3)

    def sign_up(index):
        data = {"username": f"Guest {index}", "password1": PASSWORD, "password2": PASSWORD}
        return Client(raise_request_exception=True).post("/join/t/", data).status_code

    statuses = _run_concurrently(sign_up, THREADS)

    assert sorted(statuses) == [302] * 3 + [410] * (THREADS - 3)
    assert User.objects.filter(joined_via__isnull=False).count() == 3
    assert Invite.objects.get().uses == 3
