"""Defect checks and fixes for prayers, run by `manage.py doctor` and `manage.py heal`."""

import os

from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, Subquery, TextField, Value, When
from django.db.models.functions import Coalesce

from archives.models import Activity, Prayer
from archives.services import derive_state
from integrity.registry import SAMPLE_SIZE, Change, Finding, Plan, check
from lib import archive_files

Kind = Activity.Kind
DERIVED = ["is_answered", "is_archived", "testimony"]
CHUNK = 2000


def _with_derived_state(queryset):
    """Annotate what the events say the derived fields should be (thywill.md R9), in SQL."""
    events = Activity.objects.filter(prayer=OuterRef("pk")).order_by("-at", "-pk")
    latest_archive_kind = Subquery(events.filter(kind__in=[Kind.ARCHIVED, Kind.RESTORED]).values("kind")[:1])
    return queryset.alias(latest_archive_kind=latest_archive_kind).annotate(
        should_be_answered=Exists(events.filter(kind=Kind.ANSWERED)),
        should_be_archived=Case(
            When(Q(latest_archive_kind=Kind.ARCHIVED), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        should_testimony=Coalesce(
            Subquery(events.filter(kind=Kind.TESTIMONY).values("text")[:1]), Value(""), output_field=TextField()
        ),
    )


def _stale_state():
    return _with_derived_state(Prayer.objects.all()).filter(
        ~Q(is_answered=F("should_be_answered"))
        | ~Q(is_archived=F("should_be_archived"))
        | ~Q(testimony=F("should_testimony"))
    )


@check("archives.stale_prayer_state", hint="Run `manage.py heal --only archives.stale_prayer_state` to recompute.")
def stale_prayer_states() -> Finding:
    """Prayers whose answered/archived/testimony fields disagree with their events."""
    return Finding.from_queryset(_stale_state())


@stale_prayer_states.fix
def recompute_prayer_states() -> Plan:
    plan = Plan()
    stale = _stale_state().values("pk", *DERIVED)
    for row in stale.iterator(chunk_size=CHUNK):
        events = Activity.objects.filter(prayer_id=row["pk"]).order_by("at", "pk").values_list("kind", "text")
        after = derive_state(events)
        before = {field: row[field] for field in DERIVED}
        changed = {field: after[field] for field in DERIVED if before[field] != after[field]}
        plan.changes.append(Change(model=Prayer, pk=row["pk"], before={f: before[f] for f in changed}, after=changed))
    return plan


@check(
    "archives.missing_archive_file",
    hint="The text archive is the source of truth: restore the file from a backup, or rebuild it (planned).",
)
def missing_archive_files() -> Finding:
    """Prayers whose archive_path is empty, outside the archive root, or names a file that does not exist."""
    missing = []
    for pk, path in Prayer.objects.order_by("pk").values_list("pk", "archive_path").iterator(chunk_size=CHUNK):
        if not _is_safe_existing(path):
            missing.append(pk)
    return Finding(count=len(missing), sample=missing[:SAMPLE_SIZE])


def _is_safe_existing(path: str) -> bool:
    if not path or os.path.isabs(path):
        return False
    try:
        return archive_files.exists(path)
    except archive_files.ArchiveWriteError:  # outside the root
        return False
