"""archives.importer's set-based writes: topping up existing prayers, bounded statements per batch, atomic
batches, exact values through COPY/executemany, and the bulk copy into the archive root."""

import os
import shutil
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from accounts.models import User
from archives import importer
from archives.models import Activity, Prayer
from archives.services import refresh_state
from archives.thywill import file_order_key, read_thywill_archive
from bench.thywill_archive import generate
from integrity.models import Quarantine

pytestmark = pytest.mark.django_db

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "thywill" / "text_archives"
UTC = ZoneInfo("UTC")
FORK = "prayers/2025/05/2025_05_10_prayer_at_1845_4.txt"  # the newest file of prayer 6d3512ad…
PRAYER = "6d3512addefa444b82607b234e3081cc"


def run_import(folder, *, execute=True, batch_size=1000, on_prayers=None, copy=False):
    archive = read_thywill_archive(folder)
    paths = importer.copy_into_archive_root(folder, archive) if copy else {}
    return importer.import_archive(
        archive=archive, tz=UTC, execute=execute, archive_paths=paths, batch_size=batch_size, on_prayers=on_prayers
    )


def rows():
    return {
        "prayers": list(Prayer.objects.order_by("pk").values()),
        "activities": list(Activity.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values_list("pk", "username_key")),
        "quarantine": list(Quarantine.objects.order_by("pk").values_list("pk", "fingerprint")),
    }


@pytest.fixture
def folder(tmp_path):
    copy = tmp_path / "text_archives"
    shutil.copytree(FOLDER, copy)
    return copy


