"""Apply a read archive to the database: set-based, idempotent, in transactions (thywill.md R13).

`archives.thywill.read_thywill_archive` turns files into the result the rules define (pure, no I/O
beyond reading). This module links that result to Cairn's tables by natural keys: users by
username_key, prayers by archive_id, activities by the R8 multiset (only missing counts are created,
nothing is ever deleted), quarantine records by fingerprint. A second import of the same input
therefore creates, changes and deletes nothing. Without `execute` it only counts what it would do.
"""

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.identity import KEY_VERSION
from accounts.models import User
from archives import thywill
from archives.models import Activity, Prayer
from archives.services import derive_state, refresh_state
from archives.thywill import LegacyArchive, LegacyPrayer, LegacyQuarantine
from integrity.models import Quarantine, RepairJournal
from integrity.services import fingerprint
from lib import archive_files
from lib.batching import batched

IMPORTED_USER_NAMESPACE = uuid.UUID("3b8f2c1e-6a4d-5e7f-9c0b-1d2e3f4a5b6c")
CHUNK = 500


@dataclass
class ImportReport:
    users_created: int = 0
    users_linked: int = 0
    inviters_set: int = 0
    prayers_created: int = 0
    prayers_existing: int = 0
    activities_created: int = 0
    quarantined: Counter = field(default_factory=Counter)

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.users_created
            or self.inviters_set
            or self.prayers_created
            or self.activities_created
            or sum(self.quarantined.values())
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
        }


def copy_into_archive_root(path, archive: LegacyArchive) -> dict[str, str]:
    """Copy the archive's files byte for byte into CAIRN_ARCHIVE_ROOT, keeping their relative paths.

    Returns source relative path → relative path under the root. A prayer file whose name is taken by
    another file gets the next `_N` name (never an overwrite). A registration file whose name is taken by
    different content is not copied and is quarantined (`archive_conflict`); its data is still imported.
    """
    placed = {}
    for relpath, data in thywill.archive_files(path):
        is_prayer_file = relpath.startswith("prayers/")
        final = archive_files.place(relpath, data, numbered=is_prayer_file)
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


def imported_external_id(key: str) -> str:
    """A stable external id for a user known only by name in a legacy archive."""
    return f"thywill:{uuid.uuid5(IMPORTED_USER_NAMESPACE, key).hex}"


def to_instant(moment: datetime, tz: ZoneInfo) -> datetime:
    """An aware UTC instant. A naive ThyWill time is wall time in `tz` (R11: fold=0 for gaps and
    overlaps, zero seconds); an aware one (Cairn's own lines) is already an instant."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(second=0, microsecond=0, tzinfo=tz).astimezone(UTC)


def import_archive(
    *,
    archive: LegacyArchive,
    tz: ZoneInfo,
    execute: bool,
    archive_paths: dict[str, str] | None = None,
    batch_size: int = 1000,
    on_prayers: Callable[[int], None] | None = None,
    description: str = "",
) -> ImportReport:
    """Import `archive`; `archive_paths` maps a prayer's primary file to where it lives under the root."""
    report = ImportReport()
    user_ids = _import_users(archive, execute, report)
    for batch in batched(archive.prayers, batch_size):
        with transaction.atomic():
            _import_prayers(batch, user_ids, tz, execute, archive_paths or {}, report)
        if on_prayers:
            on_prayers(len(batch))
    with transaction.atomic():
        _import_quarantine(archive.quarantine, execute, report)
    if execute and report.changed_anything:
        RepairJournal.objects.create(
            kind="import",
            description=description,
            status=RepairJournal.Status.APPLIED,
            summary=report.as_dict(),
            finished_at=timezone.now(),
        )
    return report


def _ids_by_key(keys) -> dict[str, int]:
    ids = {}
    for chunk in batched(keys, CHUNK):
        ids.update(User.objects.filter(username_key__in=chunk).values_list("username_key", "pk"))
    return ids


@transaction.atomic
def _import_users(archive: LegacyArchive, execute: bool, report: ImportReport) -> dict[str, object]:
    """R4/R10: one user per key; existing users are linked, never renamed. Returns key → user id."""
    existing = _ids_by_key(archive.users)
    missing = [user for key, user in archive.users.items() if key not in existing]
    report.users_linked = len(existing)
    report.users_created = len(missing)
    unregistered = [user for user in missing if not user.registered]
    report.quarantined["unregistered_user"] += len(unregistered)
    if not execute:
        # Stand-in ids: events of users who do not exist yet can never match an existing row.
        return {**existing, **{user.key: ("new", user.key) for user in missing}}

    User.objects.bulk_create(
        [_new_user(key=user.key, username=user.username) for user in missing],
        batch_size=CHUNK,
        ignore_conflicts=True,  # a concurrent import may have created some; the unique key decides
    )
    ids = _ids_by_key(archive.users)
    _record_quarantine(
        [
            LegacyQuarantine(
                reason="unregistered_user",
                source=f"thywill:{user.source}",
                payload={"username_key": user.key, "username": user.username, "first_mention": user.source},
            )
            for user in unregistered
        ]
    )
    report.inviters_set = _link_inviters(archive, ids)
    return ids


