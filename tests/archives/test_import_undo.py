"""An import is journaled row by row and file by file, so `undo_repair` takes it back exactly, or refuses."""

import shutil
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from archives import services
from archives.models import Activity, Prayer
from integrity.models import RepairChange, RepairJournal
from tests.accounts.factories import UserFactory
from tests.archives.factories import ActivityFactory
from tests.archives.test_import_archives import FOLDER, import_archives, snapshot

pytestmark = pytest.mark.django_db

FORK = "prayers/2025/05/2025_05_10_prayer_at_1845_4.txt"  # the newest file of prayer 6d3512ad…
PRAYER = "6d3512addefa444b82607b234e3081cc"


def undo(journal, *, capture):
    with capture(execute=True):  # the files go once the database part has committed
        return call_command("undo_repair", str(journal.pk), stdout=StringIO())


@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "text_archives"
    shutil.copytree(FOLDER, copy)
    return copy


def test_undoing_an_import_puts_back_the_database_and_the_archive_root_exactly(
    archive_files, django_capture_on_commit_callbacks
):
    # Someone is already here: the import links them and sets their inviter; undo must keep them and unset it.
    max_ = UserFactory(username="Max", external_id="user_2abc123xyz")
    services.submit_prayer(acting_user=max_, request="Already on the wall")
    database, files = snapshot(), archive_files()

    output = import_archives(FOLDER, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    assert f"Undo it with: manage.py undo_repair {journal.pk}" in output
    assert snapshot() != database
    kinds = set(journal.changes.values_list("action", "model"))
    assert {
        (RepairChange.Action.CREATE_ROWS, "accounts.user"),
        (RepairChange.Action.CREATE_ROWS, "archives.prayer"),
        (RepairChange.Action.CREATE_ROWS, "archives.activity"),
        (RepairChange.Action.CREATE_ROWS, "integrity.quarantine"),
        (RepairChange.Action.CREATE_FILES, "archive_file"),
    } <= kinds

    undo(journal, capture=django_capture_on_commit_callbacks)

    assert snapshot() == database
    assert archive_files() == files
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.UNDONE


def test_undoing_a_second_import_takes_back_only_what_it_added(
    folder, archive_files, django_capture_on_commit_callbacks
):
    import_archives(folder, "--execute")
    database, files = snapshot(), archive_files()
    with (folder / FORK).open("a", encoding="utf-8") as file:
        file.write(
            "July 20 2025 at 10:00 - Max prayed this prayer\nJuly 20 2025 at 10:05 - ilyag archived this prayer\n"
        )

    import_archives(folder, "--execute")
    assert Prayer.objects.get(archive_id=PRAYER).is_archived
    second = RepairJournal.objects.filter(kind="import").latest("pk")
    assert set(second.changes.values_list("action", flat=True)) == {
        RepairChange.Action.CREATE_ROWS,  # the two events
        RepairChange.Action.UPDATE,  # the prayer's derived state
        RepairChange.Action.CREATE_FILES,  # the grown file, copied beside the one already there
    }

    undo(second, capture=django_capture_on_commit_callbacks)

    assert snapshot() == database
    assert archive_files() == files
    assert not Prayer.objects.get(archive_id=PRAYER).is_archived


def test_an_import_that_brings_nothing_new_leaves_no_journal():
    import_archives(FOLDER, "--execute")
    output = import_archives(FOLDER, "--execute")
    assert RepairJournal.objects.filter(kind="import").count() == 1
    assert "undo_repair" not in output


def test_undo_refuses_when_someone_prayed_for_an_imported_prayer_since_and_changes_nothing(
    archive_files, django_capture_on_commit_callbacks
):
    import_archives(FOLDER, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    prayer = Prayer.objects.get(archive_id=PRAYER)
    services.mark_prayed(acting_user=UserFactory(), prayer=prayer)  # a row and a line in the archive file
    database, files = snapshot(), archive_files()

    with pytest.raises(CommandError, match=f"{prayer.archive_path} has changed since"):
        undo(journal, capture=django_capture_on_commit_callbacks)

    assert snapshot() == database
    assert archive_files() == files
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED


def test_undo_refuses_to_delete_a_prayer_that_has_events_from_after_the_import(django_capture_on_commit_callbacks):
    import_archives(FOLDER, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    later = ActivityFactory(prayer=Prayer.objects.get(archive_id=PRAYER))  # no archive line: only the row tells
    database = snapshot()

    with pytest.raises(CommandError, match=f"is used since by archives.activity {later.pk}"):
        undo(journal, capture=django_capture_on_commit_callbacks)

    assert snapshot() == database
    assert Activity.objects.filter(pk=later.pk).exists()


def test_undo_refuses_to_delete_an_imported_user_who_has_acted_since(django_capture_on_commit_callbacks):
    import_archives(FOLDER, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    max_ = Prayer.objects.get(archive_id=PRAYER).author
    mine = services.submit_prayer(acting_user=max_, request="Written after the import")

    with pytest.raises(CommandError, match=f"is used since by archives.prayer {mine.pk}"):
        undo(journal, capture=django_capture_on_commit_callbacks)

    assert Prayer.objects.filter(pk=mine.pk).exists()


def test_the_dry_run_of_undo_says_what_it_would_delete():
    import_archives(FOLDER, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    out = StringIO()
    call_command("undo_repair", str(journal.pk), "--dry-run", stdout=out)
    assert "delete 12 archives.prayer row(s) it created" in out.getvalue()
    assert "archive file(s) it created" in out.getvalue()
    assert Prayer.objects.count() == 12


def test_registration_lines_appended_to_a_cairn_users_file_are_cut_off_by_undo(
    archive_root, django_capture_on_commit_callbacks
):
    name = "users/2025_06_users.txt"
    cairn = "User Registrations for June 2025\n\n2025-06-01T10:00:00Z - Ann joined directly\t{}\n"
    (archive_root / "users").mkdir()
    (archive_root / name).write_text(cairn)

    import_archives(FOLDER, "--execute")
    assert "José joined on invitation from max" in (archive_root / name).read_text()
    journal = RepairJournal.objects.get(kind="import")
    assert journal.changes.filter(action=RepairChange.Action.APPEND_FILE, object_pk=name).exists()

    undo(journal, capture=django_capture_on_commit_callbacks)

    assert (archive_root / name).read_text() == cairn
