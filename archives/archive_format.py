"""Cairn's text archive format: ThyWill's layout and lines, extended so nothing depends on names.

Pure functions, no I/O. See docs/archive-format.md for the format with examples. In short:

- Prayer files keep ThyWill's name and shape (`Prayer <id> by <name>`, `Submitted …`, header block, request,
  `Generated Prayer:`, `Activity:`), with header lines `Format: cairn/1`, `Author-Id:` (the author's
  external_id) and `Request-Lines:`/`Generated-Prayer-Lines:` so texts come back exactly, whatever lines
  they hold.
- Times are UTC ISO-8601 with seconds: `2025-06-05T09:07:31Z`.
- An event line is ThyWill's human line, a tab, and a JSON object with the machine data:
  `2025-06-05T09:07:31Z - Max prayed this prayer<TAB>{"kind": "prayed", "actor": "cairn:…"}`. JSON never
  holds a raw tab or newline, and the human part has none either, so the split is unambiguous.
- Account events (`users/<YYYY>_<MM>_users.txt`) are lines of the same shape whose JSON has an `event`
  field instead of `kind`: `render_account_line` writes them, `parse_account_line` reads them, and
  `account_event_text` gives the human text of each event (the table in docs/archive-format.md).

`archives.thywill.read_thywill_archive` reads Cairn's archive root with these parsers, ThyWill's files and
Cairn's side by side, even mixed in one file.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from lib.archive_files import render_line

FORMAT_LINE = "Format: cairn/1"
AUTHOR_ID = "Author-Id: "
REQUEST_LINES = "Request-Lines: "
GENERATED_LINES = "Generated-Prayer-Lines: "
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_TIME_LENGTH = 20  # len("2025-06-05T09:07:31Z")
_SEPARATOR = " - "
_PRAYER_HEADER = re.compile(r"Prayer (\S+) by (.*)")
_SUBMITTED = "Submitted "
_GENERATED = "Generated Prayer:"
_ACTIVITY = "Activity:"
_COUNT = re.compile(r"[0-9]{1,9}")

PHRASES = {
    "prayed": "prayed this prayer",
    "answered": "marked this prayer as answered",
    "testimony": "added testimony:",
    "archived": "archived this prayer",
    "restored": "restored this prayer",
    "flagged": "flagged this prayer",
}

# Account events: `event` → the JSON fields it carries besides `event` (docs/archive-format.md). Users are named
# by external_id, invites by their token's SHA-256, times as UTC ISO strings.
ACCOUNT_EVENTS = {
    "joined": ("user", "username", "invited_by", "invite"),
    "renamed": ("user", "username"),
    "inviter_changed": ("user", "invited_by", "by"),
    "role": ("user", "role", "granted", "by"),
    "deactivated": ("user", "by"),
    "reactivated": ("user", "by"),
    "invite_created": ("invite", "by", "expires_at", "max_uses"),
    "invite_revoked": ("invite", "by"),
    "merged": ("user", "into", "by"),
    "unmerged": ("user", "is_active", "invitees", "invites", "by"),
}


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime | None:
    """The aware UTC time of exactly `2025-06-05T09:07:31Z` (zero-padded ASCII digits), or None."""
    if _TIME.fullmatch(text) is None:
        return None
    try:
        return datetime.fromisoformat(text)  # "Z" gives tzinfo=UTC
    except ValueError:  # an impossible date or time: February 30, 24:00, second 60
        return None


def _one_line(text: str) -> str:
    """Text for the human part of a line: no tabs or line breaks."""
    return " ".join(text.split())


def prayer_file_name(submitted_at: datetime) -> str:
    """ThyWill's name for a prayer file, from its UTC submit minute (the writer adds `_N` if taken)."""
    at = submitted_at.astimezone(UTC)
    return f"prayers/{at:%Y/%m}/{at:%Y_%m_%d}_prayer_at_{at:%H%M}.txt"