def append(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.writelines(line + "\n" for line in lines)


def test_lines_appended_since_an_import_are_added_to_the_existing_prayer(folder):
    run_import(folder)
    before = rows()
    append(
        folder / FORK,
        "July 20 2025 at 10:00 - Max prayed this prayer",
        "July 13 2025 at 09:30 - ilyag added testimony: Same minute, written later",
    )

    report = run_import(folder)

    assert (report.prayers_created, report.prayers_existing, report.activities_created) == (0, 12, 2)
    after = rows()
    assert after["activities"][: len(before["activities"])] == before["activities"]  # nothing changed or removed
    new = after["activities"][len(before["activities"]) :]
    # Created in the prayer's event order (R9): by minute, so the testimony first.
    assert [(a["kind"], a["text"]) for a in new] == [("testimony", "Same minute, written later"), ("prayed", "")]
    prayer = Prayer.objects.get(archive_id=PRAYER)
    # Of two testimonies in one minute, the later row is the latest (R9), exactly as refresh_state() says.
    assert prayer.testimony == "Same minute, written later"
    assert (prayer.is_answered, prayer.is_archived) == (True, False)
    state = (prayer.is_answered, prayer.is_archived, prayer.testimony)
    refresh_state(prayer)
    prayer.refresh_from_db()
    assert (prayer.is_answered, prayer.is_archived, prayer.testimony) == state


def test_a_prayer_whose_state_changes_is_updated_and_the_others_are_not(folder):
    run_import(folder)
    untouched = {p.pk: (p.is_answered, p.is_archived, p.testimony) for p in Prayer.objects.exclude(archive_id=PRAYER)}
    append(folder / FORK, "July 20 2025 at 10:00 - ilyag archived this prayer")

    run_import(folder)

    assert Prayer.objects.get(archive_id=PRAYER).is_archived
    assert {
        p.pk: (p.is_answered, p.is_archived, p.testimony) for p in Prayer.objects.exclude(archive_id=PRAYER)
    } == untouched


def test_a_dry_run_after_an_import_counts_only_what_is_missing(folder):
    run_import(folder)
    append(
        folder / FORK,
        "July 20 2025 at 10:00 - Max prayed this prayer",
        "July 21 2025 at 10:00 - Newcomer prayed this prayer",
    )
    before = rows()

    report = run_import(folder, execute=False)

    assert (report.prayers_created, report.activities_created, report.users_created) == (0, 2, 1)
    assert rows() == before


def test_a_batch_that_fails_leaves_none_of_its_prayers(folder, monkeypatch):
    def fail(self, table, rows):
        if table is self.activities:
            raise RuntimeError("the disk is full")
        original(self, table, rows)

    original = importer._PrayerWriter._insert
    monkeypatch.setattr(importer._PrayerWriter, "_insert", fail)
    with pytest.raises(RuntimeError):
        run_import(folder)
    assert not Prayer.objects.exists()
    assert not Activity.objects.exists()


def statements_per_batch(folder, *, batch_size):
    """The statements each batch after the first sends (the first also holds the users)."""
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    marks = []
    with connection.execute_wrapper(counter):
        run_import(folder, batch_size=batch_size, on_prayers=lambda n: marks.append(count))
    return [b - a for a, b in zip(marks, marks[1:], strict=False)]


def test_each_batch_sends_the_same_few_statements_however_many_events_it_holds(tmp_path):
    folder = tmp_path / "generated"
    generate(folder, prayers=60, users=30, seed=3)
    archive = read_thywill_archive(folder)
    sizes = [sum(len(p.events) for p in archive.prayers[i : i + 15]) for i in range(0, 60, 15)]
    assert len(set(sizes)) > 1  # the batches really differ

    first = statements_per_batch(folder, batch_size=15)
    again = statements_per_batch(folder, batch_size=15)

    assert len(first) == 3
    assert len(set(first)) == 1
    # savepoint, SELECT, INSERT prayers, SELECT ids, INSERT activities, SELECT their ids, INSERT journal, release
    assert first[0] <= 8
    assert len(set(again)) == 1
    assert again[0] <= 4  # savepoint, SELECT prayers, SELECT activities, release


def test_a_generated_archive_imports_every_event_and_a_second_import_changes_nothing(tmp_path):
    folder = tmp_path / "generated"
    generate(folder, prayers=120, users=40, seed=5)
    archive = read_thywill_archive(folder)

    report = run_import(folder, batch_size=50, copy=True)

    assert report.prayers_created == 120 == Prayer.objects.count()
    events = Counter(
        (p.archive_id, e.kind, e.actor_key, importer.to_instant(e.at, UTC), e.text)
        for p in archive.prayers
        for e in p.events
    )
    keys = dict(User.objects.values_list("pk", "username_key"))
    stored = Counter(
        (a.prayer.archive_id, a.kind, keys.get(a.actor_id), a.at, a.text)
        for a in Activity.objects.select_related("prayer")
    )
    assert stored == events
    for prayer in Prayer.objects.all()[:30]:
        state = (prayer.is_answered, prayer.is_archived, prayer.testimony)
        refresh_state(prayer)
        assert (prayer.is_answered, prayer.is_archived, prayer.testimony) == state
    before = rows()
    assert not run_import(folder, batch_size=50, copy=True).changed_anything
    assert rows() == before


def test_texts_with_tabs_backslashes_and_line_breaks_are_stored_exactly(tmp_path):
    folder = tmp_path / "text_archives"
    (folder / "prayers/2025/06").mkdir(parents=True)
    request = "Back\\slash, a\ttab, \\N, \\t and 'quotes'\n\nsecond line \\"
    testimony = "C:\\temp\\new\t\\N tab"
    (folder / "prayers/2025/06/2025_06_01_prayer_at_1000.txt").write_text(
        "Prayer abc by Ann\nSubmitted June 01 2025 at 10:00\n\n"
        f"{request}\n\nActivity:\nJune 02 2025 at 10:00 - Ann added testimony: {testimony}\n",
        encoding="utf-8",
    )

    run_import(folder)

    prayer = Prayer.objects.get(archive_id="abc")
    assert prayer.request == request
    assert prayer.testimony == testimony
    assert Activity.objects.get().text == testimony


# --- the copy into the archive root ------------------------------------------------------------------------


def copy_into_root(folder):
    archive = read_thywill_archive(folder)
    return importer.copy_into_archive_root(folder, archive), archive


def test_every_file_is_copied_byte_for_byte_and_no_temporary_file_is_left(folder, archive_root):
    placed, _ = copy_into_root(folder)

    sources = [path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()]
    assert sorted(placed) == sorted(relpath for relpath in sources if file_order_key(relpath) is not None)
    for relpath, final in placed.items():
        assert final == relpath
        assert (archive_root / final).read_bytes() == (folder / relpath).read_bytes()
    assert not [p for p in archive_root.rglob("*") if p.name.startswith(".tmp")]


def test_a_file_already_there_with_lines_appended_since_is_left_alone(folder, archive_root):
    target = archive_root / FORK
    target.parent.mkdir(parents=True)
    target.write_bytes((folder / FORK).read_bytes() + b"July 30 2025 at 10:00 - Max prayed this prayer\n")
    before = os.stat(target)

    placed, archive = copy_into_root(folder)

    assert placed[FORK] == FORK
    after = os.stat(target)
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert not [q for q in archive.quarantine if q.reason == "archive_conflict"]


def test_a_different_prayer_file_under_the_name_moves_the_copy_to_the_next_free_name(folder, archive_root):
    name = "prayers/2025/06/2025_06_02_prayer_at_1400.txt"
    (archive_root / name).parent.mkdir(parents=True)
    (archive_root / name).write_bytes(b"someone else's file\n")

    placed, _ = copy_into_root(folder)

    assert placed[name] == "prayers/2025/06/2025_06_02_prayer_at_1400_2.txt"
    assert (archive_root / name).read_bytes() == b"someone else's file\n"
    assert (archive_root / placed[name]).read_bytes() == (folder / name).read_bytes()


def test_a_registration_file_whose_name_cairn_holds_gets_the_lines_it_lacks_once(folder, archive_root):
    name = "users/2025_06_users.txt"
    cairn = "User Registrations for June 2025\n\n2025-06-01T10:00:00Z - Ann joined directly\t{}\n"
    (archive_root / "users").mkdir()
    (archive_root / name).write_text(cairn)
    thywill = (folder / name).read_text().splitlines()

    placed, archive = copy_into_root(folder)

    assert placed[name] == name
    text = (archive_root / name).read_text()
    assert text == cairn + "".join(f"{line}\n" for line in thywill[2:] if line.strip())
    assert not [q for q in archive.quarantine if q.reason == "archive_conflict"]
    copy_into_root(folder)  # a second import adds nothing
    assert (archive_root / name).read_text() == text


def test_a_registration_file_whose_name_a_binary_file_holds_is_quarantined(folder, archive_root):
    name = "users/2025_06_users.txt"
    (archive_root / "users").mkdir()
    (archive_root / name).write_bytes(b"\xff\xfe not text")

    placed, archive = copy_into_root(folder)

    assert name not in placed
    assert (archive_root / name).read_bytes() == b"\xff\xfe not text"
    [conflict] = [q for q in archive.quarantine if q.reason == "archive_conflict"]
    assert conflict.payload["relpath"] == name


def test_a_name_taken_while_copying_goes_to_the_next_free_name(folder, archive_root, monkeypatch):
    name = "prayers/2025/07/2025_07_03_prayer_at_1645.txt"
    real_flush = importer._RootCopier._flush

    def flush(self):  # another writer creates the name between the staging and the link
        if (archive_root / name).parent.is_dir() and not (archive_root / name).exists():
            (archive_root / name).write_bytes(b"a live prayer\n")
        real_flush(self)

    monkeypatch.setattr(importer._RootCopier, "_flush", flush)
    placed, _ = copy_into_root(folder)

    assert placed[name] == "prayers/2025/07/2025_07_03_prayer_at_1645_2.txt"
    assert (archive_root / placed[name]).read_bytes() == (folder / name).read_bytes()
    assert not [p for p in archive_root.rglob("*") if p.name.startswith(".tmp")]
