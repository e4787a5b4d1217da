import pytest

from conversations.models import ChatSession
from tests.accounts.factories import UserFactory
from tests.conversations.factories import ChatSessionFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client_for):
    return client_for(UserFactory(is_staff=True, is_superuser=True))


@pytest.mark.parametrize("model", ["conversation", "chatsession", "message", "idempotencykey", "importedrecord"])
def test_the_changelists_render(staff_client, model):
    ConversationFactory()
    MessageFactory()
    assert staff_client.get(f"/admin/conversations/{model}/").status_code == 200


def test_a_conversation_is_read_only_in_the_admin(staff_client):
    conversation = ConversationFactory()
    response = staff_client.get(f"/admin/conversations/conversation/{conversation.pk}/change/")
    assert response.status_code == 200
    assert b'name="transcript"' not in response.content


def test_making_a_second_session_active_is_a_form_error_not_a_500(staff_client):
    active = ChatSessionFactory()
    ended = ChatSessionFactory(user=active.user, status="ended")
    data = {"user": active.user.pk, "status": "active", "ended_at_0": "", "ended_at_1": "", "end_reason": ""}
    data |= {"messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0"}
    response = staff_client.post(f"/admin/conversations/chatsession/{ended.pk}/change/", data)
    assert response.status_code == 200
    assert "already has an active chat session" in response.content.decode()
    assert ChatSession.objects.get(pk=ended.pk).status == "ended"


def test_staff_can_escalate_a_session(staff_client):
    session = ChatSessionFactory()
    data = {"user": session.user.pk, "status": "escalated", "ended_at_0": "", "ended_at_1": "", "end_reason": "x"}
    data |= {"messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0"}
    response = staff_client.post(f"/admin/conversations/chatsession/{session.pk}/change/", data)
    assert response.status_code == 302
    assert ChatSession.objects.get(pk=session.pk).status == "escalated"
