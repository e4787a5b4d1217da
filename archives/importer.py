"""Apply a read archive to the database: set-based, idempotent, in transactions (thywill.md R13).

`archives.thywill.read_thywill_archive` turns files into the result the rules define (pure, no I/O
beyond reading). This module links that result to Cairn's tables by natural keys: users by
username_key, prayers by archive_id, activities by the R8 multiset (only missing counts are created,
nothing is ever deleted), quarantine records by fingerprint. A second import of the same input
therefore creates, changes and deletes nothing. Without `execute` it only counts what it would do.

Each batch of prayers is one transaction (no half-imported prayer) with a bounded number of statements,
whatever the batch holds: which prayers exist (one SELECT), their activities and state when some do (one
SELECT, plus one UPDATE of the prayers whose state changed), the new prayers (one INSERT, then one SELECT
of their ids) and the new activities (one INSERT). The INSERTs bypass model instances: on PostgreSQL they
are COPYs, elsewhere one executemany each. The values are what the ORM would write: every column of the
model is filled, each time is converted once per distinct minute.
"""

import ctypes
import functools
import gc
import os
import sqlite3
import stat
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.identity import KEY_VERSION
from accounts.models import User
from archives import thywill
from archives.models import Activity, Prayer
from archives.services import derive_state
from archives.thywill import LegacyArchive, LegacyPrayer, LegacyQuarantine
from integrity import services as integrity
from integrity.models import Quarantine, RepairJournal
from integrity.registry import Change
from integrity.services import fingerprint
from lib import archive_files
from lib.batching import batched
from lib.caching import ComputedDict

LABEL = "import_archives"  # names the import's rows in the repair journal
IMPORTED_USER_NAMESPACE = uuid.UUID("3b8f2c1e-6a4d-5e7f-9c0b-1d2e3f4a5b6c")
CHUNK = 500
# Files copied into the archive root are made durable together: one sync per this many files (or bytes).
COPY_SYNC_FILES = 5000
COPY_SYNC_BYTES = 64 << 20
# SQLite while importing: page cache (KiB; memory is only used as pages are read) and WAL pages between
# automatic checkpoints (the default is 1000).
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
SQLITE_IMPORT_AUTOCHECKPOINT = 16384


@dataclass
class ImportReport:
    users_created: int = 0
    users_linked: int = 0
    inviters_set: int = 0
    prayers_created: int = 0
    prayers_existing: int = 0
    activities_created: int = 0
    quarantined: Counter = field(default_factory=Counter)
    account_events: dict = field(default_factory=dict)  # replayed by archives.rebuild, kind → count
    journal_id: int | None = None

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.users_created
            or self.inviters_set
            or self.prayers_created
            or self.activities_created
            or sum(self.quarantined.values())
            or self.account_events
        )

    def as_dict(self) -> dict:
        return {
            "users_created": self.users_created,
            "users_linked": self.users_linked,
            "inviters_set": self.inviters_set,
            "prayers_created": self.prayers_created,
            "prayers_existing": self.prayers_existing,
            "activities_created": self.activities_created,
            "quarantined": dict(sorted(self.quarantined.items())),
            "account_events": dict(sorted(self.account_events.items())),
        }


# --- Copying the files into the archive root ---------------------------------------------------------------


