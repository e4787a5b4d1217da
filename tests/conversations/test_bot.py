from datetime import timedelta

import pytest
from django.utils import timezone

from archives import services as archives_services
from conversations import services
from onboarding import services as onboarding_services
from onboarding.models import OnboardingSession
from tests.conversations.factories import ChatSessionFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def say(user, text="", button="", n=[0]):  # noqa: B006 (a counter for unique provider ids)
    n[0] += 1
    return services.receive_message(user=user, external_id=f"SM{n[0]}", body=text, button_id=button).reply


def test_hello_shows_the_menu_with_buttons(user):
    reply = say(user, "Hello")
    assert "What would you like to see?" in reply.body
    assert [b["id"] for b in reply.buttons] == ["conversations", "prayers", "onboarding"]


def test_my_conversations_lists_them_with_a_tool_output_and_buttons(user, other_user):
    ConversationFactory(owner=user, transcript="We talked about the roof.")
    ConversationFactory(owner=other_user, transcript="Not yours.")
    reply = say(user, button="conversations")
    assert reply.tool_outputs["tool"] == "list_conversations"
    assert [i["title"] for i in reply.tool_outputs["items"]] == ["We talked about the roof."]
    assert reply.buttons == [{"id": "pick:1", "title": "We talked about the"}]
    assert "Not yours" not in reply.body


def test_a_button_click_reads_the_tool_output_of_the_same_session(user):
    ConversationFactory(owner=user, transcript="Roof repair talk.", analysis={"summary": "Roof budget agreed."})
    say(user, "my conversations")
    reply = say(user, button="pick:1")
    assert "Roof budget agreed." in reply.body


def test_a_typed_number_or_title_picks_too(user):
    ConversationFactory(owner=user, transcript="First one.", analysis={"summary": "S1"})
    say(user, "conversations")
    assert "S1" in say(user, "1").body
    say(user, "conversations")
    assert "S1" in say(user, "first one.").body


def test_a_pick_without_a_list_in_this_session_says_so_plainly(user):
    ConversationFactory(owner=user)
    old = ChatSessionFactory(user=user, status="ended", last_activity_at=timezone.now() - timedelta(hours=2))
    MessageFactory(session=old, direction="out", tool_outputs={"tool": "list_conversations", "items": [{"id": "x"}]})
    reply = say(user, button="pick:1")
    assert "can't find a list in this chat" in reply.body


def test_a_pick_out_of_range_asks_again(user):
    ConversationFactory(owner=user)
    say(user, "conversations")
    assert "from 1 to 1" in say(user, "7").body


def test_prayer_requests_are_the_users_own(user, other_user):
    archives_services.submit_prayer(acting_user=user, request="Please pray for my sister")
    archives_services.submit_prayer(acting_user=other_user, request="Someone else's request")
    reply = say(user, "prayer requests")
    assert [i["title"] for i in reply.tool_outputs["items"]] == ["Please pray for my sister"]
    assert "on the wall" in say(user, "1").body


def test_a_conversation_of_another_user_cannot_be_picked_through_a_forged_tool_output(user, other_user):
    theirs = ConversationFactory(owner=other_user, analysis={"summary": "secret"})
    session = services.resolve_active_session(user=user, now=timezone.now())
    MessageFactory(
        session=session,
        direction="out",
        external_id=None,
        tool_outputs={"tool": "list_conversations", "items": [{"id": theirs.session_id, "title": "x"}]},
    )
    reply = say(user, "1")
    assert "secret" not in reply.body
    assert "no longer there" in reply.body


def test_nothing_to_list_says_so(user):
    assert "no recorded conversations" in say(user, "conversations").body
    assert "no prayer requests" in say(user, "prayers").body


def test_something_unknown_shows_the_menu_again(user):
    assert "did not understand" in say(user, "what is the weather").body


def test_onboarding_status_says_where_the_user_is_and_creates_nothing(user, other_user):
    assert "not started onboarding yet" in say(user, "onboarding").body
    assert not OnboardingSession.objects.exists()

    onboarding_services.save_api_key(user=user, provider="gemini", key="AIza" + "x" * 35)
    onboarding_services.complete_step(user=user, step=1)
    onboarding_services.finish_onboarding(user=other_user)
    reply = say(user, button="onboarding")

    assert "Onboarding: you are at step 2 of 6." in reply.body
    assert "Google Gemini" in reply.body or "gemini" in reply.body.casefold()
    assert "AIza" + "x" * 35 not in reply.body  # never the key itself
    assert "complete" in say(other_user, "status").body
