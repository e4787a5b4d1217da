"""Write → parse is lossless for Cairn's archive format (hypothesis)."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from archives.archive_format import (
    PHRASES,
    format_time,
    parse_event_line,
    parse_prayer_file,
    prayer_file_name,
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