def copy_into_archive_root(path, archive: LegacyArchive, *, journal: RepairJournal | None = None) -> dict[str, str]:
    """Copy the archive's files byte for byte into CAIRN_ARCHIVE_ROOT, keeping their relative paths.

    Returns source relative path → relative path under the root. A prayer file whose name is taken by
    another file gets the next `_N` name (never an overwrite). A registration file whose name is taken by
    different content (Cairn's account events of that month) gets the registration lines it lacks appended
    (journaled); one that cannot take them is not copied and is quarantined (`archive_conflict`); its data
    is still imported.

    The rules are those of `lib.archive_files.place`: a file already there that starts with the same bytes is
    the same file (nothing is written); any other file is never overwritten. Only the common case, a name
    that is free, is done here in bulk: the new files are written to a private temporary folder under the
    root, made durable with one sync per few thousand files (place() syncs each file, which costs more than
    everything else together), then hard-linked to their names, which fails if a name was taken meanwhile.
    Every other case goes through `archive_files.place` itself. The copy reads each file once more (through
    `thywill.archive_files`, so that a ZIP works the same); on a folder that costs about the floor.

    With a `journal`, every file created is recorded in it (name and size) as soon as it has its name, so
    that `undo_repair` can remove it again.
    """
    placed = {}
    with _RootCopier(journal) as copier:
        for relpath, data in thywill.archive_files(path):
            is_prayer_file = relpath.startswith("prayers/")
            copier.place(relpath, data, numbered=is_prayer_file)
        results = copier.finish()
    for relpath, final in results:
        if final is None:
            archive.quarantine.append(
                LegacyQuarantine(
                    reason="archive_conflict",
                    source=f"thywill:{relpath}",
                    payload={"relpath": relpath, "why": "the archive root already has a different file there"},
                )
            )
        else:
            placed[relpath] = final
    return placed


class _RootCopier:
    """Places files under the archive root like `archive_files.place`, creating new ones in bulk."""

    def __init__(self, journal: RepairJournal | None = None):
        self.journal = journal
        self.created: dict[str, int] = {}  # final name → size, not journaled yet
        self.root = os.path.realpath(archive_files.archive_storage().location)
        self.results: list[tuple[str, str | None]] = []  # (relpath, final name or None), in input order
        self.pending: list[tuple[int, str, str, bool]] = []  # (result index, relpath, temp file, numbered)
        self.pending_bytes = 0
        self.folders: dict[str, bool] = {}  # relative folder → it is a real folder inside the root
        self.tmp: str | None = None
        self.count = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._cleanup()

    def place(self, relpath: str, data: bytes, *, numbered: bool) -> None:
        folder, _, _ = relpath.rpartition("/")
        if self._folder_ok(folder):
            target = f"{self.root}/{relpath}"
            try:
                info = os.lstat(target)
            except FileNotFoundError:
                self._stage(relpath, data, numbered)
                return
            if stat.S_ISREG(info.st_mode) and info.st_size >= len(data):
                existing = _read_regular(target)
                if existing is not None and existing.startswith(data):
                    self.results.append((relpath, relpath))  # the same file, maybe with lines appended since
                    return
        # Another file has the name, or the folder is odd: place() picks the next name, refuses or complains.
        final = self._place(relpath, data, numbered)
        if final is None and not numbered:
            final = self._add_missing_lines(relpath, data)
        self.results.append((relpath, final))

    def _add_missing_lines(self, relpath: str, data: bytes) -> str | None:
        """A registration file whose name another file holds (Cairn's account events of that month): append
        the lines it lacks, in their order, so the root keeps every registration (the reader reads mixed
        files). Journaled with the bytes appended, so undo can cut them off again. None when the
        file there is not a readable text file inside the root."""
        folder, _, _ = relpath.rpartition("/")
        existing = _read_regular(f"{self.root}/{relpath}") if self._folder_ok(folder) else None
        try:
            have, text = existing.decode("utf-8"), data.decode("utf-8")
        except (AttributeError, UnicodeDecodeError):
            return None
        present = set(have.splitlines())
        lines = text.splitlines()
        if lines and lines[0] in present:  # the month's header ("User Registrations for June 2025") is there
            lines = lines[1:]
        missing = [line for line in lines if line.strip() and line not in present]
        if not missing:
            return relpath
        block = ("" if have.endswith("\n") or not have else "\n") + "\n".join(missing) + "\n"
        with archive_files.recording_appends() as appended:  # the bytes written, wherever the file ended
            archive_files.append(relpath, block)
        integrity.record(integrity.appended_files(journal=self.journal, label=LABEL, appends=appended))
        return relpath

    def finish(self) -> list[tuple[str, str | None]]:
        self._flush()
        self._journal_created()
        return self.results

    def _place(self, relpath: str, data: bytes, numbered: bool) -> str | None:
        final, created = archive_files.place_reporting(relpath, data, numbered=numbered)
        if created:
            self.created[final] = len(data)
        return final

    def _journal_created(self) -> None:
        integrity.record(integrity.created_files(journal=self.journal, label=LABEL, files=self.created))
        self.created = {}

    def _folder_ok(self, folder: str) -> bool:
        """The folder exists (created if needed) and really is inside the root (no symlink out of it)."""
        ok = self.folders.get(folder)
        if ok is None:
            path = f"{self.root}/{folder}" if folder else self.root
            try:
                os.makedirs(path, exist_ok=True)
                real = os.path.realpath(path)
                ok = real == path and os.path.commonpath([self.root, real]) == self.root
            except OSError:
                ok = False
            self.folders[folder] = ok
        return ok

    def _stage(self, relpath: str, data: bytes, numbered: bool) -> None:
        if self.tmp is None:
            self.tmp = tempfile.mkdtemp(prefix=".tmp-import-", dir=self.root)
        staged = f"{self.tmp}/{self.count}"
        self.count += 1
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        self.results.append((relpath, None))
        self.pending.append((len(self.results) - 1, relpath, staged, numbered, len(data)))
        self.pending_bytes += len(data)
        if len(self.pending) >= COPY_SYNC_FILES or self.pending_bytes >= COPY_SYNC_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        _sync_filesystem(self.tmp)  # the staged files' bytes are on disk before any of them gets its name
        for index, relpath, staged, numbered, size in self.pending:
            try:
                os.link(staged, f"{self.root}/{relpath}")
                final = relpath
                self.created[final] = size
            except FileExistsError:  # created meanwhile by someone else
                with open(staged, "rb") as file:
                    final = self._place(relpath, file.read(), numbered)
            except OSError as error:
                raise archive_files.ArchiveWriteError(f"{relpath}: {error.strerror or error}") from error
            os.unlink(staged)
            self.results[index] = (relpath, final)
        self.pending.clear()
        self.pending_bytes = 0
        self._journal_created()

    def _cleanup(self) -> None:
        if self.tmp is not None:
            for *_, staged, _, _ in self.pending:
                with suppress(OSError):
                    os.unlink(staged)
            with suppress(OSError):
                os.rmdir(self.tmp)
            self.tmp = None


