"""archives.thywill reads Cairn's archive root: Cairn files, ThyWill files with Cairn lines appended, account events.

Files are written into tmp_path with Cairn's own writer (archives.archive_format), or copied from the ThyWill sample
(tests/fixtures/thywill) and appended to the way archives.services appends to an imported file.
"""

import collections
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archives.archive_format import (
    PHRASES,
    AccountEvent,
    prayer_file_name,
    render_account_line,
    render_event_line,
    render_prayer_file,
)
from archives.thywill import LegacyEvent, read_archive, read_thywill_archive

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "thywill" / "text_archives"
NEW_YORK = ZoneInfo("America/New_York")

MAX, ANN = "cairn:7d1c1f3e-5b44-4a51-9a57-3d9f0f6a1c2e", "cairn:1b2c3d4e-0000-4000-8000-00000000000a"
SUBMITTED = datetime(2025, 6, 5, 9, 7, 31, tzinfo=UTC)
PRAYER = prayer_file_name(SUBMITTED)  # prayers/2025/06/2025_06_05_prayer_at_0907.txt
FORK = PRAYER.replace(".txt", "_2.txt")
TRICKY_REQUEST = "\n".join(
    [
        "",
        "  ",
        "Activity:",
        "Generated Prayer:",
        "Prayer for my dad by Friday",
        "Format: cairn/1",
        "Request-Lines: 99",
        "June 02 2025 at 10:00 - Zed prayed this prayer",
        '2025-06-02T10:00:00Z - Zed prayed this prayer\t{"kind": "prayed", "actor": "cairn:zed"}',
        "",
        "Details: Tuesday 8am\t(tab)",
        "",
    ]
)

# Mixed-file fixtures: a sample prayer (one ThyWill file, four events) and an archived one (two files).
CHEMO = "prayers/2025/06/2025_06_05_prayer_at_1111.txt"
CHEMO_ID = "12f7abaedcf04660a786c25ab1450b22"
COLLEGE_FORK = (
    "prayers/2025/07/2025_07_10_prayer_at_0730_2.txt"  # ends `July 16 2025 at 08:00 - username set archived…`
)
COLLEGE_ID = "7c47a0ac44c94fa19a3739e21d79aa1b"


def write(root: Path, relpath: str, content: str) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8", newline="")


def append(root: Path, relpath: str, *lines: str) -> None:
    with (root / relpath).open("a", encoding="utf-8", newline="") as file:
        file.write("".join(lines))


def cairn_prayer(archive_id="3f9c2b7e5a1d4c8e9b0a7f6e5d4c3b2a", **fields) -> str:
    values = {"author_name": "Walk by Faith", "author_id": MAX, "submitted_at": SUBMITTED, "request": "Pray for rain."}
    return render_prayer_file(archive_id=archive_id, **{**values, **fields})


def event(at: datetime, kind: str = "prayed", actor_id: str | None = ANN, name: str = "Ann", text: str = "") -> str:
    return render_event_line(at=at, kind=kind, actor_name=name, actor_id=actor_id, text=text)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def only_prayer(archive):
    assert len(archive.prayers) == 1
    return archive.prayers[0]


def prayer_by_id(archive, archive_id: str):
    (prayer,) = [prayer for prayer in archive.prayers if prayer.archive_id == archive_id]
    return prayer


def reasons(archive) -> collections.Counter:
    return collections.Counter(record.reason for record in archive.quarantine)


def is_archived(prayer) -> bool:
    moves = [e.kind for e in prayer.events if e.kind in ("archived", "restored")]
    return bool(moves) and moves[-1] == "archived"


