"""manage.py import_archives on the ThyWill sample: the database ends up exactly as expected.json says."""

import json
import re
import shutil
from collections import Counter
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from archives.models import Activity, Prayer
from integrity.models import Quarantine, RepairJournal
from tests.accounts.factories import UserFactory
from tests.archives.test_thywill import T1, USERS, prayer_text, registrations, write

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "thywill"
FOLDER = FIXTURES / "text_archives"
ZIP = FIXTURES / "complete_site_archive.zip"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def import_archives(*args, stderr=None):
    out = StringIO()
    call_command("import_archives", *map(str, args), stdout=out, stderr=stderr or StringIO())
    return out.getvalue()


def snapshot():
    """Every row the import can touch, primary keys included."""
    return {
        "users": list(User.objects.order_by("pk").values()),
        "prayers": list(Prayer.objects.order_by("pk").values()),
        "activities": list(Activity.objects.order_by("pk").values()),
        "quarantine": list(Quarantine.objects.order_by("pk").values("pk", "source", "reason", "payload")),
    }


def event_order(event):
    kind, actor_key, minute, text = event
    return (kind, actor_key or "", minute, text)


def key_of(user_id, keys):
    return keys.get(user_id) if user_id else None


def assert_database_matches_expected():
    keys = dict(User.objects.values_list("pk", "username_key"))
    users = {
        u.username_key: {"username": u.username, "invited_by_key": key_of(u.invited_by_id, keys)}
        for u in User.objects.all()
    }
    assert users == EXPECTED["users"]

    prayers = {p.archive_id: p for p in Prayer.objects.all()}
    assert len(prayers) == EXPECTED["totals"]["prayers"]
    for name, expected in EXPECTED["prayers"].items():
        if expected["temp"]:
            [prayer] = [p for p in prayers.values() if p.request == expected["request"]]
            assert prayer.archive_id != "temp"
        else:
            prayer = prayers[name]
        assert key_of(prayer.author_id, keys) == expected["author_key"]
        assert prayer.submitted_at == datetime.fromisoformat(expected["submitted_at"])
        assert (prayer.request, prayer.generated_prayer) == (expected["request"], expected["generated_prayer"])
        assert (prayer.is_answered, prayer.is_archived, prayer.testimony) == (
            expected["is_answered"],
            expected["is_archived"],
            expected["testimony"],
        )
        events = [
            [a.kind, key_of(a.actor_id, keys), a.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"), a.text]
            for a in prayer.activities.all()
        ]
        assert sorted(events, key=event_order) == sorted(expected["events"], key=event_order), name
    kinds = Counter(Activity.objects.values_list("kind", flat=True))
    assert dict(kinds) == {k: v for k, v in EXPECTED["totals"]["activities_by_kind"].items() if v}
    assert dict(Counter(Quarantine.objects.values_list("reason", flat=True))) == EXPECTED["quarantine"]


def test_the_sample_folder_imports_to_exactly_the_expected_result():
    output = import_archives(FOLDER, "--execute")
    assert "Imported: 11 new user(s)" in output
    assert_database_matches_expected()


def test_importing_twice_changes_nothing(archive_root):
    import_archives(FOLDER, "--execute")
    before = snapshot()
    output = import_archives(FOLDER, "--execute")
    assert "Nothing new: this archive was already imported." in output
    assert snapshot() == before


def test_the_zip_imports_the_same_and_re_importing_it_after_the_folder_changes_nothing():
    import_archives(ZIP, "--execute")
    assert_database_matches_expected()
    before = snapshot()
    import_archives(FOLDER, "--execute")
    assert snapshot() == before


def test_a_dry_run_reports_the_counts_and_writes_nothing(archive_root):
    output = import_archives(FOLDER)
    assert "Would import: 11 new user(s)" in output
    assert "12 new prayer(s)" in output
    assert f"{EXPECTED['totals']['activities']} activity row(s)" in output
    assert "Dry run: nothing changed." in output
    links = re.search(r"(\d+) inviter link", output).group(1)
    assert links == str(sum(1 for user in EXPECTED["users"].values() if user["invited_by_key"]))
    assert not User.objects.exists()
    assert not Quarantine.objects.exists()
    assert not any(archive_root.iterdir())


def test_stored_paths_are_files_under_the_archive_root(archive_root):
    import_archives(FOLDER, "--execute")
    for prayer in Prayer.objects.all():
        assert not Path(prayer.archive_path).is_absolute()
        assert (archive_root / prayer.archive_path).is_file()
    primary = Prayer.objects.get(archive_id="6d3512addefa444b82607b234e3081cc")
    assert primary.archive_path == "prayers/2025/05/2025_05_10_prayer_at_1845.txt"


def test_the_imported_archive_root_reimports_to_the_same_database(archive_root):
    import_archives(FOLDER, "--execute")
    before = snapshot()
    import_archives(archive_root, "--execute")
    assert snapshot() == before


def test_a_timezone_shifts_every_stored_instant():
    import_archives(FOLDER, "--execute", "--timezone", "America/New_York")
    prayer = Prayer.objects.get(archive_id="6d3512addefa444b82607b234e3081cc")
    assert prayer.submitted_at == datetime(2025, 5, 10, 22, 45, tzinfo=UTC)  # 18:45 EDT


def test_an_existing_user_with_the_same_key_is_linked_and_never_renamed():
    max_ = UserFactory(username="MAX", external_id="user_2abc123xyz")
    import_archives(FOLDER, "--execute")
    max_.refresh_from_db()
    assert (max_.username, max_.external_id) == ("MAX", "user_2abc123xyz")
    assert Activity.objects.filter(actor=max_).exists()
    assert User.objects.filter(username_key="max").count() == 1


def test_the_import_is_journaled():
    import_archives(FOLDER, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    assert journal.summary["prayers_created"] == 12
    assert journal.summary["quarantined"]["temp_prayer"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/place"], "/no/such/place: no such folder or .zip file"),
        (["{folder}", "--timezone", "Mars/Olympus"], "--timezone Mars/Olympus: not an IANA time zone name"),
    ],
)
def test_bad_arguments_are_clear_errors(args, message):
    with pytest.raises(CommandError, match=message):
        import_archives(*[a.format(folder=FOLDER) for a in args])


def test_an_empty_folder_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match=f"{empty}: not a ThyWill archive"):
        import_archives(empty)


