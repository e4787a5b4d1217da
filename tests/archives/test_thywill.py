"""archives.thywill: reading a ThyWill archive gives exactly the result of legacy/thywill.md R1–R12.

The sample (tests/fixtures/thywill, a copy of shared/samples/thywill) is checked against its answer key;
every rule also has small synthetic archives written byte for byte into tmp_path.
"""

import collections
import gc
import io
import json
import os
import stat
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archives.thywill import (
    IGNORED,
    PHRASE_FORM,
    SET_FORM,
    THYWILL_TEMP_NAMESPACE,
    UNKNOWN,
    UnreadableFileError,
    classify_activity,
    decode,
    parse_prayer_file,
    parse_registration_line,
    parse_timestamp,
    read_thywill_archive,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "thywill"
SAMPLE = FIXTURES / "text_archives"
SAMPLE_ZIP = FIXTURES / "complete_site_archive.zip"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))

PRAYER = "prayers/2025/06/2025_06_05_prayer_at_0900.txt"
FORK = "prayers/2025/06/2025_06_05_prayer_at_0900_2.txt"
USERS = "users/2025_06_users.txt"
T1 = "June 05 2025 at 10:00"
T2 = "June 06 2025 at 11:30"


# --- Helpers ----------------------------------------------------------------------------------------------


def write(root: Path, relpath: str, content: str | bytes) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def prayer_text(
    *activity: str,
    archive_id: str = "p1",
    author: str = "Max",
    submitted: str = "June 05 2025 at 09:00",
    header: tuple[str, ...] = ("Audience: all",),
    request: str = "Please pray for rain.",
    generated: str | None = None,
) -> str:
    """A prayer file as ThyWill's writer lays it out (thywill.md §3.2)."""
    lines = [f"Prayer {archive_id} by {author}", f"Submitted {submitted}", *header, "", request, ""]
    if generated is not None:
        lines += ["Generated Prayer:", generated, ""]
    return "\n".join([*lines, "Activity:", *activity]) + "\n"


def registrations(*lines: str) -> str:
    return "\n".join(["User Registrations for June 2025", "", *lines]) + "\n"


def only_prayer(archive):
    assert len(archive.prayers) == 1
    return archive.prayers[0]


def reasons(archive) -> collections.Counter:
    return collections.Counter(record.reason for record in archive.quarantine)


def records(archive, reason: str) -> list:
    return [record for record in archive.quarantine if record.reason == reason]


def events_of(prayer) -> list[tuple]:
    return [(event.kind, event.actor_key, event.at.strftime("%m-%d %H:%M"), event.text) for event in prayer.events]


def state_of(events) -> dict:
    """R9's derived fields from events in "latest" order (the order LegacyPrayer.events has)."""
    testimonies = [event.text for event in events if event.kind == "testimony"]
    moves = [event.kind for event in events if event.kind in ("archived", "restored")]
    return {
        "is_answered": any(event.kind == "answered" for event in events),
        "is_archived": bool(moves) and moves[-1] == "archived",
        "testimony": testimonies[-1] if testimonies else "",
    }


def sorted_events(events: list) -> list:
    return sorted(events, key=lambda event: (event[0], event[1] or "", event[2], event[3]))


# --- The sample and its answer key ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return read_thywill_archive(SAMPLE)


def sample_prayer(sample, expected_key: str):
    """Temp prayers are keyed by relative path in expected.json (their id is generated): match by files[0]."""
    expected = EXPECTED["prayers"][expected_key]
    matches = [
        prayer
        for prayer in sample.prayers
        if (prayer.files[0] if expected["temp"] else prayer.archive_id) == expected_key
    ]
    assert len(matches) == 1, expected_key
    return matches[0]


def test_the_sample_gives_exactly_the_expected_users(sample):
    users = {
        key: {"username": user.username, "invited_by_key": user.invited_by_key} for key, user in sample.users.items()
    }
    assert users == EXPECTED["users"]
    assert all(user.key == key for key, user in sample.users.items())


def test_the_samples_unregistered_users_are_exactly_those_the_answer_key_quarantines(sample):
    unregistered = {key for key, user in sample.users.items() if not user.registered}
    tagged = {key for key, tags in EXPECTED["user_tags"].items() if "unregistered" in tags}
    assert unregistered == tagged
    assert len(unregistered) == EXPECTED["quarantine"]["unregistered_user"]


def test_the_sample_gives_exactly_the_expected_prayers(sample):
    keys = {prayer.files[0] if prayer.temp else prayer.archive_id for prayer in sample.prayers}
    assert keys == set(EXPECTED["prayers"])


@pytest.mark.parametrize("expected_key", sorted(EXPECTED["prayers"]))
def test_each_sample_prayer_matches_the_answer_key(sample, expected_key):
    expected = EXPECTED["prayers"][expected_key]
    prayer = sample_prayer(sample, expected_key)
    assert prayer.temp is expected["temp"]
    assert list(prayer.files) == expected["files"]
    assert prayer.author_key == expected["author_key"]
    assert prayer.submitted_at.tzinfo is UTC
    assert prayer.submitted_at.isoformat() == expected["submitted_at"]
    assert prayer.request == expected["request"]
    assert prayer.generated_prayer == expected["generated_prayer"]
    assert state_of(prayer.events) == {field: expected[field] for field in ("is_answered", "is_archived", "testimony")}
    counts = collections.Counter(event.kind for event in prayer.events)
    assert {kind: counts[kind] for kind in expected["counts"]} == expected["counts"]
    events = [[e.kind, e.actor_key, e.at.strftime("%Y-%m-%dT%H:%M"), e.text] for e in prayer.events]
    assert sorted_events(events) == sorted_events(expected["events"])


def test_the_sample_events_are_aware_utc_whole_minutes_in_latest_order(sample):
    for prayer in sample.prayers:
        assert all(e.at.tzinfo is UTC and e.at.second == 0 and e.at.microsecond == 0 for e in prayer.events)
        assert [e.at for e in prayer.events] == sorted(e.at for e in prayer.events)
        assert all(e.actor_id is None for e in prayer.events)
        assert prayer.author_id is None
    assert sample.account_events == []


def test_the_sample_totals_match_the_answer_key(sample):
    totals = EXPECTED["totals"]
    events = [event for prayer in sample.prayers for event in prayer.events]
    assert len(sample.users) == totals["users"]
    assert len(sample.prayers) == totals["prayers"]
    assert len(events) == totals["activities"]
    assert collections.Counter(event.kind for event in events) == totals["activities_by_kind"]


def test_the_sample_quarantine_matches_the_answer_key(sample):
    found = reasons(sample)
    found["unregistered_user"] = sum(not user.registered for user in sample.users.values())
    assert found == EXPECTED["quarantine"]
    assert sum(found.values()) == EXPECTED["totals"]["quarantine"]


