"""Read a ThyWill text archive, or Cairn's archive root, into the exact import result of `legacy/thywill.md`.

A pure reader: no Django models, no database, no writes, nothing extracted to disk. `read_thywill_archive()`
takes a `text_archives/` folder, the site-download ZIP or Cairn's archive root and returns a `LegacyArchive`:
the users, the prayers with their combined events, Cairn's account events, and the Quarantine records the
rules ask for. Every time in it is aware UTC: ThyWill's naive minutes are read as wall time in the `tz`
argument (R11), Cairn's times are UTC already. The database layer turns the result into rows and records
`unregistered_user` for each user with `registered=False` that does not exist yet (R12).

ThyWill files are read by R1–R12 exactly. Cairn's own files (docs/archive-format.md) are read with
`archives.archive_format`, and may sit beside them or inside them:
- a prayer file with `Format: cairn/1` on line 3 is read by `archive_format.check_prayer_file` (its texts
  come back exactly; its author is the `Author-Id:`, never a name);
- an activity line with a Cairn JSON tail, in any prayer file, is a Cairn event: its kind, actor external id,
  exact time and text come from the JSON. Its R8 key is (kind, ("id", actor id), instant, text), so it never
  merges with a ThyWill line; it counts per file and by maximum across a prayer's files like a phrase line,
  and it creates no user (R10 is about ThyWill names). A Cairn event with a null actor is a placeholder
  actor (R12 `placeholder_actor`). Other lines are classified by R6;
- a line with a Cairn JSON tail in a users file is an account event (`LegacyArchive.account_events`, in
  file order, not applied here); one whose `event` is unknown is quarantined as `unknown_account_event`.
  Other lines are registration lines (R4).

The line-level functions are public so that Cairn's own archive format, which extends ThyWill's, can reuse
them: `parse_timestamp`, `decode` (R2), `parse_prayer_file` (R5), `classify_activity` (R6) and
`parse_registration_line` (R4).

Bad input that real ThyWill archives never hold (invalid UTF-8, symlinks, special files, unsafe ZIP members)
is skipped and reported as Quarantine `unreadable_file` or `unsafe_path`; nothing outside the archive is ever
opened. A NUL character in a text is read as U+FFFD (see `decode`).
"""

import gc
import os
import re
import stat
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from accounts.identity import display_name, username_key
from archives import archive_format
from archives.archive_format import ACCOUNT_EVENTS, AccountEvent
from lib.caching import ComputedDict
from lib.text import without_nul

# uuid5 namespace of the archive ids generated for `Prayer temp by …` files (R7). Never change it: the id of
# an imported temp prayer is its natural key on re-import (R13).
THYWILL_TEMP_NAMESPACE = uuid.UUID("9df653ce-8391-4ba4-9786-49479359a8d1")

KINDS = ("prayed", "answered", "testimony", "archived", "restored", "flagged")
IGNORED = "ignored"
UNKNOWN = "unknown"
PHRASE_FORM = "phrase"
SET_FORM = "set"

# R11: the default `tz` of read_thywill_archive (`--timezone` defaults to UTC).
DEFAULT_TZ = ZoneInfo("UTC")

# R3: a name with one of these keys is a placeholder, never a user.
PLACEHOLDER_KEYS = frozenset({"", "none", "unknown", "unknown user"})

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_NUMBERS = {name: number for number, name in enumerate(_MONTHS, start=1)}
# <TS> of R4/R6 is `(January|…|December) \d{1,2} \d{4} at \d{2}:\d{2}` (ASCII digits): a day, " at ", a clock.
_DAY = re.compile(rf"({'|'.join(_MONTHS)}) ([0-9]{{1,2}}) ([0-9]{{4}})")
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})")
_AT = " at "
# The " at " of a timestamp starts at most at index 17 ("September 30 2025"), so it ends before index 21.
_AT_SEARCH_END = 21
_TS_SEPARATOR = " - "

_PRAYER_FILE = re.compile(
    r"prayers/[0-9]{4}/[0-9]{2}/([0-9]{4})_([0-9]{2})_([0-9]{2})_prayer_at_([0-9]{2})([0-9]{2})(?:_([0-9]+))?\.txt"
)
_REGISTRATION_FILE = re.compile(r"users/([0-9]{4})_([0-9]{2})_users\.txt")
# The folders that can hold those files (R1). Nothing else under the root is ever opened.
_DATA_FOLDER = re.compile(r"prayers(?:/[0-9]{4}(?:/[0-9]{2})?)?|users")
_REGISTRATIONS, _PRAYERS = 0, 1  # first element of a file-order key

_PRAYER_HEADER = re.compile(r"Prayer (\S+) by (.*)")
_SUBMITTED = "Submitted "
_ACTIVITY = "Activity:"
_GENERATED = "Generated Prayer:"
_TEMP_ID = "temp"

_TESTIMONY = " added testimony: "
_PHRASES = (
    (" prayed this prayer", "prayed"),
    (" marked this prayer as answered", "answered"),
    (" archived this prayer", "archived"),
    (" restored this prayer", "restored"),
    (" flagged this prayer", "flagged"),
)
_SET_LINE = re.compile(r"(?P<actor>.*?) set (?P<attr>[A-Za-z0-9_]+) (?:from '(?P<old>.*?)' )?to '(?P<new>.*)'")
_REMOVED_LINE = re.compile(r"(?P<actor>.*?) removed (?P<attr>[A-Za-z0-9_]+) \(was '(?P<old>.*)'\)")
_SET_KINDS = frozenset({"answered", "archived", "flagged"})
_UNKNOWN_REST = (UNKNOWN, None, None, "")
_IGNORED_REST = (IGNORED, None, None, "")

_REGISTRATION_HEADER = "User Registrations for "
_JOINED_ON_INVITATION = " joined on invitation from "
_JOINED_DIRECTLY = " joined directly"

_SOURCE = "thywill:"


# --- The result -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LegacyUser:
    key: str  # username_key
    username: str  # display(first mention) per R4 pass 1 / R10 / R4 pass 3
    invited_by_key: str | None  # R4 pass 3
    registered: bool  # False: the DB layer records Quarantine unregistered_user (R12)
    source: str  # where it was first mentioned: "<relpath>:<line number>"