@pytest.fixture
def sample_copy(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(SAMPLE, root)
    return root


# --- Cairn prayer files -----------------------------------------------------------------------------------


def test_a_cairn_prayer_file_reads_back_exactly(tmp_path):
    write(
        tmp_path,
        PRAYER,
        cairn_prayer(request=TRICKY_REQUEST, generated_prayer="\nLord, be near.\n\nAmen.\n")
        + event(at(2025, 6, 5, 10, 0, 12))
        + event(at(2025, 6, 20, 18, 2, 40), "answered", MAX, "Walk by Faith")
        + event(at(2025, 6, 20, 18, 2, 40), "testimony", MAX, "Walk by Faith", text="He is home.\n\tThank you.\n"),
    )
    archive = read_thywill_archive(tmp_path)
    prayer = only_prayer(archive)
    assert (prayer.archive_id, prayer.temp, prayer.files) == ("3f9c2b7e5a1d4c8e9b0a7f6e5d4c3b2a", False, (PRAYER,))
    assert prayer.request == TRICKY_REQUEST
    assert prayer.generated_prayer == "\nLord, be near.\n\nAmen.\n"
    assert (prayer.author_key, prayer.author_id) == (None, MAX)
    assert prayer.submitted_at == SUBMITTED
    assert prayer.events == (
        LegacyEvent("prayed", None, at(2025, 6, 5, 10, 0, 12), "", ANN),
        LegacyEvent("answered", None, at(2025, 6, 20, 18, 2, 40), "", MAX),
        LegacyEvent("testimony", None, at(2025, 6, 20, 18, 2, 40), "He is home.\n\tThank you.\n", MAX),
    )
    assert all(e.at.tzinfo is UTC for e in prayer.events)
    assert archive.users == {}  # Cairn names nobody by name: no user from the author or the actors
    assert archive.quarantine == []
    assert (archive.files_read, archive.lines_read) == (1, 31)


def test_a_cairn_file_without_author_id_has_a_placeholder_author(tmp_path):
    write(tmp_path, PRAYER, cairn_prayer(author_id=None, author_name="Max"))
    archive = read_thywill_archive(tmp_path)
    assert (only_prayer(archive).author_key, only_prayer(archive).author_id) == (None, None)
    archive_id = "3f9c2b7e5a1d4c8e9b0a7f6e5d4c3b2a"
    assert [(r.reason, r.payload) for r in archive.quarantine] == [
        (
            "placeholder_author",
            {"relpath": PRAYER, "line": 1, "raw": f"Prayer {archive_id} by Max", "archive_id": archive_id},
        )
    ]
    assert archive.users == {}


def test_the_author_id_comes_from_the_first_cairn_file_and_the_author_key_from_thywill_files(tmp_path):
    write(tmp_path, PRAYER, cairn_prayer(archive_id="p1", author_id=None))
    write(tmp_path, FORK, cairn_prayer(archive_id="p1", author_id=ANN, request="fork"))
    thywill = "Prayer p1 by Max\nSubmitted June 05 2025 at 09:07\n\nfork\n\nActivity:\n"
    write(tmp_path, PRAYER.replace(".txt", "_3.txt"), thywill)
    archive = read_thywill_archive(tmp_path)
    prayer = only_prayer(archive)
    assert (prayer.author_id, prayer.author_key, prayer.request) == (ANN, "max", "Pray for rain.")
    assert "placeholder_author" not in reasons(archive)


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        (lambda text: text.replace("Request-Lines: 1", "Request-Lines: 2"), 10),
        (lambda text: text.replace("Request-Lines: 1", "Request-Lines: x"), 5),
        (lambda text: text.replace("Request-Lines: 1", "Request-Lines: ²"), 5),
        (lambda text: text.replace("Request-Lines: 1\n", ""), None),
        (lambda text: text.replace("Activity:\n", ""), 10),
        (lambda text: text.replace("Submitted 2025-06-05T09:07:31Z", "Submitted June 05 2025 at 09:07"), 2),
        (lambda text: text.replace("Prayer 3f9c", "Prayer  3f9c"), 1),
        (lambda text: text.split("\n\n")[0], None),
    ],
)
def test_an_unparsable_cairn_file_is_quarantined(tmp_path, damage, line):
    write(tmp_path, PRAYER, damage(cairn_prayer(request="Pray for rain.")) + event(at(2025, 6, 5, 10, 0, 0)))
    write(tmp_path, FORK, cairn_prayer(archive_id="other"))
    archive = read_thywill_archive(tmp_path)
    assert [prayer.archive_id for prayer in archive.prayers] == ["other"]
    assert reasons(archive) == {"unparsed_prayer_file": 1}
    (record,) = archive.quarantine
    assert (record.source, record.payload["relpath"], record.payload["line"]) == (
        f"thywill:{PRAYER}" + (f":{line}" if line else ""),
        PRAYER,
        line,
    )
    assert record.payload["why"]


# --- Cairn events in any prayer file ----------------------------------------------------------------------


