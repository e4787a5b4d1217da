import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conversations import signatures
from conversations.models import ChatSession, Message
from tests.conversations.factories import ChatSessionFactory

pytestmark = pytest.mark.django_db

URL = "/api/conversations/messages"


def post(data, *, secret="test-webhook-secret", signature=None, url="http://testserver" + URL):
    params = {name: [value] for name, value in data.items()}
    if signature is None:
        signature = signatures.compute(secret=secret, url=url, params=params)
    headers = {signatures.HEADER: signature} if signature else {}
    return Client().post(URL, data, headers=headers)


def message(user, message_id="SM1", **extra):
    return {"user": user.external_id, "message_id": message_id, "body": "hi", **extra}


def test_a_signed_message_is_stored_and_answered(user):
    response = post(message(user))
    assert response.status_code == 200
    body = response.json()
    assert body["reply"]["buttons"][0] == {"id": "conversations", "title": "My conversations"}
    assert Message.objects.filter(user=user).count() == 2


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU=", None])
def test_a_missing_or_wrong_signature_is_a_403_and_writes_nothing(user, signature):
    kwargs = {"signature": signature} if signature is not None else {"secret": "another secret"}
    response = post(message(user), **kwargs)
    assert response.status_code == 403
    assert response.json()["error"]
    assert not ChatSession.objects.exists()
    assert not Message.objects.exists()


def test_a_signature_of_other_fields_is_refused(user):
    signed = signatures.compute(secret="test-webhook-secret", url="http://testserver" + URL, params={"user": ["x"]})
    assert post(message(user), signature=signed).status_code == 403


def test_without_a_configured_secret_every_webhook_is_refused(user, settings):
    settings.CONVERSATIONS_WEBHOOK_SECRET = ""
    assert post(message(user), secret="").status_code == 403


def test_the_public_url_can_be_configured_for_proxies(user, settings):
    settings.CONVERSATIONS_WEBHOOK_URL = "https://cairn.example.org" + URL
    assert post(message(user)).status_code == 403
    assert post(message(user), url="https://cairn.example.org" + URL).status_code == 200


def test_an_unknown_user_is_a_404_and_writes_nothing(db):
    response = post({"user": "nobody", "message_id": "SM1", "body": "hi"})
    assert response.status_code == 404
    assert not ChatSession.objects.exists()


def test_a_retry_returns_the_stored_reply_and_stores_nothing(user):
    first = post(message(user))
    retry = post(message(user))
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 2


@pytest.mark.parametrize("data", [{"message_id": ""}, {"body": ""}, {"message_id": "x" * 65}])
def test_bad_messages_are_a_json_400(user, data):
    response = post(message(user, **data))
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_get_is_not_allowed(db):
    assert Client().get(URL).status_code == 405


def test_a_stale_session_is_ended_and_the_message_goes_to_a_new_one(user):
    stale = ChatSessionFactory(user=user, last_activity_at=timezone.now() - timedelta(minutes=45))
    post(message(user))
    stale.refresh_from_db()
    assert stale.status == "ended"
    new = ChatSession.objects.get(status="active")
    assert set(Message.objects.values_list("session", flat=True)) == {new.pk}


def test_session_creation_and_reuse_are_logged_with_user_and_session(user, caplog):
    with caplog.at_level(logging.INFO, logger="conversations"):
        post(message(user, "SM1"))
        post(message(user, "SM2"))
    session = ChatSession.objects.get()
    assert f"chat session created: user={user.external_id} session={session.pk}" in caplog.text
    assert f"chat session reused: user={user.external_id} session={session.pk}" in caplog.text