@dataclass(frozen=True, slots=True)
class LegacyEvent:
    kind: str  # one of KINDS
    actor_key: str | None  # ThyWill line: the actor's username_key, None = placeholder (R3/R6); Cairn event: None
    at: datetime  # aware UTC: a ThyWill line's minute read in `tz` (R11), or a Cairn event's exact second
    text: str  # testimony text, '' for other kinds
    actor_id: str | None = None  # Cairn event: the actor's external_id (None = placeholder); ThyWill line: None


@dataclass(frozen=True, slots=True)
class LegacyPrayer:
    archive_id: str  # header id; temp files: temp_archive_id(relpath) (R7)
    temp: bool
    files: tuple[str, ...]  # relative POSIX paths in file order (R1); the first is the primary file
    author_key: str | None  # R9, from the ThyWill files; None when none names a real author
    submitted_at: datetime  # aware UTC, from the primary file (ThyWill: its minute read in `tz`)
    request: str  # R5 (Cairn file: exactly as written)
    generated_prayer: str  # R5 ('' when none)
    events: tuple[LegacyEvent, ...]  # the combined multiset (R8) in R9's "latest" order (instant, then first seen)
    author_id: str | None = None  # the `Author-Id:` of the first Cairn file (file order) that has one


@dataclass(frozen=True, slots=True)
class LegacyQuarantine:
    reason: str  # an R12 reason, or "unreadable_file" / "unsafe_path"
    source: str  # "thywill:<relpath>" or "thywill:<relpath>:<line>"
    payload: dict  # JSON-serializable; the same from the folder and the ZIP, and on every run


@dataclass
class LegacyArchive:
    users: dict[str, LegacyUser]  # key → user, in creation order (pass 1, pass 2, pass 3)
    prayers: list[LegacyPrayer]  # in file order of their primary file
    quarantine: list[LegacyQuarantine]
    files_read: int  # prayer + registration files read
    lines_read: int  # lines of those files
    # Cairn's account events (known `event`s only), in file order (R1) then line order; not applied here
    account_events: list[AccountEvent] = field(default_factory=list)


# --- Timestamps and decoding (R2) -------------------------------------------------------------------------


class UnreadableFileError(ValueError):
    """The bytes of a file are not text this import can read (not UTF-8, or binary)."""


def _parse_day(text: str) -> datetime | None:
    """Midnight of `June 05 2025` (or `June 5 2025`), or None."""
    match = _DAY.fullmatch(text)
    if match is None:
        return None
    month, day, year = match.groups()
    try:
        return datetime(int(year), _MONTH_NUMBERS[month], int(day))
    except ValueError:
        return None


def _parse_clock(text: str) -> timedelta | None:
    """The time of day of `09:07`, or None."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2])
    return timedelta(hours=hour, minutes=minute) if hour < 24 and minute < 60 else None


def parse_timestamp(text: str) -> datetime | None:
    """A naive datetime from ThyWill's `%B %d %Y at %H:%M` (`June 05 2025 at 09:07`, also `June 5 …`).

    The whole text must be the timestamp, with an English month name and ASCII digits; None otherwise, and
    for impossible dates or times (`February 30`, `25:00`).
    """
    day, at, clock = text.partition(_AT)
    if not at:
        return None
    midnight, time_of_day = _parse_day(day), _parse_clock(clock)
    return None if midnight is None or time_of_day is None else midnight + time_of_day


class TimestampCache:
    """Reads timestamps and `<TS> - ` line prefixes (R4–R6), remembering each day and clock text parsed.

    Many lines of an archive share a day, so one cache per archive read makes timestamps nearly free.
    Create one per read: it grows with the distinct texts it sees.
    """

    __slots__ = ("days", "clocks")

    def __init__(self):
        self.days = ComputedDict(_parse_day)
        self.clocks = ComputedDict(_parse_clock)

    def parse(self, text: str) -> datetime | None:
        """parse_timestamp(text), cached."""
        day, at, clock = text.partition(_AT)
        if not at:
            return None
        midnight, time_of_day = self.days[day], self.clocks[clock]
        return None if midnight is None or time_of_day is None else midnight + time_of_day

    def split(self, line: str) -> tuple[datetime, str] | None:
        """(time, rest) of a line `^<TS> - (?P<rest>.*)$`, or None when it has no such prefix.

        The separator is the ` - ` right after the timestamp, so `rest` may contain ` - ` itself.
        """
        at = line.find(_AT, 0, _AT_SEARCH_END)
        if at < 0:
            return None
        end = at + 9  # " at HH:MM"
        if not line.startswith(_TS_SEPARATOR, end):
            return None
        midnight = self.days[line[:at]]
        time_of_day = self.clocks[line[at + 4 : end]]
        if midnight is None or time_of_day is None:
            return None
        return midnight + time_of_day, line[end + 3 :]


def decode(data: bytes) -> list[str]:
    """The lines of a file (R2): UTF-8 without a leading BOM, `\\r\\n` then `\\r` made `\\n`, split on `\\n`.

    Nothing is stripped. The newline that ends the last line does not start another line, so `b"a\\n"` is
    `["a"]` and `b""` is `[]`. Raises UnreadableFileError for invalid UTF-8 (a binary file, a wrong encoding).

    A NUL character (ThyWill writes a request as it was posted, and an API client can post one) becomes
    U+FFFD: PostgreSQL text cannot hold NUL, and every database must read an archive the same way. The
    archive file keeps its bytes.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFileError(f"is not valid UTF-8 (byte {error.start})") from None
    text = without_nul(text)
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _is_blank(line: str) -> bool:
    """R2: a line is blank when it is empty or whitespace-only."""
    return not line or line.isspace()


# --- Registration lines (R4) ------------------------------------------------------------------------------