def test_the_sample_counts_the_files_and_lines_it_read(sample):
    files = [path for path in SAMPLE.rglob("*.txt") if path.relative_to(SAMPLE).parts[0] in ("prayers", "users")]
    files = [path for path in files if path.relative_to(SAMPLE).parts[1] not in ("marks", "attributes")]
    assert sample.files_read == len(files) == 22
    assert sample.lines_read == sum(path.read_bytes().count(b"\n") for path in files)


def test_every_sample_quarantine_payload_is_json_and_names_the_line(sample):
    for record in sample.quarantine:
        assert json.loads(json.dumps(record.payload)) == record.payload
        assert record.source.startswith("thywill:" + record.payload["relpath"])
        assert record.payload["archive_id"]


def test_the_zip_gives_the_same_result_as_the_folder(sample):
    from_zip = read_thywill_archive(SAMPLE_ZIP)
    assert from_zip == sample
    assert [record.payload for record in from_zip.quarantine] == [record.payload for record in sample.quarantine]


def test_reading_twice_gives_the_same_result_including_temp_ids(sample):
    again = read_thywill_archive(SAMPLE)
    assert again == sample
    temp_ids = [prayer.archive_id for prayer in again.prayers if prayer.temp]
    assert len(temp_ids) == 2
    assert temp_ids == [prayer.archive_id for prayer in sample.prayers if prayer.temp]


# --- R1: input and file selection -------------------------------------------------------------------------


def test_prayer_files_sort_by_the_number_in_their_name_so_10_comes_after_2(tmp_path):
    write(tmp_path, "prayers/2025/06/2025_06_05_prayer_at_0900_10.txt", prayer_text(request="tenth"))
    write(tmp_path, FORK, prayer_text(request="second"))
    write(tmp_path, PRAYER, prayer_text(request="first"))
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert prayer.files == (PRAYER, FORK, "prayers/2025/06/2025_06_05_prayer_at_0900_10.txt")
    assert prayer.request == "first"


def test_the_name_not_the_folder_orders_prayer_files_and_the_path_breaks_ties(tmp_path):
    late = "prayers/2025/06/2025_06_05_prayer_at_0900.txt"
    early = "prayers/2025/07/2025_06_04_prayer_at_0900.txt"
    twin = "prayers/2025/07/2025_06_05_prayer_at_0900.txt"
    for relpath in (twin, late, early):
        write(tmp_path, relpath, prayer_text(request=relpath))
    assert only_prayer(read_thywill_archive(tmp_path)).files == (early, late, twin)


def test_mtimes_and_creation_order_do_not_matter(tmp_path):
    files = {
        PRAYER: prayer_text(f"{T1} - Max prayed this prayer", author="Unknown User"),
        FORK: prayer_text(f"{T1} - max prayed this prayer", author="MAX"),
        USERS: registrations(f"{T1} - Max joined directly"),
    }
    one, other = tmp_path / "one", tmp_path / "other"
    for root, order in ((one, list(files)), (other, list(reversed(files)))):
        for age, relpath in enumerate(order):
            path = write(root, relpath, files[relpath])
            os.utime(path, (1_000_000 + age * 1000, 1_000_000 + age * 1000))
    assert read_thywill_archive(one) == read_thywill_archive(other)


def test_registration_files_are_read_in_month_order_before_any_prayer_file(tmp_path):
    write(tmp_path, "users/2025_07_users.txt", registrations(f"{T2} - MAX joined directly"))
    write(tmp_path, "users/2025_06_users.txt", registrations(f"{T1} - Max joined directly"))
    write(tmp_path, "prayers/2025/01/2025_01_01_prayer_at_0000.txt", prayer_text(author="max", submitted=T1))
    archive = read_thywill_archive(tmp_path)
    assert archive.users["max"].username == "Max"
    assert archive.users["max"].registered
    assert archive.users["max"].source == "users/2025_06_users.txt:3"


def test_files_the_rules_do_not_select_yield_nothing(tmp_path):
    write(tmp_path, PRAYER, prayer_text())
    noise = prayer_text(f"{T1} - Eve prayed this prayer", archive_id="noise", author="Eve")
    for relpath in (
        "activity/activity_2025_06.txt",
        "prayers/marks/2025_06_marks.txt",
        "prayers/attributes/2025_06_attributes.txt",
        "prayers/skips/2025_06_skips.txt",
        "prayers/prayer_marks.txt",
        "users/user_attributes.txt",
        "users/2025_6_users.txt",
        "auth/sessions.txt",
        "archive_metadata.json",
        "README.txt",
        "prayers/2025/06/2025_06_05_prayer_at_0900.txt.tmp",
        "prayers/2025/06/notes.txt",
        "prayers/2025/06/extra/2025_06_05_prayer_at_0901.txt",
        "prayers/2025/2025_06_05_prayer_at_0902.txt",
    ):
        write(tmp_path, relpath, noise)
    write(tmp_path, "prayers/2025/06/bad.txt", b"\xff\x00 not text")
    archive = read_thywill_archive(tmp_path)
    assert [prayer.archive_id for prayer in archive.prayers] == ["p1"]
    assert list(archive.users) == ["max"]
    assert archive.quarantine == []
    assert archive.files_read == 1


def test_the_one_top_level_folder_that_holds_the_archive_is_the_root(tmp_path):
    write(tmp_path, "complete_site_archive/" + PRAYER, prayer_text())
    write(tmp_path, "complete_site_archive/README.txt", "hello")
    write(tmp_path, "other/notes.txt", "hello")
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert prayer.files == (PRAYER,)


def test_two_top_level_archives_are_refused_by_name(tmp_path):
    write(tmp_path, "one/" + PRAYER, prayer_text())
    write(tmp_path, "two/" + USERS, registrations())
    with pytest.raises(ValueError, match="one, two"):
        read_thywill_archive(tmp_path)


def test_a_zip_with_prayers_at_its_top_level_is_read(tmp_path):
    path = tmp_path / "archive.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(PRAYER, prayer_text(f"{T1} - Max prayed this prayer"))
    prayer = only_prayer(read_thywill_archive(path))
    assert prayer.files == (PRAYER,)
    assert events_of(prayer) == [("prayed", "max", "06-05 10:00", "")]


# --- R2: decoding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"a\nb\n", ["a", "b"]),
        (b"a\nb", ["a", "b"]),
        (b"a\r\nb\r\n", ["a", "b"]),
        (b"a\rb\r", ["a", "b"]),
        (b"a\r\r\nb", ["a", "", "b"]),
        (b"\xef\xbb\xbfa\n", ["a"]),
        (b"a\xef\xbb\xbf\n", ["a\ufeff"]),
        (b"  a \t\n\n", ["  a \t", ""]),
        ("a\u2028b\x85c\x0cd\n".encode(), ["a\u2028b\x85c\x0cd"]),
        (b"", []),
    ],
)
def test_decode_normalizes_line_ends_drops_a_leading_bom_and_strips_nothing_else(data, lines):
    assert decode(data) == lines