def _sync_filesystem(folder: str) -> None:
    """Write everything pending on `folder`'s file system to disk: syncfs(2) where there is one, else sync(2)."""
    syncfs = _libc_syncfs()
    if syncfs is None:
        os.sync()
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), folder)
    finally:
        os.close(descriptor)


@functools.cache
def _libc_syncfs():
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


def _read_regular(path: str) -> bytes | None:
    """The bytes of the regular file at `path`, or None (a symlink, not there any more, unreadable)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


# --- Identity and time --------------------------------------------------------------------------------------


def imported_external_id(key: str) -> str:
    """A stable external id for a user known only by name in a legacy archive."""
    return f"thywill:{uuid.uuid5(IMPORTED_USER_NAMESPACE, key).hex}"


def to_instant(moment: datetime, tz: ZoneInfo) -> datetime:
    """An aware UTC instant. A naive ThyWill time is wall time in `tz` (R11: fold=0 for gaps and
    overlaps, zero seconds); an aware one (Cairn's own lines) is already an instant."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(second=0, microsecond=0, tzinfo=tz).astimezone(UTC)


# --- The import ---------------------------------------------------------------------------------------------


def import_archive(
    *,
    archive: LegacyArchive,
    tz: ZoneInfo,
    execute: bool,
    archive_paths: dict[str, str] | None = None,
    batch_size: int = 1000,
    on_prayers: Callable[[int], None] | None = None,
    description: str = "",
    journal: RepairJournal | None = None,
    account_events: dict | None = None,
) -> ImportReport:
    """Import `archive`; `archive_paths` maps a prayer's primary file to where it lives under the root.

    With `execute`, every row created or changed is recorded in `journal` (a new one when None) in the
    transaction that wrote it, so `undo_repair` can take the import back; the journal is closed at the end
    (failed if the import stopped part-way; removed if nothing was new). `account_events` are the counts
    `archives.rebuild.apply_account_events` replayed, for the summary.
    """
    report = ImportReport(account_events=account_events or {})
    with (
        integrity.import_journal(report=report, execute=execute, description=description, journal=journal) as journal,
        _cyclic_gc_paused(),
        _bulk_settings(execute),
    ):
        user_ids = _import_users(archive, execute, report, journal)
        writer = _PrayerWriter(
            user_ids=user_ids, tz=tz, execute=execute, archive_paths=archive_paths or {}, journal=journal
        )
        for batch in batched(archive.prayers, batch_size):
            with transaction.atomic():
                writer.write(batch, report)
            if on_prayers:
                on_prayers(len(batch))
        with transaction.atomic():
            _import_quarantine(archive.quarantine, execute, report, journal)
    return report


@contextmanager
def _bulk_settings(execute: bool) -> Iterator[None]:
    """SQLite: a large page cache while importing, and fewer WAL checkpoints; restored afterwards.

    Inserting a million activities updates four indexes, one of them (actor) all over the place: with the
    default 2 MB cache, pages are written out and read back again and again, and each batch's commit
    checkpoints the WAL into the database.
    """
    if not execute or connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (cache_size,) = cursor.fetchone()
        cursor.execute("PRAGMA wal_autocheckpoint")
        (autocheckpoint,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_IMPORT_CACHE_KIB}")
        if 0 < autocheckpoint < SQLITE_IMPORT_AUTOCHECKPOINT:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_IMPORT_AUTOCHECKPOINT}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while importing, as the reader does while reading.

    The import builds millions of short-lived tuples while the whole read archive (millions of objects, no
    cycles) stays alive, so each full collection walks everything for nothing. Reference counting still
    frees every row as soon as its batch is written.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _ids_by_key(keys) -> dict[str, int]:
    """username_key → the id of the user who holds that name now: a merged user's survivor (integrity.merge)."""
    ids, holder = {}, Coalesce("merged_into_id", "pk")
    for chunk in batched(keys, CHUNK):
        ids.update(User.objects.filter(username_key__in=chunk).values_list("username_key", holder))
    return ids


