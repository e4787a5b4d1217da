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
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

FORMAT_LINE = "Format: cairn/1"
AUTHOR_ID = "Author-Id: "
REQUEST_LINES = "Request-Lines: "
GENERATED_LINES = "Generated-Prayer-Lines: "
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

PHRASES = {
    "prayed": "prayed this prayer",
    "answered": "marked this prayer as answered",
    "testimony": "added testimony:",
    "archived": "archived this prayer",
    "restored": "restored this prayer",
    "flagged": "flagged this prayer",
}


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
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
        body += ["Generated Prayer:", *generated_lines, ""]
    body.append("Activity:")
    return "\n".join(body) + "\n"


def render_event_line(*, at: datetime, kind: str, actor_name: str | None, actor_id: str | None, text: str = "") -> str:
    human = f"{_one_line(actor_name or 'Unknown')} {PHRASES[kind]}"
    data = {"kind": kind, "actor": actor_id}
    if kind == "testimony":
        human += f" {_one_line(text)}"
        data["text"] = text
    return f"{format_time(at)} - {human}\t{json.dumps(data, ensure_ascii=False)}\n"


@dataclass(frozen=True)
class CairnEvent:
    kind: str
    actor_id: str | None
    at: datetime
    text: str


def parse_event_line(line: str) -> CairnEvent | None:
    """A Cairn event line, or None when the line is not one (ThyWill lines are read by archives.thywill)."""
    human, tab, data = line.rpartition("\t")
    if not tab or not data.startswith("{"):
        return None
    at = parse_time(human[:20])
    if at is None or human[20:23] != " - ":
        return None
    try:
        fields = json.loads(data)
    except ValueError:
        return None
    if not isinstance(fields, dict) or fields.get("kind") not in PHRASES:
        return None
    return CairnEvent(kind=fields["kind"], actor_id=fields.get("actor"), at=at, text=fields.get("text", ""))


@dataclass(frozen=True)
class CairnPrayerFile:
    archive_id: str
    author_name: str
    author_id: str | None
    submitted_at: datetime
    request: str
    generated_prayer: str
    activity: list[str]  # the raw lines after `Activity:` (blank lines dropped)


def is_cairn_prayer_file(lines: list[str]) -> bool:
    return len(lines) > 2 and lines[2] == FORMAT_LINE


def parse_prayer_file(lines: list[str]) -> CairnPrayerFile | None:
    """Read a Cairn prayer file (split on "\\n"); None when it is not one or is damaged."""
    if not is_cairn_prayer_file(lines) or not lines[0].startswith("Prayer ") or " by " not in lines[0]:
        return None
    archive_id, _, author_name = lines[0][len("Prayer ") :].partition(" by ")
    submitted = parse_time(lines[1][len("Submitted ") :]) if lines[1].startswith("Submitted ") else None
    try:
        blank = lines.index("", 3)
    except ValueError:
        return None
    header = lines[3:blank]
    author_id = next((h[len(AUTHOR_ID) :] for h in header if h.startswith(AUTHOR_ID)), None)
    counts = [h.split(": ", 1)[1] for h in header if h.startswith((REQUEST_LINES, GENERATED_LINES))]
    if submitted is None or len(counts) != 2 or not all(c.isdigit() for c in counts):
        return None
    n_request, n_generated = map(int, counts)
    start = blank + 1
    request = lines[start : start + n_request]
    cursor = start + n_request + 1
    generated: list[str] = []
    if n_generated:
        if lines[cursor : cursor + 1] != ["Generated Prayer:"]:
            return None
        generated = lines[cursor + 1 : cursor + 1 + n_generated]
        cursor += n_generated + 2
    if lines[cursor : cursor + 1] != ["Activity:"] or len(request) != n_request:
        return None
    activity = [line for line in lines[cursor + 1 :] if line.strip()]
    return CairnPrayerFile(
        archive_id=archive_id,
        author_name=author_name,
        author_id=author_id,
        submitted_at=submitted,
        request="\n".join(request),
        generated_prayer="\n".join(generated),
        activity=activity,
    )
