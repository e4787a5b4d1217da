import pytest
from django.core.files.base import ContentFile
from django.test import Client

from conversations import services
from conversations.models import ChatSession, Conversation, Message, audio_storage
from tests.conversations.audio_files import wav_bytes
from tests.conversations.factories import ChatSessionFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def attach_audio(conversation):
    """Store a recording for the conversation (a field update: FieldFile.save() would save the whole row)."""
    name = audio_storage().save("conversations/x.wav", ContentFile(wav_bytes()))
    Conversation.objects.filter(pk=conversation.pk).update(audio=name)


PAGES = ["/conversations/", "/conversations/record/", "/conversations/chat/", "/conversations/chat/history/"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_require_login(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert "/login" in response["Location"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render(user, client_for, url):
    assert client_for(user).get(url).status_code == 200


def test_the_list_shows_only_my_conversations_newest_first_once_each(user, other_user, client_for):
    older = ConversationFactory(owner=user, transcript="Older talk")
    newer = ConversationFactory(owner=user, transcript="Newer talk")
    ConversationFactory(owner=other_user, transcript="Bob's talk")
    services.save_conversation(owner=user, session_id=newer.session_id, source="save_analysis", transcript="Newest")
    content = client_for(user).get("/conversations/").content.decode()
    assert "Bob" not in content
    assert content.index("Newest") < content.index("Older talk")
    assert content.count("Older talk") == 1
    assert older.pk


def test_the_list_is_paginated_with_a_constant_number_of_queries(user, client_for, django_assert_max_num_queries):
    for _ in range(25):
        ConversationFactory(owner=user)
    client = client_for(user)
    with django_assert_max_num_queries(6):
        first = client.get("/conversations/").content.decode()
    assert "Page 1 of 2" in first
    assert client.get("/conversations/?page=2").status_code == 200


def test_the_detail_page_shows_transcript_analysis_player_and_history(user, client_for):
    conversation = ConversationFactory(owner=user, transcript="Hello roof", analysis={"summary": "Roof"})
    services.save_conversation(
        owner=user, session_id=conversation.session_id, source="upload", analysis={"summary": "Roof, again"}
    )
    attach_audio(conversation)
    content = client_for(user).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Hello roof" in content
    assert "Roof, again" in content
    assert "&#x27;summary&#x27;: &#x27;Roof&#x27;" in content  # the replaced value, in the history
    assert f"/conversations/{conversation.pk}/audio" in content


def test_the_owner_can_play_the_audio(user, client_for):
    conversation = ConversationFactory(owner=user)
    attach_audio(conversation)
    response = client_for(user).get(f"/conversations/{conversation.pk}/audio")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == wav_bytes()


@pytest.mark.parametrize("suffix", ["", "audio"])
def test_another_users_conversation_is_a_404(user, other_user, client_for, suffix):
    conversation = ConversationFactory(owner=other_user)
    attach_audio(conversation)
    assert client_for(user).get(f"/conversations/{conversation.pk}/{suffix}").status_code == 404


def test_the_chat_page_posts_through_the_service_and_shows_the_reply_and_buttons(user, client_for):
    client = client_for(user)
    response = client.post("/conversations/chat/", {"body": "hello", "message_id": "web:1"}, follow=True)
    content = response.content.decode()
    assert "What would you like to see?" in content
    assert 'value="conversations"' in content  # a reply button
    response = client.post("/conversations/chat/", {"button_id": "conversations", "message_id": "web:2"}, follow=True)
    assert "no recorded conversations" in response.content.decode()
    assert ChatSession.objects.get().messages.count() == 4


def test_a_double_submit_of_the_chat_form_is_stored_once(user, client_for):
    client = client_for(user)
    client.post("/conversations/chat/", {"body": "hello", "message_id": "web:1"})
    client.post("/conversations/chat/", {"body": "hello", "message_id": "web:1"})
    assert Message.objects.filter(direction="in").count() == 1


def test_an_empty_chat_message_is_an_error_message(user, client_for):
    response = client_for(user).post("/conversations/chat/", {"body": "", "message_id": "web:1"}, follow=True)
    assert "Write a message or press a button." in response.content.decode()
    assert not Message.objects.exists()


def test_the_chat_page_shows_only_my_session(user, other_user, client_for):
    MessageFactory(session=ChatSessionFactory(user=other_user), body="Bob's secret")
    assert "Bob's secret" not in client_for(user).get("/conversations/chat/").content.decode()


def test_the_history_lists_my_sessions_and_hides_others(user, other_user, client_for):
    mine = ChatSessionFactory(user=user, status="ended")
    MessageFactory(session=mine, body="my old message")
    theirs = ChatSessionFactory(user=other_user, status="ended")
    client = client_for(user)
    assert f"/conversations/chat/{mine.pk}/" in client.get("/conversations/chat/history/").content.decode()
    assert f"/conversations/chat/{theirs.pk}/" not in client.get("/conversations/chat/history/").content.decode()
    assert "my old message" in client.get(f"/conversations/chat/{mine.pk}/").content.decode()
    assert client.get(f"/conversations/chat/{theirs.pk}/").status_code == 404
