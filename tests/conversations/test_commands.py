from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversations.models import ChatSession, Conversation, FieldRevision, Message

pytestmark = pytest.mark.django_db


def test_seed_demo_conversations_needs_the_demo_users():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_demo_conversations", stdout=StringIO())


def test_seed_demo_conversations_adds_them_once():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo_conversations", stdout=StringIO())
    counts = (Conversation.objects.count(), ChatSession.objects.count(), Message.objects.count())
    assert counts == (3, 1, 6)
    assert "Conversation of" in Message.objects.filter(direction="out").last().body  # the picked conversation
    out = StringIO()
    call_command("seed_demo_conversations", stdout=out)
    assert "already here" in out.getvalue()
    assert (Conversation.objects.count(), ChatSession.objects.count(), Message.objects.count()) == counts
    assert not FieldRevision.objects.exists()