def parse_registration_line(
    line: str, *, timestamps: TimestampCache | None = None
) -> tuple[datetime, str, str | None] | None:
    """(at, name, inviter or None) of a registration line (R4), or None when it matches neither form.

    The invitation form is tried first: the name is the text before the first ` joined on invitation from `,
    the inviter everything after it. Names are returned as written; whether the name is a placeholder (a
    `bad_registration_line`) is for the caller to decide. Pass `timestamps` when reading many lines.
    """
    split = (timestamps or TimestampCache()).split(line)
    if split is None:
        return None
    at, rest = split
    cut = rest.find(_JOINED_ON_INVITATION)
    if cut >= 0:
        return at, rest[:cut], rest[cut + len(_JOINED_ON_INVITATION) :]
    if rest.endswith(_JOINED_DIRECTLY):
        return at, rest[: -len(_JOINED_DIRECTLY)], None
    return None


# --- Prayer files (R5) ------------------------------------------------------------------------------------


class ParsedPrayerFile(NamedTuple):
    archive_id: str  # the header id as written (`temp` for a temp file)
    author: str  # the header author as written; may be empty or a placeholder
    submitted_at: datetime  # naive
    request: str
    generated_prayer: str  # '' when there is no `Generated Prayer:` line
    activity: Sequence[str]  # every line after the last `Activity:` line, blank ones included
    activity_line: int  # 1-based line number of activity[0]


def _join_trimmed(lines: Sequence[str], start: int, stop: int) -> str:
    """lines[start:stop] without leading and trailing blank lines, joined with `\\n` (R5)."""
    while start < stop and (not lines[start] or lines[start].isspace()):
        start += 1
    while stop > start and (not lines[stop - 1] or lines[stop - 1].isspace()):
        stop -= 1
    return "\n".join(lines[start:stop])


def _last_index(lines: list[str], value: str) -> int:
    """Index of the last line equal to `value`, or -1."""
    try:
        return len(lines) - 1 - lines[::-1].index(value)
    except ValueError:
        return -1


def _parse_prayer_file(lines: list[str], timestamps: TimestampCache) -> ParsedPrayerFile | tuple[int | None, str]:
    """R5: the parsed file, or (line number or None, why) when the file yields no prayer."""
    header = _PRAYER_HEADER.fullmatch(lines[0]) if lines else None
    if header is None:
        return 1, "line 1 is not 'Prayer <id> by <author>'"
    second = lines[1] if len(lines) > 1 else ""
    submitted_at = timestamps.parse(second[len(_SUBMITTED) :]) if second.startswith(_SUBMITTED) else None
    if submitted_at is None:
        return 2, "line 2 is not 'Submitted <timestamp>'"
    activity = _last_index(lines, _ACTIVITY)
    if activity < 0:
        return None, "no 'Activity:' line"
    # The header block runs from line 3 to the first empty line; the body starts after it.
    try:
        body = lines.index("", 2) + 1
    except ValueError:
        body = len(lines)
    try:
        generated = lines.index(_GENERATED, body, activity)
    except ValueError:
        generated = -1
    return ParsedPrayerFile(
        archive_id=header[1],
        author=header[2],
        submitted_at=submitted_at,
        request=_join_trimmed(lines, body, generated if generated >= 0 else activity),
        generated_prayer=_join_trimmed(lines, generated + 1, activity) if generated >= 0 else "",
        activity=lines[activity + 1 :],
        activity_line=activity + 2,
    )


def _parse_cairn_prayer_file(lines: list[str]) -> tuple[ParsedPrayerFile | tuple[int | None, str], str | None]:
    """(the file with an aware submit time, or (line number or None, why) when damaged; its Author-Id)."""
    checked = archive_format.check_prayer_file(lines)
    if isinstance(checked, archive_format.PrayerFileProblem):
        return (checked.line, checked.why), None
    parsed = ParsedPrayerFile(
        archive_id=checked.archive_id,
        author=checked.author_name,
        submitted_at=checked.submitted_at,
        request=checked.request,
        generated_prayer=checked.generated_prayer,
        activity=lines[checked.activity_line - 1 :],
        activity_line=checked.activity_line,
    )
    return parsed, checked.author_id


def parse_prayer_file(lines: list[str], *, timestamps: TimestampCache | None = None) -> ParsedPrayerFile | None:
    """A prayer file's header, texts and activity lines (R5), or None when the file yields no prayer.

    `lines` are the decoded lines (`decode`). Line 1 must be `Prayer <id> by <author>` (the id runs up to
    the first ` by `), line 2 `Submitted <TS>`, and some line must be exactly `Activity:`; the last such
    line is A. The header block ends at the first empty line. `request` is the body up to the first
    `Generated Prayer:` line before A (or up to A), `generated_prayer` the lines between that and A, both
    with leading and trailing blank lines removed and everything else kept exactly as written.
    """
    parsed = _parse_prayer_file(lines, timestamps or TimestampCache())
    return parsed if isinstance(parsed, ParsedPrayerFile) else None


# --- Activity lines (R6) ----------------------------------------------------------------------------------


class ActivityLine(NamedTuple):
    kind: str  # one of KINDS, IGNORED or UNKNOWN
    form: str | None  # PHRASE_FORM or SET_FORM for an event, None otherwise
    actor: str | None  # the actor as written, for an event; None otherwise (not a user mention)
    at: datetime | None  # the line's minute; None when the line has no `<TS> - ` prefix
    text: str  # the testimony text for a testimony, '' otherwise
    rest: str  # the text after `<TS> - `, or the whole line when it has no such prefix


def _classify_set(rest: str) -> tuple[str, str | None, str | None, str]:
    """R6 row 7 (`<actor> set <attr> [from '<old>' ]to '<new>'`) for a rest that ends with `'`."""
    match = _SET_LINE.fullmatch(rest)
    if match is None:
        return _UNKNOWN_REST
    attr, new = match["attr"], match["new"]
    if attr == "answer_testimony":
        return "testimony", SET_FORM, match["actor"], new
    if attr == "answer_date":
        return _IGNORED_REST
    if attr in _SET_KINDS and new == "true":
        return attr, SET_FORM, match["actor"], ""
    return _UNKNOWN_REST


def _classify_removed(rest: str) -> tuple[str, str | None, str | None, str]:
    """R6 row 8 (`<actor> removed <attr> (was '<old>')`) for a rest that ends with `')`."""
    match = _REMOVED_LINE.fullmatch(rest)
    if match is None or match["attr"] != "archived":
        return _UNKNOWN_REST
    return "restored", SET_FORM, match["actor"], ""


