from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from conversations import services
from conversations.models import ChatSession, Conversation, FieldRevision, Message
from tests.conversations.factories import ChatSessionFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def save(owner, source="save_analysis", **fields):
    return services.save_conversation(owner=owner, session_id="s-1", source=source, **fields)


def test_the_first_save_creates_and_the_second_finds_the_same_row(user):
    first, created = save(user, transcript="hello")
    second, created_again = save(user, analysis={"summary": "hi"})
    assert created
    assert not created_again
    assert first.pk == second.pk
    assert (second.transcript, second.analysis) == ("hello", {"summary": "hi"})


def test_each_save_changes_only_the_fields_it_carries(user):
    save(user, source="upload", transcript="words", audio="conversations/a.wav", audio_filename="a.wav")
    conversation, _ = save(user, analysis={"summary": "s"})
    assert conversation.transcript == "words"
    assert conversation.audio.name == "conversations/a.wav"
    assert conversation.audio_filename == "a.wav"


@pytest.mark.parametrize("empty", [None, "", "   ", {}, []])
def test_an_empty_value_never_replaces_a_real_one(user, empty):
    save(user, transcript="kept", analysis={"summary": "kept"})
    conversation, _ = save(user, transcript=empty if not isinstance(empty, dict | list) else None, analysis=empty)
    assert (conversation.transcript, conversation.analysis) == ("kept", {"summary": "kept"})
    assert not FieldRevision.objects.exists()


def test_a_replaced_value_is_kept_in_the_history(user):
    save(user, analysis={"summary": "first"})
    conversation, _ = save(user, source="upload", analysis={"summary": "second"})
    revision = FieldRevision.objects.get()
    assert conversation.analysis == {"summary": "second"}
    assert (revision.conversation, revision.field, revision.value) == (conversation, "analysis", {"summary": "first"})
    assert revision.replaced_by == "upload"


def test_an_equal_analysis_in_another_key_order_is_not_a_replacement(user):
    save(user, analysis={"a": 1, "b": 2})
    save(user, analysis={"b": 2, "a": 1})
    assert not FieldRevision.objects.exists()


def test_the_same_session_id_of_another_user_is_another_conversation(user, other_user):
    mine, _ = save(user, transcript="mine")
    theirs, created = save(other_user, transcript="theirs")
    assert created
    assert mine.pk != theirs.pk
    assert Conversation.objects.get(pk=mine.pk).transcript == "mine"


@pytest.mark.parametrize("session_id", ["", "   ", "x" * 256])
def test_a_bad_session_id_is_rejected(user, session_id):
    with pytest.raises(ValidationError):
        services.save_conversation(owner=user, session_id=session_id, source="upload", transcript="t")


def test_an_analysis_must_be_json_object(user):
    with pytest.raises(ValidationError):
        save(user, analysis="just text")


def test_conversations_of_a_user_are_listed_newest_first(user, other_user):
    old = ConversationFactory(owner=user, created_at=timezone.now() - timedelta(days=1))
    new = ConversationFactory(owner=user)
    ConversationFactory(owner=other_user)
    assert list(Conversation.objects.for_user(user)) == [new, old]


# --- chat sessions ---


def test_the_active_session_is_started_once_and_then_reused(user):
    now = timezone.now()
    first = services.resolve_active_session(user=user, now=now)
    again = services.resolve_active_session(user=user, now=now + timedelta(minutes=29))
    assert first.pk == again.pk
    assert ChatSession.objects.count() == 1


def test_a_stale_session_is_ended_and_a_new_one_started(user):
    stale = ChatSessionFactory(user=user, last_activity_at=timezone.now() - timedelta(minutes=31))
    fresh = services.resolve_active_session(user=user, now=timezone.now())
    stale.refresh_from_db()
    assert fresh.pk != stale.pk
    assert (stale.status, stale.end_reason) == ("ended", "inactivity")
    assert stale.ended_at == stale.last_activity_at + timedelta(minutes=30)


def test_the_inactivity_limit_is_a_setting(user, settings):
    settings.CONVERSATIONS_CHAT_INACTIVITY_MINUTES = 5
    stale = ChatSessionFactory(user=user, last_activity_at=timezone.now() - timedelta(minutes=6))
    assert services.resolve_active_session(user=user, now=timezone.now()).pk != stale.pk


def test_ended_and_escalated_sessions_stay_as_history(user):
    ChatSessionFactory(user=user, status="ended")
    ChatSessionFactory(user=user, status="escalated")
    services.resolve_active_session(user=user, now=timezone.now())
    assert sorted(ChatSession.objects.values_list("status", flat=True)) == ["active", "ended", "escalated"]


def test_a_message_is_stored_with_the_reply_in_one_session(user):
    turn = services.receive_message(user=user, external_id="SM1", body="hi")
    assert not turn.retry
    assert turn.inbound.session == turn.reply.session == turn.session
    assert turn.reply.buttons
    assert Message.objects.count() == 2


def test_a_retry_stores_nothing_and_returns_the_stored_reply(user):
    first = services.receive_message(user=user, external_id="SM1", body="hi")
    retry = services.receive_message(user=user, external_id="SM1", body="hi")
    assert retry.retry
    assert retry.reply.pk == first.reply.pk
    assert Message.objects.count() == 2


def test_the_same_provider_id_from_another_user_is_another_message(user, other_user):
    services.receive_message(user=user, external_id="SM1", body="hi")
    assert not services.receive_message(user=other_user, external_id="SM1", body="hi").retry


def test_a_message_without_body_or_button_is_rejected(user):
    with pytest.raises(ValidationError):
        services.receive_message(user=user, external_id="SM1", body=" ")
    assert not Message.objects.exists()


def test_activity_moves_the_session_forward(user):
    now = timezone.now()
    turn = services.receive_message(user=user, external_id="SM1", body="hi", now=now)
    later = services.receive_message(user=user, external_id="SM2", body="hi", now=now + timedelta(minutes=20))
    assert later.session.pk == turn.session.pk
    assert ChatSession.objects.get().last_activity_at == now + timedelta(minutes=20)