def test_decode_refuses_bytes_that_are_not_utf_8():
    with pytest.raises(UnreadableFileError, match="UTF-8"):
        decode(b"caf\xe9\n")


def test_decode_reads_a_nul_character_as_the_replacement_character():
    assert decode(b"a\x00b\n\x00\n") == ["a\ufffdb", "\ufffd"]  # PostgreSQL text cannot hold NUL


def test_a_bom_and_crlf_in_a_prayer_file_are_normalized(tmp_path):
    text = prayer_text(f"{T1} - Max prayed this prayer", request="Pray for us.\nWe meet\ron Thursdays.")
    write(tmp_path, PRAYER, b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert prayer.archive_id == "p1"
    assert prayer.request == "Pray for us.\nWe meet\non Thursdays."
    assert events_of(prayer) == [("prayed", "max", "06-05 10:00", "")]


# --- Timestamps -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("June 05 2025 at 09:07", datetime(2025, 6, 5, 9, 7)),
        ("June 5 2025 at 09:07", datetime(2025, 6, 5, 9, 7)),
        ("September 30 2025 at 23:59", datetime(2025, 9, 30, 23, 59)),
        ("February 29 2024 at 00:00", datetime(2024, 2, 29, 0, 0)),
        ("february 05 2025 at 09:07", None),
        ("Jun 05 2025 at 09:07", None),
        ("February 30 2025 at 09:07", None),
        ("June 05 2025 at 24:00", None),
        ("June 05 2025 at 09:60", None),
        ("June 05 2025 at 9:07", None),
        ("June 005 2025 at 09:07", None),
        ("June 05 2025 at 09:07 ", None),
        ("June 05 2025 09:07", None),
        ("June ٠٥ 2025 at 09:07", None),
        ("", None),
    ],
)
def test_parse_timestamp_reads_thywills_format_and_nothing_else(text, moment):
    assert parse_timestamp(text) == moment


# --- R4: registrations and invites ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        (f"{T1} - Max joined directly", ("Max", None)),
        (f"{T1} - Grace  joined directly", ("Grace ", None)),
        (f"{T1} - ak joined on invitation from Sarah J", ("ak", "Sarah J")),
        (f"{T1} - A joined on invitation from B joined on invitation from C", ("A", "B joined on invitation from C")),
        (f"{T1} - Bob joined on invitation from Max joined directly", ("Bob", "Max joined directly")),
        (f"{T1} - Tom - Youth Group joined directly", ("Tom - Youth Group", None)),
        (f"{T1} -  joined directly", ("", None)),
        (f"{T1} - Bob signed up", None),
        (f"{T1} Bob joined directly", None),
        ("Bob joined directly", None),
    ],
)
def test_parse_registration_line_tries_the_invitation_form_first(line, parsed):
    result = parse_registration_line(line)
    assert (result if result is None else result[1:]) == parsed
    if result is not None:
        assert result[0] == datetime(2025, 6, 5, 10, 0)


def test_an_inviter_whose_own_line_is_in_a_later_file_still_invites(tmp_path):
    write(tmp_path, "users/2025_05_users.txt", registrations(f"{T1} - ak joined on invitation from Sarah J"))
    write(tmp_path, "users/2025_06_users.txt", registrations(f"{T2} - Sarah J joined directly"))
    archive = read_thywill_archive(tmp_path)
    assert archive.users["ak"].invited_by_key == "sarah j"
    assert archive.users["sarah j"].registered
    assert archive.users["sarah j"].invited_by_key is None
    assert list(archive.users) == ["ak", "sarah j"]


def test_a_duplicate_registration_creates_no_user_and_the_first_inviter_wins(tmp_path):
    write(
        tmp_path,
        USERS,
        registrations(
            f"{T1} - ilyag joined directly",
            f"{T1} - Sarah J joined directly",
            f"{T1} - ak joined on invitation from Sarah J",
            f"{T2} - AK   joined on invitation from ilyag",
        ),
    )
    archive = read_thywill_archive(tmp_path)
    assert list(archive.users) == ["ilyag", "sarah j", "ak"]
    assert archive.users["ak"].username == "ak"
    assert archive.users["ak"].invited_by_key == "sarah j"
    assert archive.quarantine == []


def test_joined_directly_never_clears_an_inviter(tmp_path):
    write(
        tmp_path,
        USERS,
        registrations(
            f"{T1} - Max joined directly", f"{T1} - ak joined on invitation from Max", f"{T2} - AK joined directly"
        ),
    )
    assert read_thywill_archive(tmp_path).users["ak"].invited_by_key == "max"


@pytest.mark.parametrize("inviter", ["Unknown User", "None", "unknown", "", "  ", "\u200b"])
def test_a_placeholder_inviter_is_ignored(tmp_path, inviter):
    write(tmp_path, USERS, registrations(f"{T1} - Bob joined on invitation from {inviter}"))
    archive = read_thywill_archive(tmp_path)
    assert list(archive.users) == ["bob"]
    assert archive.users["bob"].invited_by_key is None
    assert archive.quarantine == []


def test_a_registrant_who_names_themself_as_inviter_has_no_inviter(tmp_path):
    write(tmp_path, USERS, registrations(f"{T1} - Bob joined on invitation from BOB "))
    archive = read_thywill_archive(tmp_path)
    assert archive.users["bob"].invited_by_key is None
    assert list(archive.users) == ["bob"]


def test_an_inviter_only_name_is_created_in_pass_3_as_unregistered(tmp_path):
    write(tmp_path, USERS, registrations(f"{T1} - Grace joined on invitation from  admin "))
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Zed prayed this prayer", author="Grace"))
    archive = read_thywill_archive(tmp_path)
    assert list(archive.users) == ["grace", "zed", "admin"]
    admin = archive.users["admin"]
    assert (admin.username, admin.invited_by_key, admin.registered, admin.source) == (
        "admin",
        None,
        False,
        f"{USERS}:3",
    )
    assert archive.users["grace"].invited_by_key == "admin"
    assert archive.users["grace"].registered


def test_an_inviter_named_in_a_prayer_file_keeps_that_first_spelling(tmp_path):
    write(tmp_path, USERS, registrations(f"{T1} - Grace joined on invitation from ADMIN"))
    write(tmp_path, PRAYER, prayer_text(author="Admin"))
    archive = read_thywill_archive(tmp_path)
    assert archive.users["admin"].username == "Admin"
    assert archive.users["admin"].source == f"{PRAYER}:1"
    assert archive.users["grace"].invited_by_key == "admin"