def test_a_mixed_file_gives_the_thywill_events_and_the_cairn_events(sample_copy):
    original = read_thywill_archive(SAMPLE)
    append(
        sample_copy,
        CHEMO,
        event(at(2025, 6, 6, 7, 45, 0), actor_id=MAX, name="Max"),  # the same minute as `AK prayed`: its own event
        event(at(2025, 6, 5, 12, 0, 59), actor_id=MAX, name="Max"),  # ThyWill's `Max prayed` minute: never merged
        event(at(2025, 7, 1, 9, 0, 5), "answered", ANN, "José"),
        event(at(2025, 7, 1, 9, 0, 5), "testimony", ANN, "José", text="Scan is clear.\nPraise God!"),
    )
    archive = read_thywill_archive(sample_copy)
    prayer = prayer_by_id(archive, CHEMO_ID)
    assert [(e.kind, e.actor_key, e.actor_id, e.at, e.text) for e in prayer.events] == [
        ("prayed", "max", None, at(2025, 6, 5, 12, 0), ""),
        ("prayed", None, MAX, at(2025, 6, 5, 12, 0, 59), ""),
        ("prayed", "ak", None, at(2025, 6, 6, 7, 45), ""),
        ("prayed", None, MAX, at(2025, 6, 6, 7, 45), ""),
        ("prayed", "josé", None, at(2025, 6, 7, 8, 0), ""),
        ("prayed", "mary ann", None, at(2025, 6, 7, 8, 20), ""),
        ("answered", None, ANN, at(2025, 7, 1, 9, 0, 5), ""),
        ("testimony", None, ANN, at(2025, 7, 1, 9, 0, 5), "Scan is clear.\nPraise God!"),
    ]
    assert (prayer.author_key, prayer.author_id) == ("josé", None)
    assert prayer.request == prayer_by_id(original, CHEMO_ID).request
    # Everything else reads exactly as before: the same users, other prayers and Quarantine records.
    assert archive.users == original.users
    assert [p for p in archive.prayers if p.archive_id != CHEMO_ID] == [
        p for p in original.prayers if p.archive_id != CHEMO_ID
    ]
    assert archive.quarantine == original.quarantine
    assert archive.lines_read == original.lines_read + 4


def test_two_identical_cairn_events_in_one_file_stay_two_and_a_replay_in_another_file_counts_once(tmp_path):
    twice = [event(at(2025, 6, 5, 10, 0, 0))] * 2
    write(tmp_path, PRAYER, cairn_prayer(archive_id="p1") + "".join(twice))
    write(tmp_path, FORK, cairn_prayer(archive_id="p1") + "".join(twice) + event(at(2025, 6, 6, 8, 0, 0)))
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert prayer.files == (PRAYER, FORK)
    assert [(e.at, e.actor_id) for e in prayer.events] == [
        (at(2025, 6, 5, 10, 0, 0), ANN),
        (at(2025, 6, 5, 10, 0, 0), ANN),
        (at(2025, 6, 6, 8, 0, 0), ANN),
    ]


def test_a_cairn_event_and_a_thywill_line_never_merge_and_seconds_tell_cairn_events_apart(tmp_path):
    thywill = "Prayer p1 by Max\nSubmitted June 05 2025 at 09:07\n\nRain.\n\nActivity:\n"
    write(tmp_path, PRAYER, thywill + "June 05 2025 at 10:00 - Ann prayed this prayer\n" + event(at(2025, 6, 5, 10, 0)))
    write(
        tmp_path, FORK, thywill + "June 05 2025 at 10:00 - Ann prayed this prayer\n" + event(at(2025, 6, 5, 10, 0, 1))
    )
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert [(e.actor_key, e.actor_id, e.at) for e in prayer.events] == [
        ("ann", None, at(2025, 6, 5, 10, 0)),
        (None, ANN, at(2025, 6, 5, 10, 0)),
        (None, ANN, at(2025, 6, 5, 10, 0, 1)),
    ]


def test_a_cairn_event_without_an_actor_is_a_placeholder_actor(tmp_path):
    write(tmp_path, PRAYER, cairn_prayer() + event(at(2025, 6, 5, 10, 0, 12), actor_id=None, name="Gone"))
    archive = read_thywill_archive(tmp_path)
    assert only_prayer(archive).events == (LegacyEvent("prayed", None, at(2025, 6, 5, 10, 0, 12), "", None),)
    (record,) = archive.quarantine
    assert record.reason == "placeholder_actor"
    assert record.source == f"thywill:{PRAYER}:11"
    assert record.payload == {
        "relpath": PRAYER,
        "line": 11,
        "raw": '2025-06-05T10:00:12Z - Gone prayed this prayer\t{"kind": "prayed", "actor": null}',
        "archive_id": "3f9c2b7e5a1d4c8e9b0a7f6e5d4c3b2a",
        "kind": "prayed",
        "at": "2025-06-05T10:00:12Z",
        "text": "",
        "occurrence": 1,
    }


