from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conversations import integrity
from conversations.models import ChatSession, IdempotencyKey, Message
from integrity.services import apply_plans, undo_repair
from tests.accounts.factories import UserFactory
from tests.conversations.factories import ChatSessionFactory, MessageFactory
from tests.conversations.schema import without_constraint

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # schema changes: SQLite refuses them inside a transaction
def test_several_active_sessions_are_found_and_merged_into_the_earliest_undoably():
    user, other = UserFactory(), UserFactory()
    now = timezone.now().replace(microsecond=0)  # the repair journal keeps times to the millisecond
    with without_constraint(ChatSession, "chat_session_one_active_per_user"):
        first = ChatSessionFactory(user=user, started_at=now - timedelta(seconds=1), last_activity_at=now)
        second = ChatSessionFactory(user=user, started_at=now, last_activity_at=now + timedelta(seconds=5))
        ChatSessionFactory(user=other)
        tool = MessageFactory(session=second, direction="out", tool_outputs={"tool": "t", "items": []})
        MessageFactory(session=first)

        assert (integrity.multiple_active_sessions.find().count, integrity.multiple_active_sessions.find().sample) == (
            1,
            [user.pk],
        )
        journal = apply_plans(plans={"m": integrity.multiple_active_sessions.plan_fix()})

        assert integrity.multiple_active_sessions.find().count == 0
        second.refresh_from_db()
        assert (second.status, second.merged_into_id) == ("merged", first.pk)
        assert Message.objects.get(pk=tool.pk).session_id == first.pk
        assert ChatSession.objects.get(pk=first.pk).last_activity_at == now + timedelta(seconds=5)

        undo_repair(journal_id=journal.pk)
        assert ChatSession.objects.get(pk=second.pk).status == "active"
        assert Message.objects.get(pk=tool.pk).session_id == second.pk
        ChatSession.objects.filter(pk=second.pk).update(status="ended")  # before the constraint comes back


def test_tool_outputs_left_in_a_merged_session_are_moved_to_the_kept_one():
    kept = ChatSessionFactory()
    merged = ChatSessionFactory(user=kept.user, status="merged", merged_into=kept)
    stray = MessageFactory(session=merged, direction="out", tool_outputs={"tool": "t", "items": []})
    MessageFactory(session=merged)  # no tool output: not this check's business
    assert integrity.tool_outputs_in_merged_sessions.find().sample == [stray.pk]
    apply_plans(plans={"t": integrity.tool_outputs_in_merged_sessions.plan_fix()})
    assert Message.objects.get(pk=stray.pk).session == kept
    assert integrity.tool_outputs_in_merged_sessions.find().count == 0


@pytest.mark.django_db(transaction=True)
def test_duplicate_provider_ids_are_found_but_never_deleted():
    session = ChatSessionFactory()
    with without_constraint(Message, "message_unique_user_external_id"):
        first = MessageFactory(session=session, external_id="SM1")
        copy = MessageFactory(session=session, external_id="SM1")
        MessageFactory(session=session, external_id=None)
        MessageFactory(session=session, external_id=None)
        finding = integrity.duplicate_provider_ids.find()
        assert (finding.count, finding.sample) == (1, [copy.pk])
        assert integrity.duplicate_provider_ids.plan_fix is None
        Message.objects.filter(pk=copy.pk).delete()
    assert first.pk


def test_a_message_of_another_users_session_is_found():
    message = MessageFactory()
    assert integrity.message_user_mismatches.find().count == 0
    Message.objects.filter(pk=message.pk).update(user=UserFactory())
    assert integrity.message_user_mismatches.find().sample == [message.pk]


def test_expired_idempotency_keys_are_found_and_pruned_by_the_command(user):
    old = IdempotencyKey.objects.create(
        owner=user, key="old", fingerprint="x", created_at=timezone.now() - timedelta(hours=25)
    )
    IdempotencyKey.objects.create(owner=user, key="new", fingerprint="x")
    assert integrity.expired_idempotency_keys.find().sample == [old.pk]
    call_command("prune_idempotency_keys")  # dry run
    assert IdempotencyKey.objects.count() == 2
    call_command("prune_idempotency_keys", "--execute")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_heal_deletes_expired_idempotency_keys_journaled_and_undo_puts_them_back(user):
    old = IdempotencyKey.objects.create(
        owner=user, key="old", fingerprint="x", created_at=timezone.now() - timedelta(hours=25)
    )
    IdempotencyKey.objects.create(owner=user, key="new", fingerprint="x")
    before = list(IdempotencyKey.objects.order_by("pk").values())

    journal = apply_plans(plans={"conversations.expired_idempotency_key": integrity.delete_expired_idempotency_keys()})

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert journal.summary["conversations.expired_idempotency_key"] == {"changed": 1, "skipped": 0}
    undo_repair(journal_id=journal.pk)
    assert list(IdempotencyKey.objects.order_by("pk").values()) == before
    assert IdempotencyKey.objects.get(key="old").pk == old.pk


def test_a_key_used_again_after_planning_is_not_deleted(user):
    old = IdempotencyKey.objects.create(
        owner=user, key="old", fingerprint="x", created_at=timezone.now() - timedelta(hours=25)
    )
    plan = integrity.delete_expired_idempotency_keys()
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now())  # renewed meanwhile

    journal = apply_plans(plans={"conversations.expired_idempotency_key": plan})

    assert IdempotencyKey.objects.filter(pk=old.pk).exists()
    assert journal.summary["conversations.expired_idempotency_key"] == {"changed": 0, "skipped": 1}


def test_a_user_starting_too_many_sessions_in_an_hour_is_flagged(settings):
    settings.CONVERSATIONS_MAX_SESSIONS_PER_HOUR = 3
    racer, calm = UserFactory(), UserFactory()
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for n in range(4):
        ChatSessionFactory(user=racer, status="ended", started_at=hour + timedelta(minutes=n))
    for n in range(4):
        ChatSessionFactory(user=calm, status="ended", started_at=hour + timedelta(hours=n))
    finding = integrity.abnormal_session_rates.find()
    assert (finding.count, finding.sample) == (1, [racer.pk])


def test_an_idle_active_session_is_not_a_defect():
    """The user's next message ends it (conditional update); doctor stays quiet about healthy data."""
    ChatSessionFactory(last_activity_at=timezone.now() - timedelta(hours=2))
    call_command("doctor", "--only", "conversations", stdout=StringIO())


def test_doctor_reports_a_conversations_defect_and_heal_fixes_it():
    kept = ChatSessionFactory()
    merged = ChatSessionFactory(user=kept.user, status="merged", merged_into=kept)
    MessageFactory(session=merged, direction="out", tool_outputs={"tool": "t", "items": []})
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("doctor", "--only", "conversations", stdout=out)
    assert "conversations.tool_outputs_in_merged_session" in out.getvalue()
    call_command("heal", "--only", "conversations", "--execute", stdout=StringIO())
    call_command("doctor", "--only", "conversations", stdout=StringIO())  # exits 0 now
