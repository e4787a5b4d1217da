"""Merging two users who each have data in all four apps: every row lands where its relation's policy says,
nothing is lost, and undo gives back the database row for row."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Invite, User
from archives.models import Activity, Prayer
from conversations import services as conversation_services
from conversations.models import ChatSession, Conversation, FieldRevision, IdempotencyKey, Message
from integrity import merge, services
from integrity.models import Quarantine, RepairJournal
from onboarding import crypto
from onboarding.models import ApiKey, OnboardingSession, PersonaData, ResearchPreferences, WebsiteAnalysis
from onboarding.normalize import url_key
from tests.accounts.factories import UserFactory
from tests.archives.factories import ActivityFactory, PrayerFactory
from tests.conversations.factories import ChatSessionFactory, ConversationFactory, MessageFactory
from tests.onboarding.factories import (
    ApiKeyFactory,
    OnboardingSessionFactory,
    PersonaDataFactory,
    ResearchPreferencesFactory,
    WebsiteAnalysisFactory,
)

pytestmark = pytest.mark.django_db

TABLES = [
    User,
    User.groups.through,
    Invite,
    Prayer,
    Activity,
    OnboardingSession,
    ApiKey,
    WebsiteAnalysis,
    ResearchPreferences,
    PersonaData,
    Conversation,
    FieldRevision,
    ChatSession,
    Message,
    IdempotencyKey,
    Quarantine,
]


def snapshot():
    return {model._meta.label: list(model._base_manager.order_by("pk").values()) for model in TABLES}


@pytest.fixture
def pair():
    grace, loser = UserFactory(username="Grace Lee"), UserFactory(username="GraceLee")
    # accounts and archives
    UserFactory(username="Invitee", invited_by=loser)
    group = Group.objects.create(name="moderators")
    grace.groups.add(group)
    loser.groups.add(group)
    ActivityFactory(prayer=PrayerFactory(author=loser), actor=loser)
    # onboarding: both have a session, a Gemini key, an analysis of one site, research preferences
    mine, theirs = OnboardingSessionFactory(user=grace), OnboardingSessionFactory(user=loser, current_step=5)
    old = timezone.now() - timedelta(days=3)
    ApiKeyFactory(session=mine, provider="gemini", plaintext="AIza" + "m" * 35)
    ApiKeyFactory(session=theirs, provider="gemini", plaintext="AIza" + "t" * 35)  # newer: it wins
    ApiKey.objects.filter(session=mine).update(updated_at=old)
    ApiKeyFactory(session=theirs, provider="openai", plaintext="sk-" + "o" * 40)  # moves
    WebsiteAnalysisFactory(session=mine, url="https://bakery.example.com/")
    WebsiteAnalysisFactory(session=theirs, url="HTTPS://Bakery.example.com")  # same url_key: merged records
    WebsiteAnalysisFactory(session=theirs, url="https://other.example.com/")  # moves
    ResearchPreferencesFactory(session=mine, research_depth="Standard")
    ResearchPreferencesFactory(session=theirs, research_depth="Deep")  # collapsed: the survivor's answers stay
    PersonaDataFactory(session=theirs)  # the survivor has none: moves
    # conversations: one session_id for both, an active chat each, one idempotency key each
    ConversationFactory(owner=grace, session_id="s-1", transcript="")
    theirs_conversation = ConversationFactory(owner=loser, session_id="s-1", transcript="Their words")
    FieldRevision.objects.create(
        conversation=theirs_conversation, field="transcript", value="older", replaced_at=old, replaced_by="upload"
    )
    ConversationFactory(owner=loser, session_id="s-2")
    ChatSessionFactory(user=grace)
    their_chat = ChatSessionFactory(user=loser)
    MessageFactory(session=their_chat, user=loser, external_id="wamid.1")
    IdempotencyKey.objects.create(owner=grace, key="k1", fingerprint="a")
    IdempotencyKey.objects.create(owner=loser, key="k1", fingerprint="b")
    return grace, loser


def test_every_row_of_every_app_lands_where_its_policy_says(pair):
    grace, loser = pair
    plan = merge.plan_merge(survivor=grace, losers=[loser])
    assert plan.ok, plan.refusals

    merge.execute_merge(plan=plan)

    loser.refresh_from_db()
    assert (loser.merged_into, loser.is_active) == (grace, False)
    assert User.objects.get(username="Invitee").invited_by == grace
    assert Prayer.objects.get().author == grace
    # onboarding: the loser's session merged into the survivor's
    mine, theirs = OnboardingSession.objects.get(user=grace), OnboardingSession.objects.get(user=loser)
    assert theirs.merged_into == mine
    keys = {key.provider: crypto.decrypt(key.secret) for key in ApiKey.objects.filter(session=mine)}
    assert keys == {"gemini": "AIza" + "t" * 35, "openai": "sk-" + "o" * 40}
    assert not ApiKey.objects.filter(session=theirs).exists()
    live = WebsiteAnalysis.objects.filter(session=mine, merged_into__isnull=True)
    assert sorted(live.values_list("url_key", flat=True)) == sorted(
        [url_key("https://bakery.example.com/"), url_key("https://other.example.com/")]
    )
    assert WebsiteAnalysis.objects.get(session=theirs).merged_into.session == mine
    assert ResearchPreferences.objects.get().research_depth == "Standard"
    assert PersonaData.objects.get().session == mine
    # conversations: one conversation per session_id, its history moved with it; one active chat
    assert sorted(Conversation.objects.for_user(grace).values_list("session_id", flat=True)) == ["s-1", "s-2"]
    assert Conversation.objects.get(owner=loser).merged_into.owner == grace
    assert FieldRevision.objects.get().conversation.owner == grace
    assert ChatSession.objects.filter(user=grace, status="active").count() == 1
    assert ChatSession.objects.filter(user=grace).count() == 2
    assert Message.objects.get().user == grace
    assert IdempotencyKey.objects.get().owner == grace


def test_undo_gives_back_every_table_row_for_row(pair):
    grace, loser = pair
    before = snapshot()
    journal = merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))
    assert snapshot() != before

    services.undo_repair(journal_id=journal.pk)

    assert snapshot() == before


def test_two_messages_with_one_provider_id_refuse_the_merge_and_name_them(pair):
    grace, loser = pair
    clash = MessageFactory(session=ChatSession.objects.get(user=grace), user=grace, external_id="wamid.1")
    theirs = Message.objects.get(user=loser, external_id="wamid.1")

    plan = merge.plan_merge(survivor=grace, losers=[loser])

    assert not plan.ok
    [refusal] = [why for why in plan.refusals if why.startswith("conversations.message.user")]
    assert "1 row(s) would break a unique constraint" in refusal
    assert f"conversations.message {theirs.pk}: same external_id='wamid.1' as {clash.pk}" in refusal


def test_outgoing_messages_without_a_provider_id_never_collide(pair):
    grace, loser = pair
    MessageFactory(session=ChatSession.objects.get(user=grace, status="active"), user=grace, external_id=None)
    MessageFactory(session=ChatSession.objects.get(user=loser), user=loser, external_id=None)
    assert merge.plan_merge(survivor=grace, losers=[loser]).ok


# --- Staff merging records of one user in the admin -------------------------------------------------------------


@pytest.fixture
def staff(client_for):
    return client_for(UserFactory(username="Admin", is_staff=True, is_superuser=True))


def merge_in_admin(client, url, pks, survivor):
    form = {"action": "merge_selected", "_selected_action": [str(pk) for pk in pks], "survivor": str(survivor)}
    page = client.post(url, form).content.decode()
    token = re.search(r'name="plan" value="([0-9a-f]{64})"', page)
    if token is None:
        return page
    return client.post(url, {**form, "confirm": "yes", "plan": token.group(1)}, follow=True).content.decode()


def test_two_conversations_of_one_user_merge_and_the_old_session_id_leads_to_the_survivor(staff):
    owner = UserFactory()
    kept, merged = ConversationFactory(owner=owner, session_id="a"), ConversationFactory(owner=owner, session_id="b")

    merge_in_admin(staff, "/admin/conversations/conversation/", [kept.pk, merged.pk], kept.pk)

    merged.refresh_from_db()
    assert merged.merged_into == kept
    assert list(Conversation.objects.for_user(owner)) == [kept]
    assert conversation_services.get_conversation_for_user(user=owner, session_id="b") == kept
    conversation, created = conversation_services.save_conversation(
        owner=owner, session_id="b", source="save_analysis", transcript="Late words"
    )
    assert (conversation, created) == (kept, False)
    kept.refresh_from_db()
    assert kept.transcript == "Late words"


def test_records_of_two_users_cannot_be_merged_directly(staff):
    first, second = ConversationFactory(session_id="a"), ConversationFactory(session_id="b")
    page = merge_in_admin(staff, "/admin/conversations/conversation/", [first.pk, second.pk], first.pk)
    assert "Only conversations with the same owner can be merged." in page
    assert not Conversation.objects.filter(merged_into__isnull=False).exists()


def test_two_chat_sessions_of_one_user_merge_into_one_history(staff):
    user = UserFactory()
    kept = ChatSessionFactory(user=user, status="ended")
    merged = ChatSessionFactory(user=user)
    MessageFactory(session=merged, user=user, external_id="wamid.9")

    merge_in_admin(staff, "/admin/conversations/chatsession/", [kept.pk, merged.pk], kept.pk)

    merged.refresh_from_db()
    assert (merged.status, merged.merged_into) == ("merged", kept)
    assert Message.objects.get().session == kept


@pytest.mark.parametrize("url", ["/admin/onboarding/onboardingsession/", "/admin/onboarding/websiteanalysis/"])
def test_the_onboarding_admins_offer_merge_selected(staff, url):
    WebsiteAnalysisFactory()  # a changelist shows its actions only when it lists something
    assert 'value="merge_selected"' in staff.get(url).content.decode()


def test_the_analyses_duplicates_queue_lists_one_site_twice_in_a_session_until_merged(staff):
    session = OnboardingSessionFactory()
    first = WebsiteAnalysisFactory(session=session, url="https://bakery.example.com/")
    second = WebsiteAnalysisFactory(session=session, url="https://bakery.example.com/x")
    WebsiteAnalysis.objects.filter(pk=second.pk).update(url="HTTPS://BAKERY.example.com/")  # stored before a fix
    other = WebsiteAnalysisFactory(session=session, url="https://other.example.com/")
    url = "/admin/onboarding/websiteanalysis/"

    page = staff.get(f"{url}?duplicates=yes").content.decode()
    assert f"{url}{first.pk}/change/" in page
    assert f"{url}{second.pk}/change/" in page
    assert f"{url}{other.pk}/change/" not in page

    merge_in_admin(staff, url, [first.pk, second.pk], first.pk)

    assert f"{url}{first.pk}/change/" not in staff.get(f"{url}?duplicates=yes").content.decode()


def test_a_merged_conversation_fills_what_the_survivor_lacks_and_keeps_the_rest_in_its_history(staff):
    owner = UserFactory()
    kept = ConversationFactory(owner=owner, session_id="a", transcript="Mine", analysis=None)
    merged = ConversationFactory(owner=owner, session_id="b", transcript="Theirs", analysis={"summary": "roof"})
    before = snapshot()

    merge_in_admin(staff, "/admin/conversations/conversation/", [kept.pk, merged.pk], kept.pk)

    kept.refresh_from_db()
    assert (kept.transcript, kept.analysis) == ("Mine", {"summary": "roof"})  # its own, and what it lacked
    [revision] = FieldRevision.objects.filter(conversation=kept)
    assert (revision.field, revision.value, revision.replaced_by) == ("transcript", "Theirs", "merge")
    journal = RepairJournal.objects.get(kind="merge")
    services.undo_repair(journal_id=journal.pk)
    assert snapshot() == before


def test_a_merged_onboarding_session_takes_the_answers_the_survivor_lacks(pair):
    grace, loser = pair
    theirs = OnboardingSession.objects.get(user=loser)
    OnboardingSession.objects.filter(pk=theirs.pk).update(
        business_description="We bake bread", integrations=["wordpress"], completed_at=timezone.now()
    )
    OnboardingSession.objects.filter(user=grace).update(integrations=["medium"])

    merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))

    mine = OnboardingSession.objects.get(user=grace)
    assert mine.business_description == "We bake bread"
    assert mine.integrations == ["medium"]  # its own answer stays
    assert mine.completed_at is not None