@pytest.mark.parametrize(
    "line",
    [
        '2025-06-05T10:00:12Z - Ann danced\t{"kind": "danced", "actor": "x"}',
        '2025-06-05T10:00:12Z - Ann prayed this prayer\t{"kind": "prayed", "actor": ["x"]}',
        '2025-06-05T10:00:12Z - Ann prayed this prayer\t{"kind": ["prayed"]}',
        '2025-06-05T10:00:12Z - Ann added testimony: x\t{"kind": "testimony", "actor": "x", "text": 1}',
        "2025-06-05T10:00:12Z - Ann prayed this prayer\t{not json",
        '2025-06-05T10:00:12Z - Ann prayed this prayer\t{"kind": "prayed", "actor": "x"',
        '2025-6-5T10:00:12Z - Ann prayed this prayer\t{"kind": "prayed", "actor": "x"}',
        '2025-06-05T10:00:12Z Ann prayed this prayer\t{"kind": "prayed", "actor": "x"}',
        '2025-02-30T10:00:12Z - Ann prayed this prayer\t{"kind": "prayed", "actor": "x"}',
        '{"kind": "prayed", "actor": "x"}',
    ],
)
def test_a_line_that_is_not_a_valid_cairn_event_is_an_unknown_line(tmp_path, line):
    write(tmp_path, PRAYER, cairn_prayer() + line + "\n")
    archive = read_thywill_archive(tmp_path)
    assert only_prayer(archive).events == ()
    assert [(r.reason, r.payload["raw"], r.payload["line"]) for r in archive.quarantine] == [
        ("unknown_activity", line, 11)
    ]


# --- R9 "latest" across formats, and time zones -----------------------------------------------------------


@pytest.mark.parametrize(
    ("restored_at", "archived"),
    [
        (at(2025, 7, 16, 8, 0, 30), False),  # after ThyWill's `July 16 2025 at 08:00 … set archived`
        (at(2025, 7, 16, 8, 0, 0), False),  # the same instant: the key that appears later is latest
        (at(2025, 7, 16, 7, 59, 59), True),  # before it
    ],
)
def test_latest_order_spans_formats(sample_copy, restored_at, archived):
    assert is_archived(prayer_by_id(read_thywill_archive(sample_copy), COLLEGE_ID))
    append(sample_copy, COLLEGE_FORK, event(restored_at, "restored", MAX, "username"))
    prayer = prayer_by_id(read_thywill_archive(sample_copy), COLLEGE_ID)
    assert is_archived(prayer) is archived
    assert [e.at for e in prayer.events] == sorted(e.at for e in prayer.events)


def test_latest_order_compares_instants_so_the_time_zone_decides(sample_copy):
    append(sample_copy, COLLEGE_FORK, event(at(2025, 7, 16, 10, 0, 0), "restored", MAX, "username"))
    assert not is_archived(prayer_by_id(read_thywill_archive(sample_copy), COLLEGE_ID))  # 08:00 UTC < 10:00 UTC
    in_new_york = prayer_by_id(read_thywill_archive(sample_copy, tz=NEW_YORK), COLLEGE_ID)
    assert is_archived(in_new_york)  # 08:00 EDT = 12:00 UTC, after the restore
    assert [e.kind for e in in_new_york.events][-2:] == ["restored", "archived"]