def render_prayer_file(
    *,
    archive_id: str,
    author_name: str,
    author_id: str | None,
    submitted_at: datetime,
    request: str,
    generated_prayer: str = "",
) -> str:
    request_lines = request.split("\n")
    generated_lines = generated_prayer.split("\n") if generated_prayer else []
    header = [
        f"Prayer {archive_id} by {_one_line(author_name)}",
        f"Submitted {format_time(submitted_at)}",
        FORMAT_LINE,
    ]
    if author_id is not None:
        header.append(AUTHOR_ID + author_id)
    header += [f"{REQUEST_LINES}{len(request_lines)}", f"{GENERATED_LINES}{len(generated_lines)}"]
    body = [*header, "", *request_lines, ""]
    if generated_lines:
        body += [_GENERATED, *generated_lines, ""]
    body.append(_ACTIVITY)
    return "\n".join(body) + "\n"


def render_event_line(*, at: datetime, kind: str, actor_name: str | None, actor_id: str | None, text: str = "") -> str:
    human = f"{actor_name or 'Unknown'} {PHRASES[kind]}"
    data = {"kind": kind, "actor": actor_id}
    if kind == "testimony":
        human += f" {text}"
        data["text"] = text
    return render_line(at=at, human=human, data=data)


# --- Reading lines ----------------------------------------------------------------------------------------


def split_event_line(line: str) -> tuple[datetime, str, str] | None:
    """(time, human text, JSON text) of a line shaped `<UTC time> - <human><TAB>{…}`, or None.

    Only the shape is checked here; the JSON is read by `event_fields` (prayer events) or
    `parse_account_line` (account events). A ThyWill line (`June 05 2025 at 09:07 - …`) never has this shape.
    """
    human, tab, data = line.rpartition("\t")
    if not tab or not data.startswith("{") or not human.startswith(_SEPARATOR, _TIME_LENGTH):
        return None
    at = parse_time(human[:_TIME_LENGTH])
    if at is None:
        return None
    return at, human[_TIME_LENGTH + len(_SEPARATOR) :], data


def _json_object(data: str) -> dict | None:
    try:
        fields = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return fields if isinstance(fields, dict) else None


def event_fields(data: str) -> tuple[str, str | None, str] | None:
    """(kind, actor external id or None, text) of a prayer event's JSON, or None when it is not a valid one.

    `kind` must be one of PHRASES, `actor` a string or null (missing = null); `text` is the testimony's exact
    text (a string, missing = ''), and '' for every other kind.
    """
    fields = _json_object(data)
    if fields is None:
        return None
    kind, actor = fields.get("kind"), fields.get("actor")
    if not isinstance(kind, str) or kind not in PHRASES or not (actor is None or isinstance(actor, str)):
        return None
    text = fields.get("text", "") if kind == "testimony" else ""
    return (kind, actor, text) if isinstance(text, str) else None


@dataclass(frozen=True)
class CairnEvent:
    kind: str
    actor_id: str | None
    at: datetime
    text: str


def parse_event_line(line: str) -> CairnEvent | None:
    """A Cairn event line, or None when the line is not one (ThyWill lines are read by archives.thywill)."""
    split = split_event_line(line)
    if split is None:
        return None
    fields = event_fields(split[2])
    if fields is None:
        return None
    kind, actor_id, text = fields
    return CairnEvent(kind=kind, actor_id=actor_id, at=split[0], text=text)


# --- Prayer files -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CairnPrayerFile:
    archive_id: str
    author_name: str
    author_id: str | None
    submitted_at: datetime
    request: str
    generated_prayer: str
    activity: list[str]  # the raw lines after `Activity:` (blank lines dropped)
    activity_line: int = 0  # 1-based line number of the line after `Activity:` (for line numbers of activity)


class PrayerFileProblem(NamedTuple):
    line: int | None  # 1-based number of the line at fault, or None when no single line is
    why: str


def is_cairn_prayer_file(lines: list[str]) -> bool:
    return len(lines) > 2 and lines[2] == FORMAT_LINE


