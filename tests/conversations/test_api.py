from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from conversations.models import Conversation, FieldRevision, IdempotencyKey
from tests.conversations.audio_files import wav_bytes

pytestmark = pytest.mark.django_db

UPLOAD = "/api/conversations/upload-audio"
SAVE = "/api/conversations/save-analysis"


def upload(client, session_id="s-1", data=None, content_type="audio/wav", name="talk.wav", **headers):
    audio = SimpleUploadedFile(name, data if data is not None else wav_bytes(), content_type=content_type)
    return client.post(UPLOAD, {"session_id": session_id, "audio": audio}, headers=headers)


def save(client, body, **headers):
    return client.post(SAVE, body, content_type="application/json", headers=headers)


def test_upload_creates_the_conversation_with_transcript_analysis_and_audio(user, client_for):
    response = upload(client_for(user))
    assert response.status_code == 201
    body = response.json()
    assert body["transcript"].startswith("Fake transcript")
    assert body["analysis"]["duration_seconds"] == pytest.approx(0.2, abs=0.01)
    assert body["analysis"]["word_count"] == 7
    assert body["analysis"]["questions"] == ["How are you today?"]
    conversation = Conversation.objects.get()
    with conversation.audio.open("rb") as stored:
        assert stored.read() == wav_bytes()
    assert conversation.audio_filename == "talk.wav"


def test_save_analysis_then_upload_keep_each_others_fields(user, client_for):
    client = client_for(user)
    assert save(client, {"session_id": "s-1", "analysis": {"summary": "from the app"}}).status_code == 201
    response = upload(client)
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.transcript.startswith("Fake transcript")
    assert conversation.analysis["word_count"] == 7  # upload's analysis replaced the first one...
    assert FieldRevision.objects.get().value == {"summary": "from the app"}  # ...which is kept in the history
    assert save(client, {"session_id": "s-1", "analysis": {"summary": "again"}}).json()["history"][0]["field"] == (
        "analysis"
    )


def test_save_analysis_answers_201_then_200(user, client_for):
    client = client_for(user)
    assert save(client, {"session_id": "s-1", "transcript": "hi"}).status_code == 201
    assert save(client, {"session_id": "s-1", "transcript": "hi"}).status_code == 200
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "session_id"),
        ({"session_id": " "}, "session_id"),
        ({"session_id": "s", "analysis": "text"}, "analysis"),
        ({"session_id": "s", "transcript": 3}, "transcript"),
    ],
)
def test_bad_save_analysis_input_is_a_json_400(user, client_for, body, field):
    response = save(client_for(user), body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Conversation.objects.exists()


def test_malformed_json_is_a_json_400(user, client_for):
    response = client_for(user).post(SAVE, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content_type": "text/plain"}, 415),
        ({"data": b"not audio at all"}, 400),
        ({"session_id": ""}, 400),
    ],
)
def test_bad_uploads_are_json_errors_and_save_nothing(user, client_for, kwargs, status):
    response = upload(client_for(user), **kwargs)
    assert response.status_code == status
    assert response.json()["error"]
    assert not Conversation.objects.exists()


def test_an_upload_over_the_size_limit_is_a_413(user, client_for, settings):
    settings.CONVERSATIONS_AUDIO_MAX_BYTES = 1000
    assert upload(client_for(user)).status_code == 413


def test_a_recording_over_the_duration_limit_is_a_400(user, client_for, settings):
    settings.CONVERSATIONS_AUDIO_MAX_SECONDS = 1
    response = upload(client_for(user), data=wav_bytes(seconds=1.5))
    assert response.status_code == 400
    assert "longer" in response.json()["error"]


def test_anonymous_requests_get_a_json_403(db):
    response = Client().post(SAVE, {"session_id": "s"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()


def test_another_users_session_id_is_invisible(user, other_user, client_for):
    save(client_for(user), {"session_id": "s-1", "transcript": "mine"})
    assert client_for(other_user).get("/api/conversations/by-session-id/s-1").status_code == 404
    assert client_for(user).get("/api/conversations/by-session-id/s-1").json()["transcript"] == "mine"
    response = save(client_for(other_user), {"session_id": "s-1", "transcript": "theirs"})
    assert response.status_code == 201  # a new row of their own
    assert Conversation.objects.get(owner=user).transcript == "mine"


# --- Idempotency-Key ---


def test_the_same_key_and_body_replays_the_stored_response(user, client_for):
    client = client_for(user)
    first = save(client, {"session_id": "s-1", "transcript": "a"}, **{"Idempotency-Key": "k1"})
    again = save(client, {"session_id": "s-1", "transcript": "a"}, **{"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


def test_a_replayed_upload_stores_nothing_twice(user, client_for, audio_root):
    client = client_for(user)
    first = upload(client, **{"Idempotency-Key": "k1"})
    again = upload(client, **{"Idempotency-Key": "k1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(list(audio_root.rglob("*.wav"))) == 1


def test_the_same_key_with_another_body_is_a_422(user, client_for):
    client = client_for(user)
    save(client, {"session_id": "s-1", "transcript": "a"}, **{"Idempotency-Key": "k1"})
    response = save(client, {"session_id": "s-1", "transcript": "b"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 422
    assert Conversation.objects.get().transcript == "a"


def test_the_same_key_on_another_endpoint_is_a_422(user, client_for):
    client = client_for(user)
    save(client, {"session_id": "s-1", "transcript": "a"}, **{"Idempotency-Key": "k1"})
    assert upload(client, **{"Idempotency-Key": "k1"}).status_code == 422


def test_the_same_key_while_the_first_runs_is_a_409(user, client_for):
    IdempotencyKey.objects.create(owner=user, key="k1", fingerprint="x")  # in progress, just claimed
    client = client_for(user)
    body = {"session_id": "s-1", "transcript": "a"}
    from conversations.api import _fingerprint  # the same fingerprint, so it is "in flight", not "different"

    class _Request:
        method, path, data, FILES = "POST", SAVE, body, {}

    IdempotencyKey.objects.filter(key="k1").update(fingerprint=_fingerprint(_Request()))
    response = save(client, body, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert not Conversation.objects.exists()


def test_keys_are_per_user(user, other_user, client_for):
    save(client_for(user), {"session_id": "s-1", "transcript": "a"}, **{"Idempotency-Key": "k1"})
    response = save(client_for(other_user), {"session_id": "s-1", "transcript": "b"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_an_expired_key_runs_the_request_again(user, client_for):
    client = client_for(user)
    save(client, {"session_id": "s-1", "transcript": "a"}, **{"Idempotency-Key": "k1"})
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = save(client, {"session_id": "s-1", "transcript": "b"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers
    assert Conversation.objects.get().transcript == "b"


def test_an_error_answer_is_stored_and_replayed(user, client_for):
    client = client_for(user)
    first = save(client, {"session_id": ""}, **{"Idempotency-Key": "k1"})
    again = save(client, {"session_id": ""}, **{"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 400
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_bad_key_is_a_400(user, client_for):
    response = save(client_for(user), {"session_id": "s"}, **{"Idempotency-Key": "has space"})
    assert response.status_code == 400