def test_the_tz_argument_shifts_thywill_times_but_not_cairn_times(sample_copy):
    write(sample_copy, PRAYER, cairn_prayer() + event(at(2025, 6, 5, 10, 0, 12)))
    append(sample_copy, CHEMO, event(at(2025, 7, 1, 9, 0, 5), actor_id=MAX))
    in_utc = read_thywill_archive(sample_copy)
    in_new_york = read_thywill_archive(sample_copy, tz=NEW_YORK)
    chemo_utc, chemo_ny = prayer_by_id(in_utc, CHEMO_ID), prayer_by_id(in_new_york, CHEMO_ID)
    assert chemo_utc.submitted_at == at(2025, 6, 5, 11, 11)
    assert chemo_ny.submitted_at == at(2025, 6, 5, 15, 11)  # 11:11 EDT
    assert [e.at for e in chemo_ny.events if e.actor_key] == [
        e.at + timedelta(hours=4) for e in chemo_utc.events if e.actor_key
    ]
    assert [e for e in chemo_ny.events if e.actor_id] == [LegacyEvent("prayed", None, at(2025, 7, 1, 9, 0, 5), "", MAX)]
    cairn_id = "3f9c2b7e5a1d4c8e9b0a7f6e5d4c3b2a"
    assert prayer_by_id(in_new_york, cairn_id) == prayer_by_id(in_utc, cairn_id)
    assert all(e.at.tzinfo is UTC for p in in_new_york.prayers for e in p.events)
    assert all(p.submitted_at.tzinfo is UTC for p in in_new_york.prayers)
    # The records name the minute as written, whatever the zone, so they keep their identity on re-import.
    assert in_new_york.quarantine == in_utc.quarantine


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("March 09 2025 at 02:30", at(2025, 3, 9, 7, 30)),  # does not exist in New York: fold=0 takes EST
        ("November 02 2025 at 01:30", at(2025, 11, 2, 5, 30)),  # happens twice: fold=0 takes the first (EDT)
        ("January 15 2025 at 12:00", at(2025, 1, 15, 17, 0)),
    ],
)
def test_wall_times_in_gaps_and_overlaps_take_fold_0(tmp_path, written, instant):
    thywill = f"Prayer p1 by Max\nSubmitted {written}\n\nRain.\n\nActivity:\n{written} - Ann prayed this prayer\n"
    write(tmp_path, PRAYER, thywill)
    prayer = only_prayer(read_thywill_archive(tmp_path, tz=NEW_YORK))
    assert prayer.submitted_at == instant
    assert [e.at for e in prayer.events] == [instant]


def test_tz_is_keyword_only_and_read_archive_is_the_same_reader(tmp_path):
    write(tmp_path, PRAYER, cairn_prayer())
    with pytest.raises(TypeError):
        read_thywill_archive(tmp_path, NEW_YORK)
    assert read_archive(tmp_path) == read_thywill_archive(tmp_path)


# --- Account events ---------------------------------------------------------------------------------------


def test_account_events_come_back_in_file_order_with_their_data(tmp_path):
    expires = at(2025, 7, 2, 18, 30, 2)
    june = [
        render_account_line(
            at=at(2025, 6, 25, 18, 30, 2),
            human="Ann created an invite for 1 person",
            event="invite_created",
            invite="9f86d0",
            by=ANN,
            expires_at=expires,
            max_uses=1,
        ),
        "June 25 2025 at 18:35 - Grace joined directly\n",
        render_account_line(
            at=at(2025, 6, 25, 18, 41, 10),
            human="Max joined on invitation from Ann",
            event="joined",
            user=MAX,
            username="Max",
            invited_by=ANN,
            invite="9f86d0",
        ),
        "\n",
    ]
    july = [
        render_account_line(
            at=at(2025, 7, 1, 8, 0, 0),
            human="Ann made Max staff",
            event="role",
            user=MAX,
            role="staff",
            granted=True,
            by=ANN,
        ),
        "July 01 2025 at 09:00 - Zoe joined on invitation from Grace\n",
    ]
    write(tmp_path, "users/2025_07_users.txt", "User Registrations for July 2025\n\n" + "".join(july))
    write(tmp_path, "users/2025_06_users.txt", "User Registrations for June 2025\n\n" + "".join(june))
    archive = read_thywill_archive(tmp_path)
    assert archive.account_events == [
        AccountEvent(
            at(2025, 6, 25, 18, 30, 2),
            "invite_created",
            {"invite": "9f86d0", "by": ANN, "expires_at": "2025-07-02T18:30:02Z", "max_uses": 1},
        ),
        AccountEvent(
            at(2025, 6, 25, 18, 41, 10),
            "joined",
            {"user": MAX, "username": "Max", "invited_by": ANN, "invite": "9f86d0"},
        ),
        AccountEvent(at(2025, 7, 1, 8, 0, 0), "role", {"user": MAX, "role": "staff", "granted": True, "by": ANN}),
    ]
    # ThyWill lines in the same files are read by R4 exactly as before; Cairn lines create no users.
    assert [(u.key, u.invited_by_key, u.registered) for u in archive.users.values()] == [
        ("grace", None, True),
        ("zoe", "grace", True),
    ]
    assert archive.quarantine == []
    assert archive.prayers == []