def test_a_broken_file_is_quarantined_and_the_rest_imported(tmp_path):
    folder = tmp_path / "text_archives"
    shutil.copytree(FOLDER, folder)
    (folder / "prayers/2025/05/2025_05_07_prayer_at_0915.txt").write_bytes(b"\xff\xfe\x00binary")
    (folder / "prayers/2025/06/2025_06_05_prayer_at_1111.txt").write_text("Prayer x by Max\nSubmitted June 05 2025")
    errors = StringIO()
    output = import_archives(folder, "--execute", stderr=errors)
    assert "unreadable_file 1" in output
    assert "prayers/2025/05/2025_05_07_prayer_at_0915.txt: " in errors.getvalue()
    assert "prayers/2025/06/2025_06_05_prayer_at_1111.txt" in errors.getvalue()
    assert Prayer.objects.count() == EXPECTED["totals"]["prayers"] - 2
    record = Quarantine.objects.get(reason="unreadable_file")
    assert "prayers/2025/05/2025_05_07_prayer_at_0915.txt" in record.source


def test_a_name_merged_into_another_user_imports_to_the_survivor():
    from integrity import merge

    survivor, max_ = UserFactory(username="Maximilian"), UserFactory(username="Max")
    merge.execute_merge(plan=merge.plan_merge(survivor=survivor, losers=[max_]))

    import_archives(FOLDER, "--execute")

    assert not Activity.objects.filter(actor=max_).exists()
    assert not Prayer.objects.filter(author=max_).exists()
    assert Activity.objects.filter(actor=survivor).exists()


def test_a_name_merged_into_its_own_inviter_never_makes_anyone_their_own_inviter():
    from integrity import merge

    ilyag, max_ = UserFactory(username="ilyag"), UserFactory(username="Max")  # the archive: Max invited by ilyag
    merge.execute_merge(plan=merge.plan_merge(survivor=ilyag, losers=[max_]))

    import_archives(FOLDER, "--execute")

    ilyag.refresh_from_db()
    assert ilyag.invited_by is None
    assert User.objects.get(username_key="josé").invited_by == ilyag  # José was invited by Max


def test_a_long_display_name_is_imported_whole_on_every_database(tmp_path):
    name = "Brother " + " ".join(["Emmanuel"] * 30)  # 278 characters; ThyWill sets no limit
    folder = tmp_path / "text_archives"
    write(folder, USERS, registrations(f"{T1} - {name} joined directly"))
    write(
        folder,
        "prayers/2025/06/2025_06_05_prayer_at_0900.txt",
        prayer_text(f"{T1} - {name} prayed this prayer", author=name),
    )
    import_archives(folder, "--execute")
    user = User.objects.get()
    assert user.username == name
    assert Prayer.objects.get().author == user


def test_a_nul_character_in_a_request_is_imported_as_the_replacement_character_on_every_database(tmp_path):
    folder = tmp_path / "text_archives"
    text = prayer_text(f"{T1} - Max prayed this prayer", request="Pray for\x00 rain.")
    write(folder, "prayers/2025/06/2025_06_05_prayer_at_0900.txt", text)
    import_archives(folder, "--execute")
    prayer = Prayer.objects.get()
    assert prayer.request == "Pray for\ufffd rain."
    assert prayer.activities.count() == 1
    before = snapshot()
    assert "Nothing new" in import_archives(folder, "--execute")  # read the same way again: nothing to top up
    assert snapshot() == before
    call_command("doctor", "--only", "archives", stdout=StringIO())  # the archive and the database agree