@transaction.atomic
def _import_users(archive: LegacyArchive, execute: bool, report: ImportReport, journal) -> dict[str, object]:
    """R4/R10: one user per key; existing users are linked, never renamed. Returns key → user id."""
    existing = _ids_by_key(archive.users)
    missing = [user for key, user in archive.users.items() if key not in existing]
    report.users_linked = len(existing)
    report.users_created = len(missing)
    unregistered = [user for user in missing if not user.registered]
    report.quarantined["unregistered_user"] += len(unregistered)
    if not execute:
        report.inviters_set = _count_inviter_links(archive, existing)
        # Stand-in ids: events of users who do not exist yet can never match an existing row.
        return {**existing, **{user.key: ("new", user.key) for user in missing}}

    User.objects.bulk_create(
        [_new_user(key=user.key, username=user.username) for user in missing],
        batch_size=CHUNK,
        ignore_conflicts=True,  # a concurrent import may have created some; the unique key decides
    )
    ids = _ids_by_key(archive.users)
    # A concurrent import may have created some of them (ignore_conflicts): undoing this one removes them too,
    # unless anything uses them by then.
    integrity.record(
        integrity.created_rows(journal=journal, label=LABEL, model=User, pks=[ids[u.key] for u in missing])
    )
    _record_quarantine(
        journal,
        [
            LegacyQuarantine(
                reason="unregistered_user",
                source=f"thywill:{user.source}",
                payload={"username_key": user.key, "username": user.username, "first_mention": user.source},
            )
            for user in unregistered
        ],
    )
    report.inviters_set = _link_inviters(archive, ids, journal)
    return ids


def _new_user(*, key: str, username: str) -> User:
    user = User(
        external_id=imported_external_id(key), username=username, username_key=key, username_key_version=KEY_VERSION
    )
    user.set_unusable_password()
    return user


def _count_inviter_links(archive: LegacyArchive, existing: dict[str, int]) -> int:
    """What _link_inviters would set, for a dry run: new users with an inviter, existing ones still without."""
    with_inviter = [user for user in archive.users.values() if user.invited_by_key]
    existing_ids = [existing[user.key] for user in with_inviter if user.key in existing]
    still_null = 0
    for chunk in batched(existing_ids, CHUNK):
        still_null += User.objects.filter(pk__in=chunk, invited_by__isnull=True).count()
    return still_null + sum(1 for user in with_inviter if user.key not in existing)


