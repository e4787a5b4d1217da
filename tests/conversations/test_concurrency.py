"""Races on the conversation endpoints and the chat webhook, on a SQLite file and on PostgreSQL.

These tests need real transactions and one connection per thread, so they use `transaction=True`.
"""

import json
from collections import Counter
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from conversations import signatures
from conversations.models import ChatSession, Conversation, FieldRevision, Message
from tests.accounts.factories import UserFactory
from tests.conversations.audio_files import wav_bytes
from tests.conversations.harness import run_rounds
from tests.conversations.schema import without_constraint

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16
ROUNDS = 50


def canonical(value):
    return json.dumps(value, sort_keys=True)


def test_mixed_uploads_and_saves_of_one_session_id_make_one_row_and_lose_nothing():
    user = UserFactory()
    clients = [Client() for _ in range(THREADS)]
    for client in clients:
        client.force_login(user)

    def work(thread, round_):
        session_id = f"round-{round_}"
        if thread % 2 == 0:
            audio = SimpleUploadedFile("a.wav", wav_bytes(seconds=0.05, tone=200 + thread), content_type="audio/wav")
            response = clients[thread].post(
                "/api/conversations/upload-audio", {"session_id": session_id, "audio": audio}
            )
        else:
            body = {"session_id": session_id, "analysis": {"by": thread, "round": round_}}
            if thread % 4 == 1:
                body["transcript"] = f"typed by {thread} in {round_}"
            response = clients[thread].post("/api/conversations/save-analysis", body, content_type="application/json")
        return response.status_code, response.json()

    results = run_rounds(work, threads=THREADS, rounds=ROUNDS)

    assert Conversation.objects.count() == ROUNDS
    for round_, answers in enumerate(results):
        statuses = Counter(status for status, _ in answers)
        assert statuses == {201: 1, 200: THREADS - 1}, (round_, statuses)
        conversation = Conversation.objects.get(session_id=f"round-{round_}")
        assert conversation.transcript
        assert conversation.analysis
        assert conversation.audio
        # Every value any request wrote is the final value or in the history: nothing silently lost.
        for field in ("transcript", "analysis"):
            written = {canonical(body[field]) for _, body in answers if _wrote(body, field)}
            kept = {canonical(getattr(conversation, field))} | {
                canonical(r.value) for r in FieldRevision.objects.filter(conversation=conversation, field=field)
            }
            assert written <= kept, (round_, field, written - kept)
        audios = {body["audio_url"] for _, body in answers}
        assert len(audios - {None}) == 1


def _wrote(body, field):
    # Each answer shows the row right after the request's own write, under the row lock.
    return bool(body.get(field))


@pytest.fixture
def without_conversation_constraint():
    """Drop the unique (owner, session_id) constraint for the test, and put it back afterwards."""
    with without_constraint(Conversation, "conversation_unique_owner_session_id"):
        try:
            yield
        finally:
            Conversation.objects.all().delete()


def test_negative_control_the_harness_makes_duplicates_without_the_constraint(without_conversation_constraint):
    user = UserFactory()
    rounds = 10

    def work(thread, round_):
        # The predecessor's check-then-insert: only a constraint could stop it.
        if not Conversation.objects.filter(owner=user, session_id=f"round-{round_}").exists():
            Conversation.objects.create(owner=user, session_id=f"round-{round_}")

    run_rounds(work, threads=THREADS, rounds=rounds)

    per_round = Counter(Conversation.objects.values_list("session_id", flat=True))
    assert max(per_round.values()) > 1, per_round


def signed_post(client, data, secret="test-webhook-secret"):
    url = "http://testserver/api/conversations/messages"
    params = {name: [value] for name, value in data.items()}
    signature = signatures.compute(secret=secret, url=url, params=params)
    return client.post("/api/conversations/messages", data, headers={signatures.HEADER: signature})


def test_a_users_first_messages_from_many_threads_share_one_active_session(settings):
    settings.CONVERSATIONS_WEBHOOK_SECRET = "test-webhook-secret"
    rounds = 5
    users = [UserFactory() for _ in range(rounds)]
    client = Client()

    def work(thread, round_):
        # Two deliveries of each message id: the provider's retries race with the first delivery.
        data = {"user": users[round_].external_id, "message_id": f"SM{round_}-{thread // 2}", "body": "hi"}
        response = signed_post(client, data)
        return response.status_code, response.json()

    results = run_rounds(work, threads=THREADS, rounds=rounds)

    for round_, answers in enumerate(results):
        assert {status for status, _ in answers} == {200}
        user = users[round_]
        session = ChatSession.objects.get(user=user)  # exactly one session, and it is the active one
        assert session.status == "active"
        inbound = Message.objects.filter(user=user, direction="in")
        assert sorted(inbound.values_list("external_id", flat=True)) == sorted(
            f"SM{round_}-{n}" for n in range(THREADS // 2)
        )
        assert set(Message.objects.filter(user=user).values_list("session", flat=True)) == {session.pk}
        assert Message.objects.filter(user=user, direction="out").count() == THREADS // 2
        assert {body["reply"]["body"] for _, body in answers} == {
            m.body for m in Message.objects.filter(user=user, direction="out")
        }


def test_messages_racing_on_a_stale_session_end_it_once_and_share_one_new_session(settings):
    settings.CONVERSATIONS_WEBHOOK_SECRET = "test-webhook-secret"
    user = UserFactory()
    stale = ChatSession.objects.create(user=user, last_activity_at=timezone.now() - timedelta(hours=1))
    client = Client()

    def work(thread, round_):
        return signed_post(client, {"user": user.external_id, "message_id": f"SM{thread}", "body": "hi"}).status_code

    results = run_rounds(work, threads=THREADS, rounds=1)

    assert set(results[0]) == {200}
    stale.refresh_from_db()
    assert (stale.status, stale.end_reason) == ("ended", "inactivity")
    fresh = ChatSession.objects.get(user=user, status="active")
    assert ChatSession.objects.filter(user=user).count() == 2
    assert set(Message.objects.filter(user=user).values_list("session", flat=True)) == {fresh.pk}
    assert Message.objects.filter(user=user, direction="in").count() == THREADS


def test_one_idempotency_key_sent_from_many_threads_runs_once():
    user = UserFactory()
    clients = [Client() for _ in range(THREADS)]
    for client in clients:
        client.force_login(user)
    body = {"session_id": "s-1", "analysis": {"summary": "once"}}

    def work(thread, round_):
        response = clients[thread].post(
            "/api/conversations/save-analysis", body, content_type="application/json", headers={"Idempotency-Key": "k"}
        )
        return response.status_code, response.headers.get("Idempotent-Replayed")

    results = run_rounds(work, threads=THREADS, rounds=1)[0]

    ran = [status for status, replayed in results if status != 409 and replayed is None]
    assert ran == [201]  # exactly one request ran; the others were told it is in flight, or got its answer
    assert {status for status, _ in results} <= {201, 409}
    assert all(replayed == "true" for status, replayed in results if status == 201 and replayed)
    assert Conversation.objects.count() == 1
    assert not FieldRevision.objects.exists()