def check_prayer_file(lines: list[str]) -> CairnPrayerFile | PrayerFileProblem:
    """Read a Cairn prayer file (split on "\\n"), or say which line makes it unreadable and why.

    Line 1 is `Prayer <id> by <author>` (the id has no spaces), line 2 `Submitted <UTC time>`, line 3
    `Format: cairn/1`. The header block (up to the first empty line) must hold exactly one `Request-Lines:`
    and one `Generated-Prayer-Lines:` count, and at most one `Author-Id:`; other header lines are ignored.
    The texts must be laid out exactly as `render_prayer_file` writes them, ending in `Activity:`.
    """
    if not is_cairn_prayer_file(lines):
        return PrayerFileProblem(3 if len(lines) > 2 else None, f"line 3 is not '{FORMAT_LINE}'")
    header = _PRAYER_HEADER.fullmatch(lines[0])
    if header is None:
        return PrayerFileProblem(1, "line 1 is not 'Prayer <id> by <author>'")
    submitted = parse_time(lines[1][len(_SUBMITTED) :]) if lines[1].startswith(_SUBMITTED) else None
    if submitted is None:
        return PrayerFileProblem(2, "line 2 is not 'Submitted <UTC time>'")
    try:
        blank = lines.index("", 3)
    except ValueError:
        return PrayerFileProblem(None, "no empty line ends the header block")
    found: dict[str, list[tuple[int, str]]] = {AUTHOR_ID: [], REQUEST_LINES: [], GENERATED_LINES: []}
    for index in range(3, blank):
        for name, values in found.items():
            if lines[index].startswith(name):
                values.append((index + 1, lines[index][len(name) :]))
    if len(found[AUTHOR_ID]) > 1:
        return PrayerFileProblem(found[AUTHOR_ID][1][0], "a second 'Author-Id:' line")
    counts = []
    for name in (REQUEST_LINES, GENERATED_LINES):
        values = found[name]
        if len(values) != 1 or _COUNT.fullmatch(values[0][1]) is None:
            line = values[1][0] if len(values) > 1 else values[0][0] if values else None
            return PrayerFileProblem(line, f"the header needs exactly one '{name}<number>' line")
        counts.append(int(values[0][1]))
    n_request, n_generated = counts
    start = blank + 1
    cursor = start + n_request  # the empty line after the request
    if cursor >= len(lines) or lines[cursor] != "":
        return PrayerFileProblem(min(cursor, len(lines)) + 1, f"no empty line after the {n_request} request lines")
    request = lines[start:cursor]
    cursor += 1
    generated: list[str] = []
    if n_generated:
        if lines[cursor : cursor + 1] != [_GENERATED]:
            return PrayerFileProblem(cursor + 1, f"no '{_GENERATED}' line after the request")
        end = cursor + 1 + n_generated
        if end >= len(lines) or lines[end] != "":
            return PrayerFileProblem(min(end, len(lines)) + 1, f"no empty line after the {n_generated} lines")
        generated = lines[cursor + 1 : end]
        cursor = end + 1
    if lines[cursor : cursor + 1] != [_ACTIVITY]:
        return PrayerFileProblem(cursor + 1, f"no '{_ACTIVITY}' line after the texts")
    author_id = found[AUTHOR_ID][0][1] if found[AUTHOR_ID] else None
    return CairnPrayerFile(
        archive_id=header[1],
        author_name=header[2],
        author_id=author_id,
        submitted_at=submitted,
        request="\n".join(request),
        generated_prayer="\n".join(generated),
        activity=[line for line in lines[cursor + 1 :] if line.strip()],
        activity_line=cursor + 2,
    )


def parse_prayer_file(lines: list[str]) -> CairnPrayerFile | None:
    """Read a Cairn prayer file (split on "\\n"); None when it is not one or is damaged (see check_prayer_file)."""
    checked = check_prayer_file(lines)
    return checked if isinstance(checked, CairnPrayerFile) else None