def _link_inviters(archive: LegacyArchive, ids: dict[str, int], journal) -> int:
    """R4 pass 3: set invited_by where it is still null; an inviter already set is never replaced."""
    wanted = {ids[key]: ids[user.invited_by_key] for key, user in archive.users.items() if user.invited_by_key}
    # Two names of one person (merged) never make someone their own inviter.
    wanted = {user: inviter for user, inviter in wanted.items() if user != inviter}
    still_null = []
    for chunk in batched(wanted, CHUNK):
        still_null += User.objects.filter(pk__in=chunk, invited_by__isnull=True).only("pk")
    for user in still_null:
        user.invited_by_id = wanted[user.pk]
    User.objects.bulk_update(still_null, ["invited_by"], batch_size=CHUNK)
    links = integrity.updated_rows(
        journal=journal,
        label=LABEL,
        changes=[
            Change(model=User, pk=user.pk, before={"invited_by_id": None}, after={"invited_by_id": user.invited_by_id})
            for user in still_null
        ],
    )
    integrity.record(links)
    return len(still_null)


# Columns the import computes; every other column of the model gets its field's default (_Table).
_PRAYER_COLUMNS = (
    "archive_id",
    "author_id",
    "request",
    "generated_prayer",
    "submitted_at",
    "is_answered",
    "is_archived",
    "testimony",
    "archive_path",
)
_ACTIVITY_COLUMNS = ("prayer_id", "actor_id", "kind", "at", "text")
_STATE = ("is_answered", "is_archived", "testimony")
_ACTIVITY_KEY = itemgetter(0, 1, 2, 3, 4)  # of a row from _PrayerWriter._activities: the R8 key, with the prayer
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class _Backend:
    """What differs between PostgreSQL and SQLite: how rows go in, how lists and times come out."""

    def __init__(self):
        self.postgresql = connection.vendor == "postgresql"
        # PostgreSQL through psycopg 3: COPY for inserts, `= ANY(%s)` for lists, and times read back as
        # integers (Django's timestamptz loader parses each value in Python, 5 µs a row).
        self.copy = self.postgresql and _is_psycopg3()
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            getlimit = getattr(connection.connection, "getlimit", None)  # Python 3.11+
            self.max_list = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999
        else:
            self.max_list = connection.features.max_query_params or 30_000

    def time_adapter(self) -> Callable[[datetime], object]:
        """instant → the value the driver is given for a time column (COPY takes datetimes as they are)."""
        if self.copy:
            return lambda instant: instant
        adapt = connection.ops.adapt_datetimefield_value  # bound to the connection, not to the proxy
        if connection.vendor == "sqlite" and settings.USE_TZ:
            # What that adapter does to an aware datetime (make_naive in the connection's zone, then str()),
            # without its checks: a third of the time, and this runs once per distinct minute.
            zone = connection.timezone
            sample = datetime(2025, 6, 5, 9, 7, tzinfo=UTC)
            if str(sample.astimezone(zone).replace(tzinfo=None)) == adapt(sample):
                return lambda instant: str(instant.astimezone(zone).replace(tzinfo=None))
        return adapt

    def time_key(self, instant: datetime):
        """`instant` (aware UTC) as the driver returns a time column selected with `time_sql`."""
        if self.postgresql:
            return (instant - _EPOCH) // _MICROSECOND
        return instant.replace(tzinfo=None)  # SQLite: Django stores naive UTC, its converter parses it

    def time_sql(self, column: str) -> str:
        quoted = connection.ops.quote_name(column)
        return f"(EXTRACT(EPOCH FROM {quoted}) * 1000000)::bigint" if self.postgresql else quoted

    def where_in(self, column: str, values: list) -> Iterator[tuple[str, list]]:
        """(SQL condition, params) pairs that together select the rows whose `column` is in `values`."""
        quoted = connection.ops.quote_name(column)
        if self.postgresql:
            yield f"{quoted} = ANY(%s)", [list(values)]
            return
        for start in range(0, len(values), self.max_list):
            chunk = list(values[start : start + self.max_list])
            yield f"{quoted} IN ({', '.join(['%s'] * len(chunk))})", chunk


