"""import_alwrity journals every row it creates or changes and every archive line it appends, so
`undo_repair` takes an import back exactly, or refuses when something happened since."""

import re
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts import services as accounts_services
from accounts.models import User
from integrity.models import Quarantine, RepairChange, RepairJournal
from integrity.services import review_quarantine, undo_repair
from onboarding import crypto, importer, services
from onboarding.models import ApiKey, OnboardingSession, WebsiteAnalysis
from tests.accounts.factories import UserFactory
from tests.onboarding.test_import_alwrity import EXPECTED, assert_matches_expected, run, snapshot

pytestmark = pytest.mark.django_db

IMPORTED = "user_2abc123xyz"  # a user of the sample, with a session, keys and analyses


def undo(journal_id: int, *, capture) -> str:
    with capture(execute=True):  # archive lines go once the database part has committed
        out = StringIO()
        call_command("undo_repair", str(journal_id), stdout=out)
    return out.getvalue()


def test_undoing_an_import_puts_back_the_database_and_the_archive_root_exactly(
    archive_files, django_capture_on_commit_callbacks
):
    accounts_services.ensure_user(external_id="user_already_here", username="Already Here")  # joins the archive
    database, files = snapshot(), archive_files()

    output = run("--execute")
    journal = RepairJournal.objects.get(kind="import")
    assert f"Undo it with: manage.py undo_repair {journal.pk}" in output
    assert set(journal.changes.values_list("action", "model")) >= {
        (RepairChange.Action.CREATE_ROWS, "accounts.user"),
        (RepairChange.Action.CREATE_ROWS, "onboarding.onboardingsession"),
        (RepairChange.Action.CREATE_ROWS, "onboarding.apikey"),
        (RepairChange.Action.CREATE_ROWS, "onboarding.websiteanalysis"),
        (RepairChange.Action.CREATE_ROWS, "onboarding.researchpreferences"),
        (RepairChange.Action.CREATE_ROWS, "onboarding.personadata"),
        (RepairChange.Action.CREATE_ROWS, "integrity.quarantine"),
        (RepairChange.Action.APPEND_FILE, "archive_file"),
    }
    assert archive_files() != files

    output = undo(journal.pk, capture=django_capture_on_commit_callbacks)

    assert re.search(r"undone: [\d,]+ created row\(s\) deleted, \d+ file change\(s\)\.", output), output
    assert snapshot() == database
    assert archive_files() == files  # the users it created no longer join in the archive
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.UNDONE
    run("--execute")  # and it can be imported again, to the same result
    assert_matches_expected()


def test_a_users_file_the_import_created_goes_with_the_undo(archive_files, django_capture_on_commit_callbacks):
    run("--execute")
    journal = RepairJournal.objects.get(kind="import")
    appends = journal.changes.filter(action=RepairChange.Action.APPEND_FILE).order_by("pk")
    sizes = [(change.before["size"], change.after["size"]) for change in appends]  # one per user's transaction
    assert sizes[0][0] is None  # the first one created the file
    assert all(sizes[i][0] == sizes[i - 1][1] for i in range(1, len(sizes)))  # each starts where the last ended
    undo(journal.pk, capture=django_capture_on_commit_callbacks)
    assert archive_files() == {}


def test_undoing_an_import_that_changed_rows_gives_them_their_values_and_times_back(
    archive_files, django_capture_on_commit_callbacks
):
    run("--execute")
    session = OnboardingSession.objects.get(user__external_id=IMPORTED)
    # Cairn's rows drift from the legacy data: the next import writes the legacy values over them.
    OnboardingSession.objects.filter(pk=session.pk).update(current_step=2)
    ApiKey.objects.filter(session=session).update(secret=crypto.encrypt("sk-edited-in-cairn"))
    WebsiteAnalysis.objects.filter(session=session).update(status="failed")
    database, files = snapshot(), archive_files()

    output = run("--execute")
    assert "Updated: onboarding.apikey" in output
    journal = RepairJournal.objects.filter(kind="import").latest("pk")
    updated = set(journal.changes.filter(action=RepairChange.Action.UPDATE).values_list("model", flat=True))
    assert updated == {"onboarding.onboardingsession", "onboarding.apikey", "onboarding.websiteanalysis"}
    assert not journal.changes.exclude(action=RepairChange.Action.UPDATE).exists()
    assert snapshot() != database

    undo(journal.pk, capture=django_capture_on_commit_callbacks)

    assert snapshot() == database  # updated_at included
    assert archive_files() == files


def test_an_import_that_changed_nothing_leaves_no_journal_to_undo():
    run("--execute")
    output = run("--execute")
    assert "Undo it with" not in output
    assert RepairJournal.objects.filter(kind="import").count() == 1


def test_undo_is_refused_when_an_imported_session_was_changed_since(django_capture_on_commit_callbacks):
    run("--execute")
    journal = RepairJournal.objects.get(kind="import")
    user = OnboardingSession.objects.get(user__external_id=IMPORTED).user
    services.save_business_description(user=user, description="We make bread.")
    database = snapshot()

    with pytest.raises(ValidationError, match=r"onboarding\.onboardingsession \d+ .*has changed since the import"):
        undo_repair(journal_id=journal.pk)

    assert snapshot() == database
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED


def test_undo_is_refused_when_someone_joined_after_the_imported_users(archive_files):
    run("--execute")
    journal = RepairJournal.objects.get(kind="import")
    UserFactory(username="Newcomer")
    accounts_services.archive_joined(user=UserFactory(username="Latecomer"))  # appends to the same users file
    database, files = snapshot(), archive_files()

    with pytest.raises(ValidationError, match=r"users/\d{4}_\d{2}_users\.txt has changed since"):
        undo_repair(journal_id=journal.pk)

    assert snapshot() == database
    assert archive_files() == files


def test_undo_is_refused_when_staff_reviewed_a_record_the_import_quarantined(admin_user):
    run("--execute")
    journal = RepairJournal.objects.get(kind="import")
    record = Quarantine.objects.first()
    review_quarantine(pks=[record.pk], status=Quarantine.Status.RESOLVED, acting_user=admin_user)
    database = snapshot()

    with pytest.raises(ValidationError, match=rf"integrity\.quarantine {record.pk} .*has changed since the import"):
        undo_repair(journal_id=journal.pk)

    assert snapshot() == database


def test_a_user_the_rules_reject_is_named_and_the_others_of_the_transaction_are_imported_and_undoable(
    archive_files, django_capture_on_commit_callbacks
):
    # Both names the import would give IMPORTED belong to other Cairn users already.
    UserFactory(username=IMPORTED.upper(), external_id="someone_else")
    UserFactory(username=importer._username(IMPORTED, 1), external_id="someone_else_again")
    database, files = snapshot(), archive_files()

    with pytest.raises(CommandError, match=r"1 user\(s\) could not be imported"):
        run("--execute")

    assert not User.objects.filter(external_id=IMPORTED).exists()
    assert OnboardingSession.objects.count() == len(EXPECTED["users"]) - 1
    journal = RepairJournal.objects.get(kind="import")
    assert any(IMPORTED in problem for problem in journal.summary["problems"])
    undo(journal.pk, capture=django_capture_on_commit_callbacks)
    assert snapshot() == database
    assert archive_files() == files
