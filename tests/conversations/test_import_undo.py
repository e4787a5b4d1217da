"""import_conversations journals every row it creates and every archive line it appends, so `undo_repair`
takes an import back exactly, or refuses when something happened since."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.models import User
from conversations import services
from conversations.models import ChatSession, Conversation
from integrity.models import RepairChange, RepairJournal
from integrity.services import undo_repair
from tests.accounts.factories import UserFactory
from tests.conversations.factories import ConversationFactory
from tests.conversations.test_import_conversations import actual_state, expected_state, run, snapshot

pytestmark = pytest.mark.django_db

OWNER = "user_2NfVb3kQm8Xc4pLr7TzW9yHd1Ae"  # owns conversations in the sample
MEMBER = "wa:9b8a7c6d-5e4f-4321-8fed-cba987654321"  # has an active and a merged chat session in the sample


def test_undoing_an_import_puts_back_the_database_and_the_archive_root_exactly(
    sample, archive_files, django_capture_on_commit_callbacks
):
    # Someone of the sample is already here, with a conversation of their own: undo keeps both.
    owner = UserFactory(external_id=OWNER, username=OWNER)
    ConversationFactory(owner=owner, session_id="made-in-cairn")
    UserFactory(external_id=MEMBER, username="Chen Wei")  # without a phone number: the import gives them theirs
    database, files = snapshot(), archive_files()

    output = run(sample, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    assert f"Undo it with: manage.py undo_repair {journal.pk}" in output
    assert set(journal.changes.values_list("action", "model")) == {
        (RepairChange.Action.CREATE_ROWS, "accounts.user"),
        (RepairChange.Action.CREATE_ROWS, "conversations.conversation"),
        (RepairChange.Action.CREATE_ROWS, "conversations.fieldrevision"),
        (RepairChange.Action.CREATE_ROWS, "conversations.chatsession"),
        (RepairChange.Action.CREATE_ROWS, "conversations.message"),
        (RepairChange.Action.CREATE_ROWS, "conversations.importedrecord"),
        (RepairChange.Action.CREATE_ROWS, "integrity.quarantine"),
        (RepairChange.Action.APPEND_FILE, "archive_file"),  # the users it created joined in the archive
        (RepairChange.Action.UPDATE, "accounts.user"),  # Chen Wei's phone number
    }
    assert snapshot() != database

    with django_capture_on_commit_callbacks(execute=True):
        call_command("undo_repair", str(journal.pk), stdout=StringIO())

    assert snapshot() == database
    assert archive_files() == files
    assert User.objects.get(external_id=MEMBER).phone_number == ""
    Conversation.objects.filter(session_id="made-in-cairn").delete()
    run(sample, "--execute")  # and it imports again, to the same result
    assert actual_state() == expected_state()


def test_undo_is_refused_when_an_imported_conversation_was_saved_since(sample):
    run(sample, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    conversation = Conversation.objects.filter(owner__external_id=OWNER).first()
    services.save_conversation(
        owner=conversation.owner, session_id=conversation.session_id, source="test", transcript="Said since."
    )
    database = snapshot()

    with pytest.raises(ValidationError, match=rf"conversations\.conversation {conversation.pk} .*has changed since"):
        undo_repair(journal_id=journal.pk)

    assert snapshot() == database
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED


def test_undo_is_refused_when_a_message_arrived_in_an_imported_session(sample):
    run(sample, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    active = ChatSession.objects.get(user__external_id=MEMBER, status=ChatSession.Status.ACTIVE)
    services.receive_message(
        user=User.objects.get(external_id=MEMBER), external_id="SM-after", body="hello", now=active.last_activity_at
    )
    database = snapshot()

    with pytest.raises(ValidationError, match=r"cannot be undone: .*conversations\.message"):
        undo_repair(journal_id=journal.pk)

    assert snapshot() == database