def _is_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


class _PrayerWriter:
    """Writes batches of prayers with their activities; the per-import caches live here."""

    def __init__(
        self, *, user_ids: dict[str, object], tz: ZoneInfo, execute: bool, archive_paths: dict[str, str], journal
    ):
        self.execute = execute
        self.journal = journal
        self.journal_rows = []  # saved at the end of each batch, in its transaction
        self.archive_paths = archive_paths
        self.backend = _Backend()
        # key → id; in a dry run a user who does not exist yet has a stand-in id that never matches a row.
        self.user_ids = user_ids
        self.actor_ids = {key: (value if isinstance(value, int) else None) for key, value in user_ids.items()}
        self.actor_ids[None] = None
        # Archive time → aware UTC instant, → the value written, → the value read back: each computed once per
        # distinct time (many events share a minute; zone conversion and adapters cost more than a lookup).
        self.instants = instants = ComputedDict(functools.partial(to_instant, tz=tz))
        adapt, time_key = self.backend.time_adapter(), self.backend.time_key
        self.db_times = ComputedDict(lambda moment: adapt(instants[moment]))
        self.time_keys = ComputedDict(lambda moment: time_key(instants[moment]))
        self.prayers = _Table(Prayer, _PRAYER_COLUMNS)
        self.activities = _Table(Activity, _ACTIVITY_COLUMNS)

    def write(self, batch: tuple[LegacyPrayer, ...], report: ImportReport) -> None:
        existing = self._prayer_ids([legacy.archive_id for legacy in batch])
        new = [legacy for legacy in batch if legacy.archive_id not in existing]
        old = [legacy for legacy in batch if legacy.archive_id in existing]
        report.prayers_existing += len(old)
        report.prayers_created += len(new)
        if new:
            self._create(new, report)
        if old:
            self._top_up(old, existing, report)
        integrity.record(self.journal_rows)
        self.journal_rows = []

    def _create(self, new: list[LegacyPrayer], report: ImportReport) -> None:
        """Brand-new prayers: every event becomes a row (no activity can exist for a prayer that did not)."""
        report.activities_created += sum(len(legacy.events) for legacy in new)
        if not self.execute:
            return
        db_times, actor_ids, paths = self.db_times, self.actor_ids, self.archive_paths
        rows = []
        for legacy in new:
            state = derive_state((event.kind, event.text) for event in legacy.events)
            rows.append(
                (
                    legacy.archive_id,
                    actor_ids.get(legacy.author_key),
                    legacy.request,
                    legacy.generated_prayer,
                    db_times[legacy.submitted_at],
                    state["is_answered"],
                    state["is_archived"],
                    state["testimony"],
                    paths.get(legacy.files[0], legacy.files[0]),
                )
            )
        self._insert(self.prayers, rows)
        ids = self._prayer_ids([row[0] for row in rows])
        self._journal_created(Prayer, ids.values())
        rows = []
        append = rows.append
        for legacy in new:
            prayer_id = ids[legacy.archive_id]
            for event in legacy.events:
                append((prayer_id, actor_ids[event.actor_key], event.kind, db_times[event.at], event.text))
        self._insert(self.activities, rows)
        # Nobody else can have added events to prayers this transaction has not committed yet.
        self._journal_created(Activity, (row[0] for row in self._select_pks(Activity, "prayer_id", list(ids.values()))))

    def _journal_created(self, model, pks) -> None:
        self.journal_rows += integrity.created_rows(journal=self.journal, label=LABEL, model=model, pks=pks)

    def _top_up(self, old: list[LegacyPrayer], existing: dict[str, int], report: ImportReport) -> None:
        """Prayers already here: create only the missing count of each R8 key, then refresh their state."""
        user_ids, time_keys = self.user_ids, self.time_keys
        prayer_ids = [existing[legacy.archive_id] for legacy in old]
        found = self._activities(prayer_ids)
        have = Counter(map(_ACTIVITY_KEY, found))
        # The whole batch at once first: usually nothing is missing (a re-import) and nothing more is done.
        wanted = Counter(
            [
                (prayer_id, event.kind, user_ids.get(event.actor_key), time_keys[event.at], event.text)
                for legacy, prayer_id in zip(old, prayer_ids, strict=True)
                for event in legacy.events
            ]
        )
        short = {key[0] for key, count in wanted.items() if count > have[key]}
        instants = self.instants
        rows, added = [], {}
        for legacy, prayer_id in zip(old, prayer_ids, strict=True):
            if prayer_id not in short:
                continue
            wanted = Counter()
            for event in legacy.events:  # in R9's order, so that pks follow it
                actor = user_ids.get(event.actor_key)
                key = (prayer_id, event.kind, actor, time_keys[event.at], event.text)
                wanted[key] += 1
                if wanted[key] > have[key]:
                    rows.append(
                        Activity(
                            prayer_id=prayer_id,
                            actor_id=actor if isinstance(actor, int) else None,
                            kind=event.kind,
                            at=instants[event.at],
                            text=event.text,
                        )
                    )
                    added.setdefault(prayer_id, []).append((key[3], event.kind, event.text))
        report.activities_created += len(rows)
        if not self.execute or not rows:
            return
        # Rare (events added to a prayer already here), so the ORM's INSERT … RETURNING: the journal needs the
        # new rows' pks, and a SELECT afterwards could also see events others added meanwhile.
        Activity.objects.bulk_create(rows, batch_size=CHUNK)
        self._journal_created(Activity, (row.pk for row in rows))
        rows_of = {}
        for prayer_id, kind, _, at, text, pk in found:
            if prayer_id in added:
                rows_of.setdefault(prayer_id, []).append((at, 0, pk, kind, text))
        self._refresh_states(added, rows_of)

    def _refresh_states(self, added: dict[int, list], rows_of: dict[int, list]) -> None:
        """refresh_state() of every prayer that got new rows, set-based: one SELECT, one UPDATE of the changed.

        A prayer's events in (at, pk) order are its existing rows and its new rows, which have higher pks: at
        the same time, the new ones come after every existing one, in the order they were inserted.
        """
        current = self._states(list(added))
        changed = []
        for prayer_id, new_rows in added.items():
            events = rows_of.get(prayer_id, []) + [
                (at, 1, i, kind, text) for i, (at, kind, text) in enumerate(new_rows)
            ]
            events.sort()
            state = derive_state((kind, text) for *_, kind, text in events)
            if tuple(state[name] for name in _STATE) != current[prayer_id]:
                changed.append(
                    Change(
                        model=Prayer,
                        pk=prayer_id,
                        before=dict(zip(_STATE, current[prayer_id], strict=True)),
                        after=state,
                    )
                )
        if changed:
            Prayer.objects.bulk_update(
                [Prayer(pk=change.pk, **change.after) for change in changed], list(_STATE), batch_size=len(changed)
            )
            self.journal_rows += integrity.updated_rows(journal=self.journal, label=LABEL, changes=changed)

    def _insert(self, table: "_Table", rows: list[tuple]) -> None:
        if not rows:
            return
        if self.backend.copy:
            table.copy(rows)
        else:
            table.insert(rows)

    def _select(self, columns: list[str], table: str, column: str, values: list) -> list[tuple]:
        """Rows of `columns` (SQL expressions) of `table` whose `column` is one of `values`."""
        quote, rows = connection.ops.quote_name, []
        with connection.cursor() as cursor:
            for condition, params in self.backend.where_in(column, values):
                cursor.execute(f"SELECT {', '.join(columns)} FROM {quote(table)} WHERE {condition}", params)
                rows += cursor.fetchall()
        return rows

    def _select_pks(self, model, column: str, values: list) -> list[tuple]:
        meta = model._meta
        return self._select([connection.ops.quote_name(meta.pk.column)], meta.db_table, column, values)

    def _prayer_ids(self, archive_ids: list[str]) -> dict[str, int]:
        quote, meta = connection.ops.quote_name, Prayer._meta
        return dict(
            self._select([quote("archive_id"), quote(meta.pk.column)], meta.db_table, "archive_id", archive_ids)
        )

    def _states(self, prayer_ids: list[int]) -> dict[int, tuple]:
        quote, meta = connection.ops.quote_name, Prayer._meta
        columns = [quote(meta.pk.column), *map(quote, _STATE)]
        return {pk: tuple(state) for pk, *state in self._select(columns, meta.db_table, meta.pk.column, prayer_ids)}

    def _activities(self, prayer_ids: list[int]) -> list[tuple]:
        """(prayer_id, kind, actor_id, time key, text, pk) of the prayers' activity rows."""
        quote, meta = connection.ops.quote_name, Activity._meta
        columns = [
            *map(quote, ("prayer_id", "kind", "actor_id")),
            self.backend.time_sql("at"),
            quote("text"),
            quote(meta.pk.column),
        ]
        return self._select(columns, meta.db_table, "prayer_id", prayer_ids)