# --- Account events (users/<YYYY>_<MM>_users.txt) ---------------------------------------------------------


@dataclass(frozen=True)
class AccountEvent:
    at: datetime  # aware UTC, to the second
    event: str  # one of ACCOUNT_EVENTS when known; the reader quarantines any other value
    data: dict  # the JSON's other fields, exactly as written (no "event")


def parse_account_line(line: str) -> AccountEvent | None:
    """The account event of a line `<UTC time> - <human><TAB>{"event": …, …}`, or None when it is not one.

    Any string `event` is returned, known or not (the caller decides what an unknown one means); a line
    without such a JSON tail, such as a ThyWill registration line, gives None.
    """
    split = split_event_line(line)
    if split is None:
        return None
    fields = _json_object(split[2])
    if fields is None or not isinstance(fields.get("event"), str):
        return None
    event = fields.pop("event")
    return AccountEvent(at=split[0], event=event, data=fields)


def render_account_line(*, at: datetime, human: str, event: str, **data) -> str:
    """One account-event line, ending with "\\n", to append to `users/<YYYY>_<MM>_users.txt` of `at`'s UTC month.

    `human` is the text for people reading the file (`account_event_text` gives the documented one; tabs
    and line breaks are collapsed). `data` must be exactly the fields ACCOUNT_EVENTS lists for `event`;
    datetimes are written as UTC ISO strings, everything else as JSON. Raises ValueError otherwise.

        render_account_line(at=now, human="Max joined directly", event="joined",
                            user="cairn:7d1c…", username="Max", invited_by=None, invite=None)
    """
    fields = ACCOUNT_EVENTS.get(event)
    if fields is None:
        raise ValueError(f"unknown account event {event!r}")
    if set(data) != set(fields):
        raise ValueError(f"{event} takes exactly the fields {', '.join(fields)}; got {', '.join(sorted(data))}")
    values = {name: format_time(data[name]) if isinstance(data[name], datetime) else data[name] for name in fields}
    return render_line(at=at, human=human, data={"event": event, **values})


def account_event_text(event: str, data: Mapping, names: Mapping[str, str]) -> str:
    """The human text of an account event (docs/archive-format.md), e.g. `Alice made Max staff`.

    `names` maps external ids to display names (a `renamed` event uses it for the old name); an id missing
    from it is shown as the id, and a null id (an action by no one, e.g. a management command) as `Unknown`.
    """

    def name(external_id: str | None) -> str:
        return "Unknown" if external_id is None else names.get(external_id, external_id)

    if event == "joined":
        inviter = data.get("invited_by")
        how = f"on invitation from {name(inviter)}" if inviter else "directly"
        return f"{data['username']} joined {how}"
    if event == "renamed":
        return f"{name(data['user'])} is now called {data['username']}"
    if event == "inviter_changed":
        inviter = data.get("invited_by")
        now = f"invited by {name(inviter)}" if inviter else "joined directly"
        return f"{name(data.get('by'))} recorded that {name(data['user'])} {now}"
    if event == "role":
        if data["granted"]:
            return f"{name(data.get('by'))} made {name(data['user'])} {data['role']}"
        return f"{name(data.get('by'))} removed {name(data['user'])}'s {data['role']} role"
    if event in ("deactivated", "reactivated"):
        return f"{name(data.get('by'))} {event} {name(data['user'])}"
    if event == "invite_created":
        uses = data.get("max_uses")
        people = "" if uses is None else f" for {uses} {'person' if uses == 1 else 'people'}"
        return f"{name(data.get('by'))} created an invite{people}"
    if event == "invite_revoked":
        return f"{name(data.get('by'))} revoked an invite"
    if event == "merged":
        return f"{name(data.get('by'))} merged {name(data['user'])} into {name(data['into'])}"
    if event == "unmerged":
        return f"{name(data.get('by'))} undid the merge of {name(data['user'])}"
    raise ValueError(f"unknown account event {event!r}")