def _classify_rest(rest: str) -> tuple[str, str | None, str | None, str]:
    """R6 rows 1–9 for the text after `<TS> - `: (kind, form, actor, text)."""
    cut = rest.find(_TESTIMONY)
    if cut >= 0:
        return "testimony", PHRASE_FORM, rest[:cut], rest[cut + len(_TESTIMONY) :]
    for suffix, kind in _PHRASES:
        if rest.endswith(suffix):
            return kind, PHRASE_FORM, rest[: -len(suffix)], ""
    if rest.endswith("'"):
        return _classify_set(rest)
    if rest.endswith("')"):
        return _classify_removed(rest)
    return _UNKNOWN_REST


def classify_activity(line: str, *, timestamps: TimestampCache | None = None) -> ActivityLine:
    """What one activity line says (R6): an event, an ignored line or an unknown line.

    Rows are tried in R6's order: `added testimony: ` (actor before its first occurrence, text verbatim
    after it), the five phrases (actor = everything before the phrase, never "the first word"), then the
    `set`/`removed` forms: `answered`/`archived`/`flagged` set to `'true'` give that kind,
    `answer_testimony` a testimony with the new value as text, `answer_date` is ignored, and `removed
    archived` is a restore. Anything else, and a line without a `<TS> - ` prefix, is unknown. Pass
    `timestamps` when classifying many lines.
    """
    split = (timestamps or TimestampCache()).split(line)
    if split is None:
        return ActivityLine(UNKNOWN, None, None, None, "", line)
    at, rest = split
    kind, form, actor, text = _classify_rest(rest)
    return ActivityLine(kind, form, actor, at, text, rest)


# --- File selection (R1) ----------------------------------------------------------------------------------


def file_order_key(relpath: str) -> tuple | None:
    """R1: the sort key of a file the import reads, or None for every other file.

    Registration files sort by (YYYY, MM) and come before every prayer file; prayer files sort by the
    name's (YYYY, MM, DD, HH, MM, N), N = 1 without a suffix, then by relative path.
    """
    match = _PRAYER_FILE.fullmatch(relpath)
    if match is not None:
        *stamp, suffix = match.groups()
        return (_PRAYERS, *map(int, stamp), int(suffix) if suffix else 1, relpath)
    match = _REGISTRATION_FILE.fullmatch(relpath)
    if match is not None:
        return _REGISTRATIONS, int(match[1]), int(match[2]), relpath
    return None


def temp_archive_id(relpath: str) -> str:
    """R7: the deterministic archive id of a `Prayer temp by …` file."""
    return uuid.uuid5(THYWILL_TEMP_NAMESPACE, "thywill-temp:" + relpath).hex


class _Unreadable(Exception):
    """A file the source cannot hand over; the message says why."""


def _unreadable(relpath: str, why: str) -> LegacyQuarantine:
    return LegacyQuarantine("unreadable_file", _SOURCE + relpath, {"relpath": relpath, "why": why})


def _has_data_folder(folder: Path) -> bool:
    """R1: the folder holds `prayers/` or `users/` (a symlinked one counts; it is reported, not followed)."""
    return any((folder / name).is_dir() or (folder / name).is_symlink() for name in ("prayers", "users"))


def _find_folder_root(path: Path) -> Path:
    """R1: `path` itself, or its one top-level folder that holds `prayers/` or `users/`."""
    if _has_data_folder(path):
        return path
    with os.scandir(path) as entries:
        candidates = sorted(
            entry.name for entry in entries if entry.is_dir(follow_symlinks=False) and _has_data_folder(Path(entry))
        )
    if len(candidates) == 1:
        return path / candidates[0]
    if candidates:
        raise ValueError(f"{path}: several folders hold a ThyWill archive ({', '.join(candidates)}); name one")
    raise ValueError(f"{path}: not a ThyWill archive (no prayers/ or users/ folder, at the top or one level down)")


class _FolderSource:
    """The files of an archive folder. Symlinks and special files are reported, never followed or read."""

    def __init__(self, root: Path):
        self.root = str(root)

    def scan(self) -> tuple[list[tuple], list[LegacyQuarantine]]:
        """(file-order keys of the files to read, problems), walking only the folders R1 can select."""
        found: list[tuple] = []
        problems: list[LegacyQuarantine] = []
        pending = [""]
        while pending:
            folder = pending.pop()
            try:
                entries = list(os.scandir(os.path.join(self.root, folder) if folder else self.root))
            except OSError as error:
                if not folder:
                    raise ValueError(f"{self.root}: cannot be listed ({error.strerror})") from None
                problems.append(_unreadable(folder, f"cannot be listed ({error.strerror})"))
                continue
            for entry in entries:
                if not folder and entry.name not in ("prayers", "users"):
                    continue
                relpath = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir(follow_symlinks=False):
                    if _DATA_FOLDER.fullmatch(relpath):
                        pending.append(relpath)
                    continue
                key = file_order_key(relpath)
                if entry.is_symlink():
                    if key is not None or _DATA_FOLDER.fullmatch(relpath):
                        problems.append(_unreadable(relpath, "is a symbolic link (not followed)"))
                elif key is not None:
                    if entry.is_file(follow_symlinks=False):
                        found.append(key)
                    else:
                        problems.append(_unreadable(relpath, "is not a regular file"))
        problems.sort(key=lambda record: record.payload["relpath"])
        return found, problems

    def read(self, relpath: str) -> bytes:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            descriptor = os.open(f"{self.root}/{relpath}", flags)
        except OSError as error:
            raise _Unreadable(f"cannot be opened ({error.strerror})") from None
        try:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                raise _Unreadable("is not a regular file")
            data = os.read(descriptor, info.st_size + 1)
            if len(data) > info.st_size:  # it grew since fstat: read on to the end
                chunks = [data]
                while chunk := os.read(descriptor, 1 << 16):
                    chunks.append(chunk)
                data = b"".join(chunks)
            return data
        except OSError as error:
            raise _Unreadable(f"cannot be read ({error.strerror})") from None
        finally:
            os.close(descriptor)