class _Table:
    """Bulk INSERT of rows of `columns` into a model's table, with the values the ORM would write.

    The caller gives database values for `columns` (times already adapted). Every other column gets its
    field's default, as `Model()` would: a constant once, a callable or auto_now(_add) once per row.
    """

    def __init__(self, model: type[Model], columns: tuple[str, ...]):
        meta = model._meta
        known = {f.column for f in meta.concrete_fields}
        if not known.issuperset(columns):
            raise LookupError(f"{meta.label} has no column {', '.join(sorted(set(columns) - known))}")
        extra = [f for f in meta.concrete_fields if f.column not in columns and f is not meta.pk]
        self.constant = not any(callable(f.default) or getattr(f, "auto_now_add", False) for f in extra)
        self.extra = extra
        self.defaults = tuple(self._default(f) for f in extra) if self.constant else ()
        quote = connection.ops.quote_name
        names = ", ".join(quote(column) for column in (*columns, *(f.column for f in extra)))
        placeholders = ", ".join(["%s"] * (len(columns) + len(extra)))
        self.insert_sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"
        self.copy_sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"

    @staticmethod
    def _default(f):
        value = (
            timezone.now() if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False) else f.get_default()
        )
        return f.get_db_prep_save(value, connection)

    def _full(self, rows: list[tuple]) -> list[tuple]:
        if self.constant:
            defaults = self.defaults
            return [row + defaults for row in rows] if defaults else rows
        return [row + tuple(self._default(f) for f in self.extra) for row in rows]

    def insert(self, rows: list[tuple]) -> None:
        """One executemany."""
        with connection.cursor() as cursor:
            cursor.executemany(self.insert_sql, self._full(rows))

    def copy(self, rows: list[tuple]) -> None:
        """One COPY FROM STDIN (PostgreSQL, psycopg 3)."""
        with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(self.copy_sql) as copy:
            write_row = copy.write_row
            for row in self._full(rows):
                write_row(row)