def test_bad_registration_lines_are_quarantined_and_create_nobody(tmp_path):
    write(
        tmp_path,
        USERS,
        registrations(
            "garbage",
            f"{T1} - Bob signed up",
            f"{T1} - None joined directly",
            f"{T1} -  joined directly",
            f"{T1} - Unknown User joined on invitation from Max",
            "",
            "   ",
            f"{T1} - Ann joined directly",
            "User Registrations for July 2025",
        ),
    )
    archive = read_thywill_archive(tmp_path)
    assert list(archive.users) == ["ann"]
    bad = records(archive, "bad_registration_line")
    assert reasons(archive) == {"bad_registration_line": 6}
    assert [record.payload["line"] for record in bad] == [3, 4, 5, 6, 7, 11]
    assert bad[0].payload["raw"] == "garbage"
    assert bad[0].payload["relpath"] == USERS
    assert bad[0].source == f"thywill:{USERS}:3"
    assert "placeholder" in bad[2].payload["why"]


def test_registrant_names_are_stored_in_display_form(tmp_path):
    write(tmp_path, USERS, registrations(f"{T1} - Mary  Ann  joined directly", f"{T1} - Grace  joined directly"))
    users = read_thywill_archive(tmp_path).users
    assert [(user.key, user.username) for user in users.values()] == [("mary ann", "Mary Ann"), ("grace", "Grace")]


# --- R5: prayer files -------------------------------------------------------------------------------------


def parse(text: str):
    return parse_prayer_file(decode(text.encode()))


def test_the_author_is_everything_after_the_first_by(tmp_path):
    parsed = parse(prayer_text(author="Walk by Faith"))
    assert (parsed.archive_id, parsed.author) == ("p1", "Walk by Faith")
    write(tmp_path, PRAYER, prayer_text(author="Walk by Faith"))
    assert only_prayer(read_thywill_archive(tmp_path)).author_key == "walk by faith"


def test_an_empty_author_is_a_placeholder(tmp_path):
    write(tmp_path, PRAYER, prayer_text(author=""))
    archive = read_thywill_archive(tmp_path)
    assert only_prayer(archive).author_key is None
    assert reasons(archive) == {"placeholder_author": 1}
    assert archive.users == {}


def test_request_lines_that_look_like_headers_or_activity_stay_in_the_request(tmp_path):
    request = "\n".join(
        [
            "Project: roof repair fund",
            "Audience: my small group",
            "Prayer for my dad by Friday, he needs a new heart valve.",
            "Submitted June 05 2025 at 09:00",
            "June 02 2025 at 10:00 - the surgery was moved",
            "June 02 2025 at 10:00 - Zed prayed this prayer",
            "Activity: none this week",
            "",
            "Details: Tuesday 8am",
        ]
    )
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Max prayed this prayer", request=request, generated="Amen."))
    archive = read_thywill_archive(tmp_path)
    prayer = only_prayer(archive)
    assert prayer.request == request
    assert prayer.generated_prayer == "Amen."
    assert events_of(prayer) == [("prayed", "max", "06-05 10:00", "")]
    assert "zed" not in archive.users


def test_the_header_block_ends_at_the_first_empty_line():
    text = prayer_text(header=("Project: family", "Audience: all", "Safety Score: 1.0"), request="Help.")
    assert parse(text).request == "Help."
    assert parse(prayer_text(header=(), request="Help.")).request == "Help."


def test_the_first_generated_prayer_line_splits_request_and_generated_prayer():
    text = prayer_text(request="Line A", generated="Line B\nGenerated Prayer:\nLine C")
    parsed = parse(text)
    assert parsed.request == "Line A"
    assert parsed.generated_prayer == "Line B\nGenerated Prayer:\nLine C"


def test_a_generated_prayer_keeps_its_inner_blank_lines_and_is_empty_when_missing():
    parsed = parse(prayer_text(generated="\n\nFather,\n\nAmen.\n \n"))
    assert parsed.generated_prayer == "Father,\n\nAmen."
    assert parse(prayer_text()).generated_prayer == ""


def test_the_last_activity_line_wins(tmp_path):
    request = f"Req\n\nActivity:\n{T1} - Zed prayed this prayer"
    write(tmp_path, PRAYER, prayer_text(f"{T2} - Max prayed this prayer", request=request))
    archive = read_thywill_archive(tmp_path)
    prayer = only_prayer(archive)
    assert prayer.request == request
    assert events_of(prayer) == [("prayed", "max", "06-06 11:30", "")]
    assert "zed" not in archive.users


def test_leading_and_trailing_blank_lines_are_trimmed_and_inner_ones_kept():
    parsed = parse(prayer_text(request="\n \n\t\nPray for my exams.\n\n  Thank you all  \n\n \n"))
    assert parsed.request == "Pray for my exams.\n\n  Thank you all  "


def test_blank_activity_lines_are_skipped_and_line_numbers_kept(tmp_path):
    write(tmp_path, PRAYER, prayer_text("", f"{T1} - Max prayed this prayer", "  ", f"{T2} - None prayed this prayer"))
    archive = read_thywill_archive(tmp_path)
    assert len(only_prayer(archive).events) == 2
    assert reasons(archive) == {"placeholder_actor": 1}
    assert records(archive, "placeholder_actor")[0].payload["line"] == 11


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (prayer_text().replace("Activity:\n", ""), None),
        (prayer_text().replace("Activity:\n", "Activity: \n"), None),
        (prayer_text().replace("Prayer p1 by Max", "Prayer p1 from Max"), 1),
        (prayer_text().replace("Prayer p1 by Max", "Prayer  by Max"), 1),
        (prayer_text().replace("Submitted", "Sent"), 2),
        (prayer_text().replace("June 05 2025 at 09:00", "June 05 2025"), 2),
        ("", 1),
    ],
)
def test_a_file_without_a_valid_header_or_activity_line_is_unparsed(tmp_path, text, line):
    write(tmp_path, PRAYER, text.replace("Please pray", f"{T1} - Bob prayed this prayer\nPlease pray"))
    archive = read_thywill_archive(tmp_path)
    assert archive.prayers == []
    assert archive.users == {}
    assert reasons(archive) == {"unparsed_prayer_file": 1}
    record = archive.quarantine[0]
    assert (record.payload["relpath"], record.payload["line"]) == (PRAYER, line)
    assert parse_prayer_file(decode(text.encode())) is None


def test_a_truncated_prayer_file_is_unparsed(tmp_path):
    write(tmp_path, PRAYER, prayer_text()[:40])
    assert reasons(read_thywill_archive(tmp_path)) == {"unparsed_prayer_file": 1}