def _unsafe_member_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a ZIP member must never be read, or None. Member names are only compared, never used as paths."""
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "has a '..' path component"
    return None


def _zip_root_prefix(names: list[str], path: Path) -> str:
    """R1: '' when the ZIP's top level holds prayers/ or users/, else its one top folder that does, plus '/'."""
    if any(name.startswith(("prayers/", "users/")) for name in names):
        return ""
    tops = {
        parts[0]
        for parts in (name.split("/", 2) for name in names)
        if len(parts) == 3 and parts[1] in ("prayers", "users")
    }
    if len(tops) == 1:
        return tops.pop() + "/"
    if tops:
        raise ValueError(f"{path}: several folders in the ZIP hold a ThyWill archive ({', '.join(sorted(tops))})")
    raise ValueError(f"{path}: not a ThyWill archive (no prayers/ or users/ folder in the ZIP)")


class _ZipSource:
    """The members of an archive ZIP, read in memory; nothing is extracted."""

    def __init__(self, archive: zipfile.ZipFile, path: Path):
        self.archive = archive
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.problems: list[LegacyQuarantine] = []
        safe = []
        for info in sorted(archive.infolist(), key=lambda member: member.filename):
            why = _unsafe_member_reason(info)
            if why is None:
                safe.append(info)
            else:
                self._unsafe(info.filename, why)
        prefix = _zip_root_prefix([info.filename for info in safe], path)
        for info in safe:
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            relpath = info.filename[len(prefix) :]
            if file_order_key(relpath) is None:
                continue
            if relpath in self.members:
                self._unsafe(info.filename, "repeats the name of an earlier member (only the first is read)")
            else:
                self.members[relpath] = info

    def _unsafe(self, name: str, why: str) -> None:
        self.problems.append(LegacyQuarantine("unsafe_path", _SOURCE + name, {"member": name, "why": why}))

    def scan(self) -> tuple[list[tuple], list[LegacyQuarantine]]:
        return [file_order_key(relpath) for relpath in self.members], self.problems

    def read(self, relpath: str) -> bytes:
        try:
            return self.archive.read(self.members[relpath])
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError, zlib.error) as error:
            raise _Unreadable(f"cannot be read from the ZIP ({error})") from None


# --- The import -------------------------------------------------------------------------------------------

# What an activity rest means to the import (see _ArchiveReader._meaning): an event in phrase or set form,
# an unknown line, or an ignored line.
_PHRASE_EVENT, _SET_EVENT, _UNKNOWN_LINE, _IGNORED_LINE = 0, 1, 2, 3
_CAIRN_ID = "id"  # a Cairn event's actor in its R8 key is (_CAIRN_ID, external id or None): never a ThyWill key
_at_of_event = attrgetter("at")
_first = itemgetter(0)


_set_kind, _set_actor_key, _set_at, _set_text, _set_actor_id = (
    slot.__set__
    for slot in (LegacyEvent.kind, LegacyEvent.actor_key, LegacyEvent.at, LegacyEvent.text, LegacyEvent.actor_id)
)


def _new_event(kind: str, actor_key: str | None, at: datetime, text: str, actor_id: str | None = None) -> LegacyEvent:
    """LegacyEvent(kind, actor_key, at, text, actor_id), built in half the time.

    A frozen dataclass's __init__ sets each field through object.__setattr__; setting the slots directly
    gives the same object. This runs once per event of the archive. Keep it in step with LegacyEvent's
    fields (a test checks that both give equal events).
    """
    event = object.__new__(LegacyEvent)
    _set_kind(event, kind)
    _set_actor_key(event, actor_key)
    _set_at(event, at)
    _set_text(event, text)
    _set_actor_id(event, actor_id)
    return event


_NAIVE_EPOCH = datetime(2000, 1, 1)
_UTC_EPOCH = _NAIVE_EPOCH.replace(tzinfo=UTC)


def _instant_function(tz: tzinfo) -> Callable[[datetime], datetime]:
    """R11: naive wall time in `tz` → aware UTC instant, exactly `naive.replace(tzinfo=tz).astimezone(UTC)`.

    That is `naive - offset` where offset is tz's UTC offset of the naive time with fold=0 (the first of two
    ambiguous times, the offset before a gap). ZoneInfo and timezone read the offset of a naive datetime
    from its fields and fold alone, so asking them directly gives the same instant in a tenth of the time
    (no per-minute cache needed); another tzinfo gets the plain expression.
    """
    if isinstance(tz, (ZoneInfo, timezone)):
        utcoffset = tz.utcoffset
        return lambda naive: naive - utcoffset(naive) - _NAIVE_EPOCH + _UTC_EPOCH
    return lambda naive: naive.replace(tzinfo=tz).astimezone(UTC)


def _is_utc(tz: tzinfo) -> bool:
    """True when wall time in `tz` is UTC at every instant."""
    if isinstance(tz, ZoneInfo):
        return tz.key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu")
    return isinstance(tz, timezone) and tz.utcoffset(None) == timedelta(0)


class _UserDraft:
    __slots__ = ("username", "source", "registered", "invited_by_key")

    def __init__(self, username: str, source: str, registered: bool):
        self.username = username
        self.source = source
        self.registered = registered
        self.invited_by_key: str | None = None


class _FileTally:
    """One prayer file's activity, counted per R8 key before files are combined.

    An event key is ((kind, actor, text), time): a ThyWill line's actor is its key or None and its time the
    naive minute as written; a Cairn event's actor is (_CAIRN_ID, external id or None) and its time aware UTC.
    An unknown key is (minute or None, rest). Cairn events count like phrase lines.
    """

    __slots__ = ("counts", "sets", "unknown", "places")

    def __init__(self):
        self.counts: dict[tuple, int] = {}  # event key → phrase lines, in order of first appearance
        self.sets: dict[tuple, int] = {}  # event key → set lines
        self.unknown: dict[tuple, list[tuple[int, str]]] = {}  # unknown key → its (line number, line)s
        self.places: dict[tuple, tuple[list, list]] = {}  # placeholder event key → its phrase, set lines

    def combined(self) -> dict[tuple, int]:
        """R8 within one file: n_f(k) = max(phrase lines, set lines), in order of first appearance."""
        counts = self.counts
        for key, count in self.sets.items():
            if count > counts[key]:
                counts[key] = count
        return counts