def test_an_unknown_account_event_is_quarantined(tmp_path):
    unknown = '2025-06-25T18:30:02Z - Max teleported\t{"event": "teleported", "user": "cairn:x"}'
    no_event = '2025-06-25T18:30:02Z - Max prayed this prayer\t{"kind": "prayed", "actor": "cairn:x"}'
    write(tmp_path, "users/2025_06_users.txt", f"User Registrations for June 2025\n\n{unknown}\n{no_event}\n")
    archive = read_thywill_archive(tmp_path)
    assert archive.account_events == []
    assert [(r.reason, r.source, r.payload) for r in archive.quarantine] == [
        (
            "unknown_account_event",
            "thywill:users/2025_06_users.txt:3",
            {"relpath": "users/2025_06_users.txt", "line": 3, "raw": unknown},
        ),
        (
            "bad_registration_line",
            "thywill:users/2025_06_users.txt:4",
            {
                "relpath": "users/2025_06_users.txt",
                "line": 4,
                "raw": no_event,
                "why": "not '<timestamp> - <name> joined directly' or '… joined on invitation from <name>'",
            },
        ),
    ]


def test_a_zip_of_a_cairn_root_reads_like_the_folder(tmp_path, sample_copy):
    write(sample_copy, PRAYER, cairn_prayer() + event(at(2025, 6, 5, 10, 0, 12), actor_id=None))
    append(sample_copy, CHEMO, event(at(2025, 7, 1, 9, 0, 5)))
    append(
        sample_copy,
        "users/2025_07_users.txt",
        render_account_line(at=at(2025, 7, 9, 0, 0, 0), human="x", event="renamed", user=MAX, username="Maxwell"),
    )
    zipped = shutil.make_archive(str(tmp_path / "root"), "zip", sample_copy)
    from_folder = read_thywill_archive(sample_copy)
    assert read_thywill_archive(zipped) == from_folder
    assert len(from_folder.account_events) == 1


# --- Property: whatever Cairn writes comes back ------------------------------------------------------------

# Texts as the services store them: "\n" line breaks only, and no NUL (Django's forms refuse it).
text_characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00")
tricky_line = st.sampled_from(TRICKY_REQUEST.split("\n") + ["Activity: none", "Generated-Prayer-Lines: 0", "\ufeff"])
texts = st.lists(st.one_of(tricky_line, st.text(text_characters, max_size=20)), min_size=1, max_size=6).map("\n".join)
names = st.text(text_characters, max_size=20)
ids = st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30))
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)
events = st.lists(st.tuples(st.sampled_from(sorted(PHRASES)), names, ids, texts, moments), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.one_of(st.just(""), texts), names, ids, moments, events)
def test_whatever_cairn_writes_reads_back_exactly(request, generated, author, author_id, submitted, written):
    content = render_prayer_file(
        archive_id="3f9c2b7e5a1d4c8e9b0a7f6e5d4c3b2a",
        author_name=author,
        author_id=author_id,
        submitted_at=submitted,
        request=request,
        generated_prayer=generated,
    )
    for kind, actor, actor_id, text, moment in written:
        content += render_event_line(at=moment, kind=kind, actor_name=actor, actor_id=actor_id, text=text)
    with tempfile.TemporaryDirectory() as folder:
        write(Path(folder), prayer_file_name(submitted), content)
        archive = read_thywill_archive(folder)
    prayer = only_prayer(archive)
    assert (prayer.request, prayer.generated_prayer) == (request, generated)
    assert (prayer.author_id, prayer.author_key, prayer.submitted_at) == (author_id, None, submitted)
    expected = [
        LegacyEvent(kind, None, moment, text if kind == "testimony" else "", actor_id)
        for kind, _, actor_id, text, moment in written
    ]
    assert collections.Counter(prayer.events) == collections.Counter(expected)
    assert [e.at for e in prayer.events] == sorted(e.at for e in prayer.events)
    assert archive.users == {}
    assert reasons(archive) == collections.Counter(
        placeholder_actor=sum(e.actor_id is None for e in expected), placeholder_author=int(author_id is None)
    )
