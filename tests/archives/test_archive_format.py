"""Write → parse is lossless for Cairn's archive format (hypothesis)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archives.archive_format import (
    ACCOUNT_EVENTS,
    PHRASES,
    AccountEvent,
    PrayerFileProblem,
    account_event_text,
    check_prayer_file,
    event_fields,
    format_time,
    parse_account_line,
    parse_event_line,
    parse_prayer_file,
    parse_time,
    prayer_file_name,
    render_account_line,
    render_event_line,
    render_prayer_file,
)

# Texts as the services store them: "\n" line breaks only (they normalize "\r\n" and "\r").
no_cr = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r")
tricky_lines = st.sampled_from(
    [
        "",
        "   ",
        "Activity:",
        "Generated Prayer:",
        "Activity: none this week",
        "Project: roof fund",
        "Audience: all",
        "Prayer for my dad by Friday",
        "June 02 2025 at 10:00 - the surgery was moved",
        "2025-06-02T10:00:00Z - Max prayed this prayer\t{}",
        "Details: Tuesday 8am",
    ]
)
texts = st.lists(st.one_of(tricky_lines, st.text(no_cr, max_size=30)), min_size=1, max_size=8).map("\n".join)
names = st.text(no_cr, max_size=30)
ids = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)


@given(texts, st.one_of(st.just(""), texts), names, st.one_of(st.none(), ids), moments)
def test_a_prayer_file_parses_back_to_what_was_written(request, generated, author, author_id, submitted):
    content = render_prayer_file(
        archive_id="3f9c2b7e5a1d4c8e9b0a7f6e5d4c3b2a",
        author_name=author,
        author_id=author_id,
        submitted_at=submitted,
        request=request,
        generated_prayer=generated,
    )
    parsed = parse_prayer_file(content.split("\n"))
    assert parsed is not None
    assert (parsed.request, parsed.generated_prayer, parsed.author_id, parsed.submitted_at) == (
        request,
        generated,
        author_id,
        submitted,
    )
    assert parsed.author_name == " ".join(author.split())
    assert parsed.activity == []


@given(st.sampled_from(sorted(PHRASES)), names, st.one_of(st.none(), ids), moments, texts)
def test_an_event_line_parses_back_to_what_was_written(kind, actor, actor_id, at, text):
    text = text if kind == "testimony" else ""
    line = render_event_line(at=at, kind=kind, actor_name=actor, actor_id=actor_id, text=text)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    event = parse_event_line(line[:-1])
    assert (event.kind, event.actor_id, event.at, event.text) == (kind, actor_id, at, text)


@given(texts, st.lists(st.tuples(st.sampled_from(sorted(PHRASES)), names, ids, texts), max_size=5))
def test_events_appended_to_a_prayer_file_come_back_in_order(request, events):
    at = datetime(2025, 6, 5, 9, 7, 31, tzinfo=UTC)
    content = render_prayer_file(
        archive_id="x", author_name="Max", author_id="cairn:1", submitted_at=at, request=request
    )
    for kind, actor, actor_id, text in events:
        content += render_event_line(at=at, kind=kind, actor_name=actor, actor_id=actor_id, text=text)
    parsed = parse_prayer_file(content.split("\n"))
    assert parsed.request == request
    assert [(e.kind, e.actor_id) for e in map(parse_event_line, parsed.activity)] == [
        (kind, actor_id) for kind, _, actor_id, _ in events
    ]


def test_times_are_utc_iso_with_seconds():
    assert format_time(datetime(2025, 6, 5, 9, 7, 31, tzinfo=UTC)) == "2025-06-05T09:07:31Z"


def test_a_file_is_named_like_thywills_by_its_utc_minute():
    assert (
        prayer_file_name(datetime(2025, 6, 5, 9, 7, 31, tzinfo=UTC)) == "prayers/2025/06/2025_06_05_prayer_at_0907.txt"
    )


def test_a_thywill_line_is_not_a_cairn_event():
    assert parse_event_line("June 05 2025 at 09:07 - Max prayed this prayer") is None
    assert parse_event_line("2025-06-05T09:07:31Z - Max prayed this prayer\tnot json") is None
    assert parse_event_line('2025-06-05T09:07:31Z - Max did a thing\t{"kind": "danced"}') is None


def test_a_damaged_prayer_file_is_not_parsed():
    content = render_prayer_file(
        archive_id="x", author_name="Max", author_id=None, submitted_at=datetime(2025, 1, 1, tzinfo=UTC), request="a"
    )
    lines = content.split("\n")
    assert parse_prayer_file(lines) is not None
    assert parse_prayer_file([line for line in lines if line != "Activity:"]) is None
    assert parse_prayer_file(lines[:3]) is None


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2025-06-05T09:07:31Z", datetime(2025, 6, 5, 9, 7, 31, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("2025-6-5T9:7:31Z", None),
        ("2025-06-05T09:07:31", None),
        ("2025-06-05T09:07:31+00:00", None),
        ("2025-06-05 09:07:31Z", None),
        ("2025-06-05T09:07Z", None),
        ("2025-02-30T09:07:31Z", None),
        ("2025-06-05T24:00:00Z", None),
        ("2025-06-05T09:07:60Z", None),
        ("٢٠٢٥-06-05T09:07:31Z", None),
        ("", None),
    ],
)
def test_parse_time_reads_exactly_the_written_form(text, moment):
    parsed = parse_time(text)
    assert parsed == moment
    assert parsed is None or parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ('{"kind": "prayed", "actor": "cairn:1"}', ("prayed", "cairn:1", "")),
        ('{"kind": "prayed", "actor": null}', ("prayed", None, "")),
        ('{"kind": "prayed"}', ("prayed", None, "")),
        ('{"kind": "prayed", "actor": "a", "text": "ignored"}', ("prayed", "a", "")),
        ('{"kind": "testimony", "actor": "a", "text": "x\\ny"}', ("testimony", "a", "x\ny")),
        ('{"kind": "testimony", "actor": "a"}', ("testimony", "a", "")),
        ('{"kind": "testimony", "actor": "a", "text": null}', None),
        ('{"kind": "prayed", "actor": 7}', None),
        ('{"kind": ["prayed"], "actor": "a"}', None),
        ('{"kind": "danced", "actor": "a"}', None),
        ('["prayed"]', None),
        ("{", None),
        ('{"a": ' + "[" * 100_000, None),
    ],
)
def test_event_fields_accepts_only_a_valid_event_object(data, fields):
    assert event_fields(data) == fields


def cairn_file(**fields) -> list[str]:
    values = {
        "archive_id": "x",
        "author_name": "Max",
        "author_id": "cairn:1",
        "submitted_at": datetime(2025, 1, 1, tzinfo=UTC),
        "request": "a\nb",
        "generated_prayer": "g",
    }
    return render_prayer_file(**{**values, **fields}).split("\n")


def test_check_prayer_file_reads_the_layout_and_numbers_the_activity_lines():
    lines = cairn_file()
    checked = check_prayer_file([*lines[:-1], "first", "", "second"])
    assert (checked.request, checked.generated_prayer, checked.author_id) == ("a\nb", "g", "cairn:1")
    assert checked.activity == ["first", "second"]
    assert checked.activity_line == len(lines)  # the line after `Activity:`, 1-based
    assert check_prayer_file([*lines[:6], "Project: x", *lines[6:]]).request == "a\nb"  # other header lines


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda lines: lines[:2], (None, "line 3 is not 'Format: cairn/1'")),
        (lambda lines: ["Prayer x", *lines[1:]], (1, "line 1 is not 'Prayer <id> by <author>'")),
        (lambda lines: [lines[0], "Submitted 2025-01-01", *lines[2:]], (2, "line 2 is not 'Submitted <UTC time>'")),
        (lambda lines: [line for line in lines if line], (None, "no empty line ends the header block")),
        (lambda lines: [*lines[:4], "Author-Id: y", *lines[4:]], (5, "a second 'Author-Id:' line")),
        (lambda lines: [*lines[:4], "Request-Lines: 3", *lines[4:]], (6, "exactly one 'Request-Lines: <number>'")),
        (lambda lines: [*lines[:4], *lines[5:]], (None, "exactly one 'Request-Lines: ")),
        (lambda lines: [*lines[:8], "c", *lines[8:]], (10, "no empty line after the 2 request lines")),
        (lambda lines: [*lines[:10], "Generated:", *lines[11:]], (11, "no 'Generated Prayer:' line")),
        (lambda lines: [*lines[:12], "h", *lines[12:]], (13, "no empty line after the 1 lines")),
        (lambda lines: lines[:-2], (14, "no 'Activity:' line")),
        (lambda lines: [*lines[:-2], "Activity: ", ""], (14, "no 'Activity:' line")),
    ],
)
def test_check_prayer_file_says_which_line_is_wrong(damage, problem):
    lines = cairn_file()
    assert lines[3:6] == ["Author-Id: cairn:1", "Request-Lines: 2", "Generated-Prayer-Lines: 1"]
    checked = check_prayer_file(damage(lines))
    assert isinstance(checked, PrayerFileProblem)
    assert checked.line == problem[0]
    assert problem[1].replace("<number>", "") in checked.why.replace("<number>", "")
    assert parse_prayer_file(damage(lines)) is None


# --- Account events ---------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@given(st.sampled_from(sorted(ACCOUNT_EVENTS)), st.data(), moments, names)
def test_an_account_line_parses_back_to_what_was_written(event, data, at, human):
    fields = {name: data.draw(json_values, label=name) for name in ACCOUNT_EVENTS[event]}
    line = render_account_line(at=at, human=human, event=event, **fields)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert line.count("\t") == 1
    assert parse_account_line(line[:-1]) == AccountEvent(at=at, event=event, data=fields)
    assert parse_event_line(line[:-1]) is None


def test_an_account_line_writes_datetimes_as_utc_iso():
    line = render_account_line(
        at=datetime(2025, 6, 25, 18, 30, 2, tzinfo=UTC),
        human="Alice created an invite\tfor 1 person",
        event="invite_created",
        invite="9f86d0",
        by="cairn:1",
        expires_at=datetime(2025, 7, 2, 18, 30, 2, tzinfo=UTC),
        max_uses=1,
    )
    assert line == (
        "2025-06-25T18:30:02Z - Alice created an invite for 1 person\t"
        '{"event": "invite_created", "invite": "9f86d0", "by": "cairn:1", "expires_at": "2025-07-02T18:30:02Z", '
        '"max_uses": 1}\n'
    )


@pytest.mark.parametrize(
    ("event", "fields"),
    [
        ("teleported", {"user": "x"}),
        ("renamed", {"user": "x"}),
        ("renamed", {"user": "x", "username": "y", "by": "z"}),
    ],
)
def test_render_account_line_refuses_unknown_events_and_fields(event, fields):
    with pytest.raises(ValueError, match=event if event == "teleported" else "exactly the fields"):
        render_account_line(at=datetime(2025, 1, 1, tzinfo=UTC), human="x", event=event, **fields)


@pytest.mark.parametrize(
    "line",
    [
        "June 25 2025 at 18:41 - Max joined on invitation from Alice",
        '2025-06-25T18:41:10Z - Max prayed this prayer\t{"kind": "prayed", "actor": "cairn:1"}',
        '2025-06-25T18:41:10Z - Max joined\t{"event": 3}',
        '2025-06-25T18:41:10Z - Max joined\t["joined"]',
        '2025-06-25T18:41:10Z - Max joined\t{"event": "joined"',
        '2025-06-25 18:41:10Z - Max joined\t{"event": "joined"}',
    ],
)
def test_a_line_without_an_account_json_tail_is_not_an_account_event(line):
    assert parse_account_line(line) is None


def test_an_unknown_account_event_still_parses_so_the_reader_can_quarantine_it():
    assert parse_account_line('2025-06-25T18:41:10Z - x\t{"event": "teleported", "to": "Mars"}') == AccountEvent(
        datetime(2025, 6, 25, 18, 41, 10, tzinfo=UTC), "teleported", {"to": "Mars"}
    )


NAMES = {"cairn:a": "Alice", "cairn:m": "Max"}


@pytest.mark.parametrize(
    ("event", "data", "text"),
    [
        (
            "joined",
            {"user": "cairn:m", "username": "Max", "invited_by": "cairn:a", "invite": "h"},
            "Max joined on invitation from Alice",
        ),
        ("joined", {"user": "cairn:m", "username": "Max", "invited_by": None, "invite": None}, "Max joined directly"),
        ("renamed", {"user": "cairn:m", "username": "Maxwell"}, "Max is now called Maxwell"),
        ("role", {"user": "cairn:m", "role": "staff", "granted": True, "by": "cairn:a"}, "Alice made Max staff"),
        (
            "role",
            {"user": "cairn:m", "role": "staff", "granted": False, "by": "cairn:a"},
            "Alice removed Max's staff role",
        ),
        ("role", {"user": "cairn:m", "role": "superuser", "granted": True, "by": None}, "Unknown made Max superuser"),
        ("deactivated", {"user": "cairn:m", "by": "cairn:a"}, "Alice deactivated Max"),
        ("reactivated", {"user": "cairn:x", "by": "cairn:a"}, "Alice reactivated cairn:x"),
        (
            "invite_created",
            {"invite": "h", "by": "cairn:a", "expires_at": "…", "max_uses": 1},
            "Alice created an invite for 1 person",
        ),
        (
            "invite_created",
            {"invite": "h", "by": "cairn:a", "expires_at": "…", "max_uses": 3},
            "Alice created an invite for 3 people",
        ),
        ("invite_revoked", {"invite": "h", "by": "cairn:a"}, "Alice revoked an invite"),
    ],
)
def test_account_event_text_gives_the_documented_human_text(event, data, text):
    assert account_event_text(event, data, NAMES) == text
    line = render_account_line(at=datetime(2025, 1, 1, tzinfo=UTC), human=text, event=event, **data)
    assert f" - {text}\t" in line


def test_every_account_event_has_a_human_text():
    for event, fields in ACCOUNT_EVENTS.items():
        assert account_event_text(event, dict.fromkeys(fields, "cairn:a") | {"granted": True}, NAMES)
    with pytest.raises(ValueError, match="teleported"):
        account_event_text("teleported", {}, NAMES)
