import factory
from django.utils import timezone

from conversations.models import ChatSession, Conversation, Message
from tests.accounts.factories import UserFactory


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    owner = factory.SubFactory(UserFactory)
    session_id = factory.Sequence(lambda n: f"00000000-0000-4000-8000-{n:012d}")
    transcript = factory.Sequence(lambda n: f"Transcript number {n}.")
    analysis = factory.LazyAttribute(lambda c: {"summary": f"About {c.session_id}"})


class ChatSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatSession

    user = factory.SubFactory(UserFactory)
    status = ChatSession.Status.ACTIVE
    started_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyAttribute(lambda s: s.started_at)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    session = factory.SubFactory(ChatSessionFactory)
    user = factory.LazyAttribute(lambda m: m.session.user)
    external_id = factory.Sequence(lambda n: f"SM{n:032x}")
    direction = Message.Direction.IN
    body = factory.Sequence(lambda n: f"message {n}")
    created_at = factory.LazyFunction(timezone.now)