blank_free_line = st.text(st.characters(blacklist_characters="\r\n\x00", blacklist_categories=("Cs",)), max_size=24)
lookalike_line = st.sampled_from(
    [
        "",
        "   ",
        "\t",
        "Project: roof fund",
        "Audience: my family",
        "Prayer for my dad by Friday",
        "Prayer abc by Max",
        "Submitted June 05 2025 at 09:00",
        "June 02 2025 at 10:00 - the surgery was moved",
        "June 02 2025 at 10:00 - Max prayed this prayer",
        "Activity: none this week",
        "Activity:  ",
        " Activity:",
        "activity:",
        "Generated Prayer: soon",
        "Generated Prayer",
        "Details: Tuesday 8am",
        "\ufeff",
        "]",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    request_lines=st.lists(st.one_of(blank_free_line, lookalike_line), min_size=1, max_size=10),
    generated=st.one_of(st.none(), st.just("Lord, hear us.")),
    crlf=st.booleans(),
)
def test_any_request_text_comes_back_exactly(request_lines, generated, crlf):
    assume(not ({"Activity:", "Generated Prayer:"} & set(request_lines)))
    assume(request_lines[0].strip() and request_lines[-1].strip())
    request = "\n".join(request_lines)
    text = prayer_text(f"{T1} - Max prayed this prayer", request=request, generated=generated)
    parsed = parse_prayer_file(decode(text.replace("\n", "\r\n" if crlf else "\n").encode()))
    assert parsed.request == request
    assert parsed.generated_prayer == (generated or "")
    assert list(parsed.activity) == [f"{T1} - Max prayed this prayer"]


# --- R6: activity lines -----------------------------------------------------------------------------------

AT = datetime(2025, 6, 5, 10, 0)


@pytest.mark.parametrize(
    ("rest", "kind", "form", "actor", "text"),
    [
        ("Max added testimony: She's home: thanks!", "testimony", PHRASE_FORM, "Max", "She's home: thanks!"),
        ("Max added testimony:  two  spaces ", "testimony", PHRASE_FORM, "Max", " two  spaces "),
        ("Max added testimony: I prayed this prayer", "testimony", PHRASE_FORM, "Max", "I prayed this prayer"),
        ("A added testimony: B added testimony: C", "testimony", PHRASE_FORM, "A", "B added testimony: C"),
        ("Max added testimony: true", "testimony", PHRASE_FORM, "Max", "true"),
        ("Mary Ann prayed this prayer", "prayed", PHRASE_FORM, "Mary Ann", ""),
        ("Tom - Youth Group prayed this prayer", "prayed", PHRASE_FORM, "Tom - Youth Group", ""),
        ("Walk by Faith prayed this prayer", "prayed", PHRASE_FORM, "Walk by Faith", ""),
        (" prayed this prayer", "prayed", PHRASE_FORM, "", ""),
        ("None prayed this prayer", "prayed", PHRASE_FORM, "None", ""),
        ("Max marked this prayer as answered", "answered", PHRASE_FORM, "Max", ""),
        ("Max archived this prayer", "archived", PHRASE_FORM, "Max", ""),
        ("Max restored this prayer", "restored", PHRASE_FORM, "Max", ""),
        ("Max flagged this prayer", "flagged", PHRASE_FORM, "Max", ""),
        ("user name set answered to 'true'", "answered", SET_FORM, "user name", ""),
        ("Max set answered from 'true' to 'true'", "answered", SET_FORM, "Max", ""),
        ("Max set archived to 'true'", "archived", SET_FORM, "Max", ""),
        ("Max set flagged to 'true'", "flagged", SET_FORM, "Max", ""),
        ("Max set answer_testimony to 'She's home'", "testimony", SET_FORM, "Max", "She's home"),
        ("Max set answer_testimony from 'Old' to 'New: it's done'", "testimony", SET_FORM, "Max", "New: it's done"),
        ("Max removed archived (was 'true')", "restored", SET_FORM, "Max", ""),
        ("Max set answer_date to '2025-07-13T09:30:17.482913'", IGNORED, None, None, ""),
        ("Max set answer_date from '2025-05-25T12:00:00' to '2025-07-13T09:30:17'", IGNORED, None, None, ""),
        ("Max set answered to 'false'", UNKNOWN, None, None, ""),
        ("Max set archived from 'true' to 'false'", UNKNOWN, None, None, ""),
        ("Max set daily_priority to 'true'", UNKNOWN, None, None, ""),
        ("Max set answer-date to 'x'", UNKNOWN, None, None, ""),
        ("Max removed daily_priority (was 'true')", UNKNOWN, None, None, ""),
        ("Max removed answer_date (was 'x')", UNKNOWN, None, None, ""),
        ("ilyag unknown", UNKNOWN, None, None, ""),
        ("prayed this prayer", UNKNOWN, None, None, ""),
        ("Max prayed this prayer ", UNKNOWN, None, None, ""),
    ],
)
def test_classify_activity_follows_the_table_row_by_row(rest, kind, form, actor, text):
    line = f"{T1} - {rest}"
    assert classify_activity(line) == (kind, form, actor, AT, text, rest)


@pytest.mark.parametrize(
    "line",
    [
        "the continuation of a multi-line testimony",
        f"{T1} Max prayed this prayer",
        f"{T1}- Max prayed this prayer",
        "Jun 05 2025 at 10:00 - Max prayed this prayer",
        "June 31 2025 at 10:00 - Max prayed this prayer",
        "",
    ],
)
def test_a_line_without_a_timestamp_prefix_is_unknown(line):
    assert classify_activity(line) == (UNKNOWN, None, None, None, "", line)


def test_the_separator_is_the_first_dash_after_the_timestamp():
    line = "June 5 2025 at 10:00 - Tom - Youth Group prayed this prayer"
    assert classify_activity(line).actor == "Tom - Youth Group"
    assert classify_activity(line).at == AT


def test_multi_word_actors_are_never_cut_to_their_first_word(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Mary Ann prayed this prayer", f"{T2} - MARY  ANN flagged this prayer"))
    archive = read_thywill_archive(tmp_path)
    assert {event.actor_key for event in only_prayer(archive).events} == {"mary ann"}
    assert list(archive.users) == ["max", "mary ann"]
    assert archive.users["mary ann"].username == "Mary Ann"


@pytest.mark.parametrize("actor", ["", "None", "Unknown", "Unknown User", "UNKNOWN  user", "\u200b"])
def test_a_placeholder_actor_keeps_the_event_without_an_actor(tmp_path, actor):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - {actor} prayed this prayer"))
    archive = read_thywill_archive(tmp_path)
    assert events_of(only_prayer(archive)) == [("prayed", None, "06-05 10:00", "")]
    assert reasons(archive) == {"placeholder_actor": 1}
    assert list(archive.users) == ["max"]


def test_set_answer_date_is_ignored_entirely(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Zed set answer_date to '2025-06-05T10:00:00'"))
    archive = read_thywill_archive(tmp_path)
    assert only_prayer(archive).events == ()
    assert archive.quarantine == []
    assert "zed" not in archive.users


def test_unknown_lines_give_no_event_and_no_user_but_a_quarantine_record(tmp_path):
    lines = [
        f"{T1} - Zed set daily_priority to 'true'",
        f"{T1} - Zed removed daily_priority (was 'true')",
        f"{T1} - Zed set answered to 'false'",
        f"{T1} - Zed unknown",
        "and the second line of a testimony",
    ]
    write(tmp_path, PRAYER, prayer_text(*lines))
    archive = read_thywill_archive(tmp_path)
    assert only_prayer(archive).events == ()
    assert list(archive.users) == ["max"]
    unknown = records(archive, "unknown_activity")
    assert [record.payload["raw"] for record in unknown] == lines
    assert [record.payload["line"] for record in unknown] == [8, 9, 10, 11, 12]
    assert all(record.payload["archive_id"] == "p1" for record in unknown)


# --- R7: grouping files into prayers ----------------------------------------------------------------------


def test_files_with_the_same_header_id_are_one_prayer_whatever_their_names(tmp_path):
    write(tmp_path, PRAYER, prayer_text(archive_id="aaa", request="first"))
    write(tmp_path, FORK, prayer_text(archive_id="bbb", author="Ann", request="other"))
    write(tmp_path, "prayers/2025/06/2025_06_05_prayer_at_0900_3.txt", prayer_text(archive_id="aaa", request="fork"))
    archive = read_thywill_archive(tmp_path)
    assert [(p.archive_id, p.files) for p in archive.prayers] == [
        ("aaa", (PRAYER, "prayers/2025/06/2025_06_05_prayer_at_0900_3.txt")),
        ("bbb", (FORK,)),
    ]
    assert archive.prayers[0].request == "first"


def test_ids_are_compared_exactly(tmp_path):
    write(tmp_path, PRAYER, prayer_text(archive_id="ABC"))
    write(tmp_path, FORK, prayer_text(archive_id="abc"))
    assert [prayer.archive_id for prayer in read_thywill_archive(tmp_path).prayers] == ["ABC", "abc"]


def test_temp_files_are_never_grouped_and_get_a_deterministic_id(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Ann prayed this prayer", archive_id="temp"))
    write(tmp_path, FORK, prayer_text(archive_id="temp", author="Mary"))
    archive = read_thywill_archive(tmp_path)
    assert [(prayer.temp, prayer.files) for prayer in archive.prayers] == [(True, (PRAYER,)), (True, (FORK,))]
    ids = [prayer.archive_id for prayer in archive.prayers]
    assert ids == [uuid.uuid5(THYWILL_TEMP_NAMESPACE, "thywill-temp:" + relpath).hex for relpath in (PRAYER, FORK)]
    assert "temp" not in ids
    assert len(set(ids)) == 2
    assert [record.payload for record in records(archive, "temp_prayer")] == [
        {"relpath": PRAYER, "line": 1, "raw": "Prayer temp by Max", "archive_id": ids[0]},
        {"relpath": FORK, "line": 1, "raw": "Prayer temp by Mary", "archive_id": ids[1]},
    ]
    assert read_thywill_archive(tmp_path) == archive


def test_a_temp_file_does_not_join_a_prayer_with_a_real_id(tmp_path):
    write(tmp_path, PRAYER, prayer_text(archive_id="abc"))
    write(tmp_path, FORK, prayer_text(archive_id="temp"))
    assert [prayer.temp for prayer in read_thywill_archive(tmp_path).prayers] == [False, True]


# --- R8: combining events ---------------------------------------------------------------------------------


def test_phrase_and_set_lines_for_one_event_in_one_file_count_once(tmp_path):
    write(
        tmp_path,
        PRAYER,
        prayer_text(
            f"{T1} - Max set answered to 'true'",
            f"{T1} - Max set answer_date to '2025-06-05T10:00:17'",
            f"{T1} - Max set answer_testimony to 'She's home'",
            f"{T1} - Max added testimony: She's home",
            f"{T1} - Max marked this prayer as answered",
            f"{T2} - Max set archived to 'true'",
            f"{T2} - Max archived this prayer",
            f"{T2} - Max restored this prayer",
            f"{T2} - Max removed archived (was 'true')",
        ),
    )
    assert events_of(only_prayer(read_thywill_archive(tmp_path))) == [
        ("answered", "max", "06-05 10:00", ""),
        ("testimony", "max", "06-05 10:00", "She's home"),
        ("archived", "max", "06-06 11:30", ""),
        ("restored", "max", "06-06 11:30", ""),
    ]


def test_two_phrase_lines_with_the_same_key_in_one_file_stay_two(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - ak prayed this prayer", f"{T1} - AK  prayed this prayer"))
    assert events_of(only_prayer(read_thywill_archive(tmp_path))) == [("prayed", "ak", "06-05 10:00", "")] * 2


def test_more_set_lines_than_phrase_lines_count_as_the_set_lines(tmp_path):
    lines = [f"{T1} - Max set answered to 'true'", f"{T1} - Max marked this prayer as answered"]
    write(tmp_path, PRAYER, prayer_text(*lines, f"{T1} - Max set answered from 'true' to 'true'"))
    assert len(only_prayer(read_thywill_archive(tmp_path)).events) == 2


def test_a_fork_that_replays_events_adds_nothing(tmp_path):
    activity = (f"{T1} - Max prayed this prayer", f"{T1} - ak prayed this prayer", f"{T2} - Max flagged this prayer")
    write(tmp_path, PRAYER, prayer_text(*activity))
    write(tmp_path, FORK, prayer_text(*activity))
    assert len(only_prayer(read_thywill_archive(tmp_path)).events) == 3


def test_an_event_found_only_in_one_file_is_kept_once(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Max prayed this prayer", f"{T2} - ak prayed this prayer"))
    write(tmp_path, FORK, prayer_text(f"{T1} - Max prayed this prayer", f"{T2} - Max archived this prayer"))
    assert events_of(only_prayer(read_thywill_archive(tmp_path))) == [
        ("prayed", "max", "06-05 10:00", ""),
        ("prayed", "ak", "06-06 11:30", ""),
        ("archived", "max", "06-06 11:30", ""),
    ]


def test_a_key_counts_the_maximum_over_the_files(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Max prayed this prayer"))
    write(tmp_path, FORK, prayer_text(*[f"{T1} - Max prayed this prayer"] * 3))
    write(tmp_path, "prayers/2025/06/2025_06_05_prayer_at_0900_3.txt", prayer_text(f"{T1} - Max prayed this prayer"))
    assert len(only_prayer(read_thywill_archive(tmp_path)).events) == 3


def test_unknown_lines_combine_by_maximum_with_one_record_per_occurrence(tmp_path):
    unknown = f"{T1} - Max set daily_priority to 'true'"
    write(tmp_path, PRAYER, prayer_text(unknown, "loose text"))
    write(tmp_path, FORK, prayer_text(unknown, unknown, "loose text"))
    archive = read_thywill_archive(tmp_path)
    found = records(archive, "unknown_activity")
    assert len(found) == 3
    assert [(r.payload["relpath"], r.payload["line"], r.payload["occurrence"]) for r in found] == [
        (PRAYER, 8, 1),
        (FORK, 9, 2),
        (PRAYER, 9, 1),
    ]
    assert len({json.dumps(record.payload, sort_keys=True) for record in found}) == 3


def test_placeholders_at_the_same_minute_in_original_and_fork_are_one_event(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - None prayed this prayer"))
    write(tmp_path, FORK, prayer_text(f"{T1} - Unknown User prayed this prayer"))
    archive = read_thywill_archive(tmp_path)
    assert events_of(only_prayer(archive)) == [("prayed", None, "06-05 10:00", "")]
    assert [record.payload["relpath"] for record in records(archive, "placeholder_actor")] == [PRAYER]


def test_each_placeholder_actor_event_gets_its_own_record(tmp_path):
    lines = [f"{T1} -  prayed this prayer", f"{T1} - None prayed this prayer", f"{T2} - None added testimony: Yes"]
    write(tmp_path, PRAYER, prayer_text(*lines))
    archive = read_thywill_archive(tmp_path)
    found = records(archive, "placeholder_actor")
    assert [(r.payload["line"], r.payload["occurrence"], r.payload["kind"], r.payload["at"]) for r in found] == [
        (8, 1, "prayed", "2025-06-05T10:00"),
        (9, 2, "prayed", "2025-06-05T10:00"),
        (10, 1, "testimony", "2025-06-06T11:30"),
    ]
    assert found[2].payload["text"] == "Yes"
    assert found[0].source == f"thywill:{PRAYER}:8"
    assert len({json.dumps(record.payload, sort_keys=True) for record in found}) == 3


# --- R9: the prayer row -----------------------------------------------------------------------------------


def test_the_author_comes_from_the_first_file_whose_author_is_not_a_placeholder(tmp_path):
    write(tmp_path, PRAYER, prayer_text(author="Unknown User", request="original"))
    write(tmp_path, FORK, prayer_text(author="Mary Ann", request="lossy fork"))
    write(tmp_path, "prayers/2025/06/2025_06_05_prayer_at_0900_3.txt", prayer_text(author="Max"))
    archive = read_thywill_archive(tmp_path)
    prayer = only_prayer(archive)
    assert prayer.author_key == "mary ann"
    assert prayer.request == "original"
    assert "placeholder_author" not in reasons(archive)


def test_a_prayer_whose_files_all_name_placeholders_has_no_author_and_one_record(tmp_path):
    write(tmp_path, PRAYER, prayer_text(author="Unknown User"))
    write(tmp_path, FORK, prayer_text(author="None"))
    archive = read_thywill_archive(tmp_path)
    assert only_prayer(archive).author_key is None
    assert [record.payload for record in records(archive, "placeholder_author")] == [
        {"relpath": PRAYER, "line": 1, "raw": "Prayer p1 by Unknown User", "archive_id": "p1"}
    ]


def test_texts_and_submit_time_come_from_the_primary_file(tmp_path):
    write(tmp_path, PRAYER, prayer_text(request="Details: Tuesday\n\nThanks", generated="Amen."))
    write(tmp_path, FORK, prayer_text(request="Thanks", submitted="July 01 2025 at 08:00"))
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert (prayer.request, prayer.generated_prayer) == ("Details: Tuesday\n\nThanks", "Amen.")
    assert prayer.submitted_at == datetime(2025, 6, 5, 9, 0, tzinfo=UTC)


def test_the_latest_testimony_is_ordered_by_minute_before_line_order(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T2} - Max added testimony: Later", f"{T1} - Max added testimony: Earlier"))
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert [event.text for event in prayer.events] == ["Earlier", "Later"]
    assert state_of(prayer.events)["testimony"] == "Later"


def test_within_a_minute_the_key_that_appears_last_is_latest(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Max added testimony: First", f"{T1} - Max archived this prayer"))
    write(
        tmp_path,
        FORK,
        prayer_text(
            f"{T1} - Ann added testimony: Second",
            f"{T1} - Max restored this prayer",
            f"{T1} - Max added testimony: First",
            f"{T1} - Max archived this prayer",
        ),
    )
    prayer = only_prayer(read_thywill_archive(tmp_path))
    assert [(event.kind, event.text) for event in prayer.events] == [
        ("testimony", "First"),
        ("archived", ""),
        ("testimony", "Second"),
        ("restored", ""),
    ]
    assert state_of(prayer.events) == {"is_answered": False, "is_archived": False, "testimony": "Second"}


# --- R10: users who never registered ----------------------------------------------------------------------


def test_prayer_files_create_users_in_file_then_line_order_from_their_first_mention(tmp_path):
    write(tmp_path, USERS, registrations(f"{T1} - Max joined directly"))
    write(
        tmp_path,
        PRAYER,
        prayer_text(
            f"{T1} -   bob   prayed this prayer",
            f"{T1} - Carl set archived to 'true'",
            f"{T1} - BOB flagged this prayer",
            author="Alice",
        ),
    )
    write(tmp_path, FORK, prayer_text(f"{T1} - Dora marked this prayer as answered", author="ALICE"))
    archive = read_thywill_archive(tmp_path)
    assert [(u.key, u.username, u.registered, u.source) for u in archive.users.values()] == [
        ("max", "Max", True, f"{USERS}:3"),
        ("alice", "Alice", False, f"{PRAYER}:1"),
        ("bob", "bob", False, f"{PRAYER}:8"),
        ("carl", "Carl", False, f"{PRAYER}:9"),
        ("dora", "Dora", False, f"{FORK}:8"),
    ]
    assert all(user.invited_by_key is None for user in archive.users.values())


def test_only_actors_of_recognised_events_become_users(tmp_path):
    write(
        tmp_path,
        PRAYER,
        prayer_text(
            f"{T1} - Zed set daily_priority to 'true'",
            f"{T1} - Yan set answer_date to '2025-06-05T10:00:00'",
            f"{T1} - Xia unknown",
            f"{T1} - Wes removed archived (was 'true')",
            author="None",
        ),
    )
    write(
        tmp_path,
        "activity/activity_2025_06.txt",
        "Activity for June 2025\n\n\nJune 05 2025\n10:00 - Vic registered directly\n",
    )
    write(tmp_path, "prayers/marks/2025_06_marks.txt", f"Prayer Marks for June 2025\n\n{T1}|p1|Uma\n")
    assert list(read_thywill_archive(tmp_path).users) == ["wes"]


def test_users_found_in_an_unparsed_file_are_not_created(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Bob prayed this prayer").replace("Activity:\n", ""))
    assert read_thywill_archive(tmp_path).users == {}


# --- Bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "why"),
    [(prayer_text().encode().replace(b"rain", b"r\xe9in"), "UTF-8"), (b"\xff\xfe\x00b\x00i\x00n\x00", "UTF-8")],
)
def test_a_file_that_is_not_text_is_skipped_and_quarantined(tmp_path, data, why):
    write(tmp_path, PRAYER, data)
    write(tmp_path, FORK, prayer_text(archive_id="p2"))
    archive = read_thywill_archive(tmp_path)
    assert [prayer.archive_id for prayer in archive.prayers] == ["p2"]
    assert archive.files_read == 1
    (record,) = archive.quarantine
    assert (record.reason, record.source, record.payload["relpath"]) == ("unreadable_file", f"thywill:{PRAYER}", PRAYER)
    assert why in record.payload["why"]


def test_symlinks_in_a_folder_are_reported_and_never_followed(tmp_path):
    root, outside = tmp_path / "archive", tmp_path / "outside"
    write(outside, "secret.txt", prayer_text(f"{T1} - Eve prayed this prayer", archive_id="secret", author="Eve"))
    write(outside, "2025_07_01_prayer_at_0900.txt", prayer_text(archive_id="secret2", author="Eve"))
    write(root, PRAYER, prayer_text())
    (root / FORK).symlink_to(outside / "secret.txt")
    (root / "prayers/2025/07").symlink_to(outside, target_is_directory=True)
    (root / "users").symlink_to(outside, target_is_directory=True)
    archive = read_thywill_archive(root)
    assert [prayer.archive_id for prayer in archive.prayers] == ["p1"]
    assert "eve" not in archive.users
    assert [(r.reason, r.payload["relpath"]) for r in archive.quarantine] == [
        ("unreadable_file", FORK),
        ("unreadable_file", "prayers/2025/07"),
        ("unreadable_file", "users"),
    ]
    assert all("symbolic link" in record.payload["why"] for record in archive.quarantine)


def test_a_special_file_is_reported_and_never_opened(tmp_path):
    write(tmp_path, PRAYER, prayer_text())
    os.mkfifo(tmp_path / FORK)
    archive = read_thywill_archive(tmp_path)
    assert [(r.reason, r.payload["relpath"]) for r in archive.quarantine] == [("unreadable_file", FORK)]


def test_unsafe_zip_members_are_reported_and_never_read_or_extracted(tmp_path):
    path = tmp_path / "archive.zip"
    link = zipfile.ZipInfo("text_archives/" + FORK)
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("text_archives/" + PRAYER, prayer_text())
        archive.writestr("../evil.txt", "evil")
        archive.writestr("/abs.txt", "absolute")
        archive.writestr("text_archives/../../" + PRAYER, prayer_text(archive_id="escape"))
        archive.writestr(link, "/etc/passwd")
    before = sorted(tmp_path.parent.rglob("*"))
    result = read_thywill_archive(path)
    assert sorted(tmp_path.parent.rglob("*")) == before
    assert [prayer.archive_id for prayer in result.prayers] == ["p1"]
    assert [(r.reason, r.payload["member"]) for r in result.quarantine] == [
        ("unsafe_path", "../evil.txt"),
        ("unsafe_path", "/abs.txt"),
        ("unsafe_path", "text_archives/../../" + PRAYER),
        ("unsafe_path", "text_archives/" + FORK),
    ]
    assert "symbolic link" in result.quarantine[-1].payload["why"]


def test_a_zip_is_read_in_memory_only(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the ZIP must not be extracted")

    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    assert len(read_thywill_archive(SAMPLE_ZIP).prayers) == 12


@pytest.mark.parametrize("make", ["missing", "empty", "no_root", "not_a_zip", "zip_without_root"])
def test_a_path_that_holds_no_archive_is_refused_by_name(tmp_path, make):
    path = tmp_path / "input"
    if make == "empty":
        path.mkdir()
    elif make == "no_root":
        write(path, "notes/prayers.txt", "hello")
    elif make == "not_a_zip":
        write(tmp_path, "input", "just text")
    elif make == "zip_without_root":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes/README.txt", "hello")
    with pytest.raises(ValueError, match=str(path)):
        read_thywill_archive(path)


def test_reading_writes_nothing(tmp_path):
    write(tmp_path, PRAYER, prayer_text(f"{T1} - Max prayed this prayer"))
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    read_thywill_archive(tmp_path)
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")} == before


def test_a_zip_in_memory_gives_the_same_result_as_its_folder(tmp_path):
    files = {PRAYER: prayer_text(f"{T1} - None prayed this prayer", "loose"), USERS: registrations("bad line")}
    for relpath, text in files.items():
        write(tmp_path / "folder", relpath, text)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for relpath, text in files.items():
            archive.writestr("top/" + relpath, text)
    write(tmp_path, "archive.zip", buffer.getvalue())
    from_folder = read_thywill_archive(tmp_path / "folder")
    assert read_thywill_archive(tmp_path / "archive.zip") == from_folder
    assert reasons(from_folder) == {"placeholder_actor": 1, "unknown_activity": 1, "bad_registration_line": 1}


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_leaves_the_garbage_collector_as_it_found_it(tmp_path, enabled):
    was_enabled = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        read_thywill_archive(SAMPLE)
        assert gc.isenabled() is enabled
        with pytest.raises(ValueError, match="missing"):
            read_thywill_archive(tmp_path / "missing")
        assert gc.isenabled() is enabled
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()


# --- The result's types -----------------------------------------------------------------------------------


def test_the_fast_event_constructor_builds_exactly_a_legacy_event():
    from archives.thywill import LegacyEvent, _new_event

    moment = datetime(2025, 6, 5, 10, 0, tzinfo=UTC)
    for args in [("prayed", "max", moment, ""), ("testimony", None, moment, "Yes", "cairn:1")]:
        fast, slow = _new_event(*args), LegacyEvent(*args)
        assert fast == slow
        assert hash(fast) == hash(slow)
        assert repr(fast) == repr(slow)
        with pytest.raises(AttributeError):
            fast.kind = "flagged"


def test_the_result_types_keep_their_old_constructors():
    from archives.thywill import LegacyArchive, LegacyEvent, LegacyPrayer

    event = LegacyEvent("prayed", "max", datetime(2025, 6, 5, 10, 0, tzinfo=UTC), "")
    assert event.actor_id is None
    prayer = LegacyPrayer("p1", False, (PRAYER,), "max", event.at, "Rain", "", (event,))
    assert prayer.author_id is None
    assert LegacyArchive({}, [prayer], [], 1, 7).account_events == []


@pytest.mark.parametrize(
    "zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Apia", "UTC"]
)
def test_naive_times_become_the_instants_of_r11_in_every_minute_around_transitions(zone):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from archives.thywill import _instant_function

    tz = ZoneInfo(zone)
    instant = _instant_function(tz)
    days = [datetime(1883, 11, 18), datetime(2011, 12, 29), datetime(2011, 12, 30)]
    days += [datetime(2025, month, day) for month in (3, 4, 9, 10, 11) for day in range(1, 29)]
    for day in days:
        for minute in range(0, 24 * 60, 5):
            naive = day + timedelta(minutes=minute)
            assert instant(naive) == naive.replace(tzinfo=tz).astimezone(UTC), naive
            assert instant(naive).tzinfo is UTC