def _new_user(*, key: str, username: str) -> User:
    user = User(
        external_id=imported_external_id(key), username=username, username_key=key, username_key_version=KEY_VERSION
    )
    user.set_unusable_password()
    return user


def _link_inviters(archive: LegacyArchive, ids: dict[str, int]) -> int:
    """R4 pass 3: set invited_by where it is still null; an inviter already set is never replaced."""
    wanted = {ids[key]: ids[user.invited_by_key] for key, user in archive.users.items() if user.invited_by_key}
    still_null = []
    for chunk in batched(wanted, CHUNK):
        still_null += User.objects.filter(pk__in=chunk, invited_by__isnull=True).only("pk")
    for user in still_null:
        user.invited_by_id = wanted[user.pk]
    User.objects.bulk_update(still_null, ["invited_by"], batch_size=CHUNK)
    return len(still_null)


def _event_key(kind: str, actor_id, at: datetime, text: str) -> tuple:
    return (kind, actor_id, at, text)


def _import_prayers(batch, user_ids, tz, execute, archive_paths, report) -> None:
    by_archive_id = {prayer.archive_id: prayer for prayer in batch}
    existing = dict(Prayer.objects.filter(archive_id__in=by_archive_id).values_list("archive_id", "pk"))
    report.prayers_existing += len(existing)
    report.prayers_created += len(by_archive_id) - len(existing)

    have = Counter(
        _event_key(kind, actor_id, at, text) + (prayer_id,)
        for prayer_id, kind, actor_id, at, text in Activity.objects.filter(prayer_id__in=existing.values()).values_list(
            "prayer_id", "kind", "actor_id", "at", "text"
        )
    )
    new_prayers = [
        _new_prayer(legacy, user_ids, tz, archive_paths) for legacy in batch if legacy.archive_id not in existing
    ]
    if execute:
        Prayer.objects.bulk_create(new_prayers, batch_size=CHUNK)
    prayer_ids = {**existing, **{prayer.archive_id: prayer.pk for prayer in new_prayers}}

    activities, topped_up = [], []
    for legacy in batch:
        prayer_id = prayer_ids[legacy.archive_id]
        wanted = Counter()
        for event in legacy.events:
            key = _event_key(event.kind, user_ids.get(event.actor_key), to_instant(event.at, tz), event.text)
            wanted[key] += 1
            if wanted[key] > have[key + (prayer_id,)]:
                actor = key[1]
                activities.append(
                    Activity(
                        prayer_id=prayer_id,
                        actor_id=actor if isinstance(actor, int) else None,
                        kind=event.kind,
                        at=key[2],
                        text=event.text,
                    )
                )
                if legacy.archive_id in existing and prayer_id not in topped_up:
                    topped_up.append(prayer_id)
    report.activities_created += len(activities)
    if execute:
        Activity.objects.bulk_create(activities, batch_size=CHUNK)
        for prayer in Prayer.objects.filter(pk__in=topped_up):
            refresh_state(prayer)


def _new_prayer(legacy: LegacyPrayer, user_ids, tz, archive_paths) -> Prayer:
    author = user_ids.get(legacy.author_key) if legacy.author_key else None
    return Prayer(
        archive_id=legacy.archive_id,
        author_id=author if isinstance(author, int) else None,
        request=legacy.request,
        generated_prayer=legacy.generated_prayer,
        submitted_at=to_instant(legacy.submitted_at, tz),
        archive_path=archive_paths.get(legacy.files[0], legacy.files[0]),
        **derive_state((event.kind, event.text) for event in legacy.events),
    )


def _import_quarantine(records: list[LegacyQuarantine], execute: bool, report: ImportReport) -> None:
    missing = _missing_quarantine(records)
    report.quarantined.update(record.reason for record in missing)
    if execute:
        _record_quarantine(missing)


def _missing_quarantine(records: list[LegacyQuarantine]) -> list[LegacyQuarantine]:
    by_fingerprint = {fingerprint(source=r.source, reason=r.reason, payload=r.payload): r for r in records}
    known = set()
    for chunk in batched(by_fingerprint, CHUNK):
        known.update(Quarantine.objects.filter(fingerprint__in=chunk).values_list("fingerprint", flat=True))
    return [record for fp, record in by_fingerprint.items() if fp not in known]


def _record_quarantine(records: list[LegacyQuarantine]) -> None:
    Quarantine.objects.bulk_create(
        [
            Quarantine(
                source=r.source,
                reason=r.reason,
                payload=r.payload,
                fingerprint=fingerprint(source=r.source, reason=r.reason, payload=r.payload),
            )
            for r in records
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