def _import_quarantine(records: list[LegacyQuarantine], execute: bool, report: ImportReport, journal) -> None:
    missing = _missing_quarantine(records)
    report.quarantined.update(record.reason for record in missing)
    if execute:
        _record_quarantine(journal, missing)


def _missing_quarantine(records: list[LegacyQuarantine]) -> list[LegacyQuarantine]:
    by_fingerprint = {fingerprint(source=r.source, reason=r.reason, payload=r.payload): r for r in records}
    known = set()
    for chunk in batched(by_fingerprint, CHUNK):
        known.update(Quarantine.objects.filter(fingerprint__in=chunk).values_list("fingerprint", flat=True))
    return [record for fp, record in by_fingerprint.items() if fp not in known]


def _record_quarantine(journal, records: list[LegacyQuarantine]) -> None:
    rows = [
        Quarantine(
            source=r.source,
            reason=r.reason,
            payload=r.payload,
            fingerprint=fingerprint(source=r.source, reason=r.reason, payload=r.payload),
        )
        for r in records
    ]
    Quarantine.objects.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
    pks = []
    for chunk in batched([row.fingerprint for row in rows], CHUNK):
        pks += Quarantine.objects.filter(fingerprint__in=chunk).values_list("pk", flat=True)
    # A record staff reviewed since gets a resolved_at later than the import: undo then refuses.
    integrity.record(
        integrity.created_rows(journal=journal, label=LABEL, model=Quarantine, pks=pks, changed_by="resolved_at")
    )