class _PrayerDraft:
    """A prayer while its files are read: R8's combined counts in order of first appearance, R9's author."""

    __slots__ = ("archive_id", "temp", "files", "author_key", "author_id", "primary", "counts", "places", "unknown")

    def __init__(self, archive_id: str, temp: bool, primary: ParsedPrayerFile, header_line: str):
        self.archive_id = archive_id
        self.temp = temp
        self.files: list[str] = []
        self.author_key: str | None = None
        self.author_id: str | None = None
        self.primary = (primary.submitted_at, primary.request, primary.generated_prayer, header_line)
        self.counts: dict[tuple, int] = {}  # event key → N(k), in order of first appearance
        # Where each combined occurrence was found, as (relpath, line number, line): for the Quarantine records
        # of placeholder actors (key → N(k) places) and of unknown lines (key → as many places as occurrences).
        self.places: dict[tuple, list[tuple[str, int, str]]] = {}
        self.unknown: dict[tuple, list[tuple[str, int, str]]] = {}

    def add_file(self, relpath: str, author_key: str | None, author_id: str | None, tally: _FileTally) -> None:
        """R8: N(k) is the maximum over the files of n_f(k); R9: the author is the first real one (by name
        from ThyWill files, by Author-Id from Cairn files)."""
        self.files.append(relpath)
        if self.author_key is None:
            self.author_key = author_key
        if self.author_id is None:
            self.author_id = author_id
        counts = tally.combined()
        if not self.counts:
            self.counts = counts
        else:
            combined = self.counts
            for key, count in counts.items():
                if count > combined.get(key, 0):
                    combined[key] = count
        for key, (phrase_lines, set_lines) in tally.places.items():
            _add_places(self.places, key, relpath, set_lines if len(set_lines) > len(phrase_lines) else phrase_lines)
        for key, lines in tally.unknown.items():
            _add_places(self.unknown, key, relpath, lines)


def _add_places(places: dict, key: tuple, relpath: str, lines: list[tuple[int, str]]) -> None:
    """Keep max(known, len(lines)) places for `key`: the new occurrences are this file's extra lines (R8)."""
    known = places.setdefault(key, [])
    if len(lines) > len(known):
        known.extend((relpath, number, line) for number, line in lines[len(known) :])


class _ArchiveReader:
    """One read of one archive; all its state lives here."""

    def __init__(self, source: _FolderSource | _ZipSource, tz: tzinfo):
        self.source = source
        self.timestamps = TimestampCache()
        # R11: a naive ThyWill minute → its aware UTC instant (see _instant_function). None for UTC: there it is
        # `naive - _NAIVE_EPOCH + _UTC_EPOCH`, two additions that _finish_prayer inlines (it runs once per event).
        self.instant = None if _is_utc(tz) else _instant_function(tz)
        self.keys = ComputedDict(username_key)
        self.meanings: dict[str, tuple] = {}  # activity rest → _meaning(rest)
        self.cairn_events: dict[str, tuple | None] = {}  # a Cairn event line's JSON → (kind, actor, text) or None
        self.users: dict[str, _UserDraft] = {}
        self.account_events: list[AccountEvent] = []
        self.quarantine: list[LegacyQuarantine] = []
        self.files_read = 0
        self.lines_read = 0

    def read(self) -> LegacyArchive:
        keys, problems = self.source.scan()
        self.quarantine.extend(problems)
        keys.sort()
        registrations = self._read_registrations([key[-1] for key in keys if key[0] == _REGISTRATIONS])
        drafts = self._read_prayer_files([key[-1] for key in keys if key[0] == _PRAYERS])
        self._link_inviters(registrations)
        prayers = []
        drafts.reverse()
        while drafts:  # let each draft go as soon as its prayer is built
            prayers.append(self._finish_prayer(drafts.pop()))
        users = {
            key: LegacyUser(key, user.username, user.invited_by_key, user.registered, user.source)
            for key, user in self.users.items()
        }
        return LegacyArchive(users, prayers, self.quarantine, self.files_read, self.lines_read, self.account_events)

    def _read_lines(self, relpath: str) -> list[str] | None:
        """The decoded lines of a data file (R2), or None after quarantining an unreadable one."""
        try:
            lines = decode(self.source.read(relpath))
        except (_Unreadable, UnreadableFileError) as error:
            self.quarantine.append(_unreadable(relpath, str(error)))
            return None
        self.files_read += 1
        self.lines_read += len(lines)
        return lines

    def _mention(self, key: str, name: str, source: str, registered: bool) -> None:
        """Create user `key` unless it exists; its username is display() of this first mention (R4, R10)."""
        if key not in self.users:
            self.users[key] = _UserDraft(display_name(name), source, registered)

    def _reject(self, reason: str, relpath: str, number: int | None, line: str, why: str) -> None:
        source = f"{_SOURCE}{relpath}:{number}" if number is not None else _SOURCE + relpath
        payload = {"relpath": relpath, "line": number, "raw": line, "why": why}
        self.quarantine.append(LegacyQuarantine(reason, source, payload))

    # R4

    def _read_registrations(self, relpaths: list[str]) -> list[tuple[str, str, str, int]]:
        """R4 pass 1: each registrant creates its user; returns the (key, inviter, relpath, line)s for pass 3."""
        invitations = []
        for relpath in relpaths:
            lines = self._read_lines(relpath)
            if lines is None:
                continue
            for number, line in enumerate(lines, start=1):
                if _is_blank(line) or (number == 1 and line.startswith(_REGISTRATION_HEADER)):
                    continue
                parsed = parse_registration_line(line, timestamps=self.timestamps)
                if parsed is None:
                    account = archive_format.parse_account_line(line)
                    if account is not None:
                        self._account_event(account, relpath, number, line)
                        continue
                    why = "not '<timestamp> - <name> joined directly' or '… joined on invitation from <name>'"
                    self._reject("bad_registration_line", relpath, number, line, why)
                    continue
                _, name, inviter = parsed
                key = self.keys[name]
                if key in PLACEHOLDER_KEYS:
                    self._reject("bad_registration_line", relpath, number, line, "the registrant is a placeholder")
                    continue
                self._mention(key, name, f"{relpath}:{number}", registered=True)
                if inviter is not None:
                    invitations.append((key, inviter, relpath, number))
        return invitations

    def _account_event(self, account: AccountEvent, relpath: str, number: int, line: str) -> None:
        """A Cairn account event is kept for the importer to apply; an unknown one is quarantined."""
        if account.event in ACCOUNT_EVENTS:
            self.account_events.append(account)
        else:
            payload = {"relpath": relpath, "line": number, "raw": line}
            self.quarantine.append(LegacyQuarantine("unknown_account_event", f"{_SOURCE}{relpath}:{number}", payload))

    def _link_inviters(self, invitations: list[tuple[str, str, str, int]]) -> None:
        """R4 pass 3: the first line naming a real inviter sets invited_by; unknown inviters are created."""
        for key, inviter, relpath, number in invitations:
            inviter_key = self.keys[inviter]
            if inviter_key in PLACEHOLDER_KEYS or inviter_key == key:
                continue
            self._mention(inviter_key, inviter, f"{relpath}:{number}", registered=False)
            user = self.users[key]
            if user.invited_by_key is None:
                user.invited_by_key = inviter_key

    # R5–R10

    def _read_prayer_files(self, relpaths: list[str]) -> list[_PrayerDraft]:
        """Parse prayer files in file order, creating unregistered users (R10) and grouping files (R7)."""
        drafts: list[_PrayerDraft] = []
        by_id: dict[str, _PrayerDraft] = {}
        for relpath in relpaths:
            lines = self._read_lines(relpath)
            if lines is None:
                continue
            cairn = archive_format.is_cairn_prayer_file(lines)
            if cairn:
                parsed, author_id = _parse_cairn_prayer_file(lines)
            else:
                parsed, author_id = _parse_prayer_file(lines, self.timestamps), None
            if not isinstance(parsed, ParsedPrayerFile):
                number, why = parsed
                raw = lines[number - 1] if number is not None and number <= len(lines) else ""
                self._reject("unparsed_prayer_file", relpath, number, raw, why)
                continue
            if cairn:  # its author is the Author-Id, never a name
                author_key = None
            else:
                author_key = self.keys[parsed.author]
                if author_key in PLACEHOLDER_KEYS:
                    author_key = None
                else:
                    self._mention(author_key, parsed.author, f"{relpath}:1", registered=False)
            tally = self._tally_activity(relpath, parsed)
            if parsed.archive_id == _TEMP_ID:
                draft = self._temp_draft(relpath, parsed, lines[0])
                drafts.append(draft)
            else:
                draft = by_id.get(parsed.archive_id)
                if draft is None:
                    draft = by_id[parsed.archive_id] = _PrayerDraft(parsed.archive_id, False, parsed, lines[0])
                    drafts.append(draft)
            draft.add_file(relpath, author_key, author_id, tally)
        return drafts

    def _temp_draft(self, relpath: str, parsed: ParsedPrayerFile, header_line: str) -> _PrayerDraft:
        """R7: each `Prayer temp by …` file is a prayer of its own, with a deterministic id and a Quarantine."""
        archive_id = temp_archive_id(relpath)
        payload = {"relpath": relpath, "line": 1, "raw": header_line, "archive_id": archive_id}
        self.quarantine.append(LegacyQuarantine("temp_prayer", f"{_SOURCE}{relpath}:1", payload))
        return _PrayerDraft(archive_id, True, parsed, header_line)

    def _meaning(self, rest: str, relpath: str, number: int) -> tuple:
        """What an activity rest means (R6), worked out at its first occurrence in file order.

        Returns ((kind, actor key or None, text), _PHRASE_EVENT or _SET_EVENT) for an event, and
        (None, _UNKNOWN_LINE or _IGNORED_LINE) otherwise. An event's actor is a user mention (R10): at this
        first occurrence a missing user is created, so later lines with the same rest need no check.
        """
        kind, form, actor, text = _classify_rest(rest)
        if kind == UNKNOWN:
            return None, _UNKNOWN_LINE
        if kind == IGNORED:
            return None, _IGNORED_LINE
        actor_key = self.keys[actor]
        if actor_key in PLACEHOLDER_KEYS:
            actor_key = None
        else:
            self._mention(actor_key, actor, f"{relpath}:{number}", registered=False)
        return (kind, actor_key, text), _SET_EVENT if form == SET_FORM else _PHRASE_EVENT

    def _cairn_event(self, line: str) -> tuple | None:
        """(what, at) of a Cairn event line: what = (kind, (_CAIRN_ID, actor id), text), at aware UTC; else None.

        `archive_format.parse_event_line`, with each distinct JSON tail read only once.
        """
        split = archive_format.split_event_line(line)
        if split is None:
            return None
        at, _, data = split
        what = self.cairn_events.get(data, False)
        if what is False:
            fields = archive_format.event_fields(data)
            what = self.cairn_events[data] = None if fields is None else (fields[0], (_CAIRN_ID, fields[1]), fields[2])
        return None if what is None else (what, at)

    def _tally_activity(self, relpath: str, parsed: ParsedPrayerFile) -> _FileTally:
        """Classify a file's activity lines (R6) and count them per R8 key, skipping blank lines (R5).

        This loop runs once per activity line of the archive: each distinct rest is classified only once
        (`_meaning`), and the timestamp's day and clock come from the cache. A line without a ThyWill
        timestamp may be a Cairn event (never both: a Cairn line starts with a digit, a ThyWill one with a
        month name), which counts like a phrase line.
        """
        tally = _FileTally()
        counts, sets, unknown, places = tally.counts, tally.sets, tally.unknown, tally.places
        split, meaning_of = self.timestamps.split, self.meanings.get
        for number, line in enumerate(parsed.activity, start=parsed.activity_line):
            stamped = split(line)
            if stamped is None:
                if line and not line.isspace():
                    key = self._cairn_event(line)
                    if key is None:
                        unknown.setdefault((None, line), []).append((number, line))
                    else:
                        counts[key] = counts.get(key, 0) + 1
                        if key[0][1][1] is None:
                            places.setdefault(key, ([], []))[_PHRASE_EVENT].append((number, line))
                continue
            at, rest = stamped
            meaning = meaning_of(rest)
            if meaning is None:
                meaning = self.meanings[rest] = self._meaning(rest, relpath, number)
            what, form = meaning
            if form == _PHRASE_EVENT:
                key = (what, at)
                counts[key] = counts.get(key, 0) + 1
            elif form == _SET_EVENT:
                key = (what, at)
                if key not in counts:
                    counts[key] = 0
                sets[key] = sets.get(key, 0) + 1
            else:
                if form == _UNKNOWN_LINE:
                    unknown.setdefault((at, rest), []).append((number, line))
                continue
            if what[1] is None:
                places.setdefault(key, ([], []))[form].append((number, line))
        return tally

    def _finish_prayer(self, draft: _PrayerDraft) -> LegacyPrayer:
        """The prayer (R9) with its events in "latest" order, and its R12 records."""
        submitted_at, request, generated_prayer, header_line = draft.primary
        instant = self.instant
        if submitted_at.tzinfo is None:
            submitted_at = submitted_at - _NAIVE_EPOCH + _UTC_EPOCH if instant is None else instant(submitted_at)
        if draft.author_key is None and draft.author_id is None:
            primary = draft.files[0]
            payload = {"relpath": primary, "line": 1, "raw": header_line, "archive_id": draft.archive_id}
            self.quarantine.append(LegacyQuarantine("placeholder_author", f"{_SOURCE}{primary}:1", payload))
        events: list[LegacyEvent] = []
        placeholders = []  # (instant, key, the time as its records name it)
        for key, count in draft.counts.items():  # in order of first appearance
            (kind, actor, text), at = key
            if actor.__class__ is tuple:  # a Cairn event: (_CAIRN_ID, external id or None), at aware UTC
                event = _new_event(kind, None, at, text, actor[1])
                if actor[1] is None:
                    placeholders.append((at, key, archive_format.format_time(at)))
            else:
                at = at - _NAIVE_EPOCH + _UTC_EPOCH if instant is None else instant(at)
                event = _new_event(kind, actor, at, text)
                if actor is None:
                    placeholders.append((at, key, key[1].isoformat(timespec="minutes")))
            if count == 1:
                events.append(event)
            else:
                events.extend([event] * count)
        # R9 "latest": by instant, then first appearance (the events are in that order and the sort is stable).
        events.sort(key=_at_of_event)
        placeholders.sort(key=_first)
        for _, key, at in placeholders:
            (kind, _, text), _ = key
            fields = {"kind": kind, "at": at, "text": text}
            self._quarantine_occurrences("placeholder_actor", draft.archive_id, draft.places[key], **fields)
        for places in draft.unknown.values():
            self._quarantine_occurrences("unknown_activity", draft.archive_id, places)
        return LegacyPrayer(
            archive_id=draft.archive_id,
            temp=draft.temp,
            files=tuple(draft.files),
            author_key=draft.author_key,
            submitted_at=submitted_at,
            request=request,
            generated_prayer=generated_prayer,
            events=tuple(events),
            author_id=draft.author_id,
        )

    def _quarantine_occurrences(
        self, reason: str, archive_id: str, places: list[tuple[str, int, str]], **fields: str
    ) -> None:
        """One record per combined occurrence (R8), each naming the line it was found on.

        Occurrence i points at the i-th such line of the first file (in file order) that has at least i of
        them. The payload never holds the total count, so the records of an archive that later grows keep
        their identity.
        """
        for occurrence, (relpath, number, line) in enumerate(places, start=1):
            payload = {"relpath": relpath, "line": number, "raw": line, "archive_id": archive_id, **fields}
            payload["occurrence"] = occurrence
            self.quarantine.append(LegacyQuarantine(reason, f"{_SOURCE}{relpath}:{number}", payload))


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a read, then restore its state.

    A read allocates millions of small objects that all stay alive and form no reference cycles, so every
    collection is wasted work, and full collections walk everything read so far: on 100k prayers they cost
    a third of the run time. Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_thywill_archive(path: str | os.PathLike, *, tz: tzinfo = DEFAULT_TZ) -> LegacyArchive:
    """Read a ThyWill archive (a folder, or a .zip of one) or Cairn's archive root into the result of R1–R12.

    ThyWill's naive times are wall time in `tz` (R11: `naive.replace(tzinfo=tz)`, so fold=0, then UTC);
    every time in the result is aware UTC. Raises ValueError naming the path when it does not exist, or
    holds no archive root (R1).
    """
    with _cyclic_gc_paused():
        return _read_archive(Path(path), tz)


read_archive = read_thywill_archive


@contextmanager
def _opened_source(path: Path) -> Iterator["_FolderSource | _ZipSource"]:
    """The archive's files, from a folder or a ZIP (R1 root detection); ValueError naming the path if none."""
    if path.is_dir():
        yield _FolderSource(_find_folder_root(path))
        return
    if not path.exists():
        raise ValueError(f"{path}: no such folder or .zip file")
    if not path.is_file():
        raise ValueError(f"{path}: neither a folder nor a .zip file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path}: neither a folder nor a readable .zip file ({error})") from None
    with archive:
        yield _ZipSource(archive, path)


def _read_archive(path: Path, tz: tzinfo) -> LegacyArchive:
    with _opened_source(path) as source:
        return _ArchiveReader(source, tz).read()


def archive_files(path: str | os.PathLike) -> Iterator[tuple[str, bytes]]:
    """(relative path, bytes) of every file R1 selects, in file order; unreadable ones are left out.

    For copying an imported archive into Cairn's archive root, byte for byte.
    """
    with _opened_source(Path(path)) as source:
        keys, _ = source.scan()
        for key in sorted(keys):
            relpath = key[-1]
            try:
                yield relpath, source.read(relpath)
            except _Unreadable:
                continue
