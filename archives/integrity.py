"""Defect checks and fixes for prayers, run by `manage.py doctor` and `manage.py heal`."""

import os
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, Subquery, TextField, Value, When
from django.db.models.functions import Coalesce

from accounts.models import User
from archives import thywill
from archives.archive_format import render_event_line, render_prayer_file
from archives.models import Activity, Prayer
from archives.services import derive_state
from integrity import merge
from integrity import services as integrity_services
from integrity.registry import SAMPLE_SIZE, Change, Finding, Plan, WriteFile, attacher, check
from lib import archive_files
from lib.batching import batched

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
    hint="Run `manage.py heal --only archives.missing_archive_file` to rewrite them from the database "
    "(or restore them from a backup first: a backup keeps lines the database never had).",
)
def missing_archive_files() -> Finding:
    """Prayers whose archive_path is empty, outside the archive root, or names a file that does not exist."""
    missing = [pk for pk, path in _prayer_paths() if _path_state(path) != "present"]
    return Finding(count=len(missing), sample=missing[:SAMPLE_SIZE])


@missing_archive_files.fix
def repair_archive_paths() -> Plan:
    """Re-point each bad path to the file that carries the prayer's id; if no file does, rewrite the file
    in place at its stored path from the database (never a second file)."""
    plan = Plan()
    states = {pk: _path_state(path) for pk, path in _prayer_paths()}
    bad = [pk for pk, state in states.items() if state != "present"]
    if not bad:
        return plan
    files_by_id = {prayer.archive_id: prayer.files[0] for prayer in (_read_root() or _EMPTY).prayers}
    rewrite = []
    for pk, archive_id, path in Prayer.objects.filter(pk__in=bad).values_list("pk", "archive_id", "archive_path"):
        if archive_id in files_by_id:
            change = Change(
                model=Prayer, pk=pk, before={"archive_path": path}, after={"archive_path": files_by_id[archive_id]}
            )
            plan.changes.append(change)
        elif states[pk] == "missing":
            rewrite.append(pk)
        else:
            plan.skipped.append(f"archives.prayer {pk}: its stored path is {states[pk]} and no archive file has its id")
    for chunk in batched(rewrite, 500):
        prayers = Prayer.objects.filter(pk__in=chunk).select_related("author").order_by("pk")
        events = Activity.objects.filter(prayer__in=chunk).select_related("actor").order_by("prayer", "at", "pk")
        by_prayer = {}
        for event in events:
            by_prayer.setdefault(event.prayer_id, []).append(event)
        for prayer in prayers:
            content = _render(prayer, by_prayer.get(prayer.pk, []))
            plan.changes.append(WriteFile(name=prayer.archive_path, content=content))
    return plan


def _render(prayer: Prayer, events: list[Activity]) -> str:
    author = prayer.author
    content = render_prayer_file(
        archive_id=prayer.archive_id,
        author_name=author.username if author else "",
        author_id=author.external_id if author else None,
        submitted_at=prayer.submitted_at,
        request=prayer.request,
        generated_prayer=prayer.generated_prayer,
    )
    for event in events:
        actor = event.actor
        content += render_event_line(
            at=event.at,
            kind=event.kind,
            actor_name=actor.username if actor else None,
            actor_id=actor.external_id if actor else None,
            text=event.text,
        )
    return content


def _prayer_paths():
    return Prayer.objects.order_by("pk").values_list("pk", "archive_path").iterator(chunk_size=CHUNK)


def _path_state(path: str) -> str:
    if not path:
        return "empty"
    if os.path.isabs(path):
        return "outside the archive root"
    try:
        return "present" if archive_files.exists(path) else "missing"
    except archive_files.ArchiveWriteError:
        return "outside the archive root"


def _read_root():
    """The archive root as the one reader sees it; None when there is no archive yet."""
    root = settings.CAIRN_ARCHIVE_ROOT
    if not any((Path(root) / folder).is_dir() for folder in ("prayers", "users")):
        return None
    return thywill.read_thywill_archive(root)


_EMPTY = thywill.LegacyArchive(users={}, prayers=[], quarantine=[], files_read=0, lines_read=0)


@check(
    "archives.unlinked_person",
    hint="Run `manage.py heal --only archives.unlinked_person` to re-link them by the archive's ids.",
)
def unlinked_people() -> Finding:
    """Prayers without an author, or events without an actor, whom the archive names by a stable id."""
    plan = relink_people()
    pks = sorted({change.pk for change in plan.changes if change.model is Prayer})
    events = [change.pk for change in plan.changes if change.model is Activity]
    return Finding(count=len(pks) + len(events), sample=(pks + events)[:SAMPLE_SIZE])


@unlinked_people.fix
def relink_people() -> Plan:
    """Set a null author/actor to the user the archive names: by external id (Cairn) or by key (ThyWill)."""
    plan = Plan()
    if (
        not Prayer.objects.filter(author__isnull=True).exists()
        and not Activity.objects.filter(actor__isnull=True).exists()
    ):
        return plan
    archive = _read_root() or _EMPTY
    by_ext = dict(User.objects.values_list("external_id", "pk"))
    by_key = dict(User.objects.values_list("username_key", "pk"))

    def person(external_id, key):
        return by_ext.get(external_id) if external_id else by_key.get(key)

    authors = {p.archive_id: person(p.author_id, p.author_key) for p in archive.prayers}
    for pk, archive_id in Prayer.objects.filter(author__isnull=True).values_list("pk", "archive_id"):
        if authors.get(archive_id):
            plan.changes.append(
                Change(model=Prayer, pk=pk, before={"author_id": None}, after={"author_id": authors[archive_id]})
            )
    actors = Counter()
    named = {}
    for prayer in archive.prayers:
        for event in prayer.events:
            user = person(event.actor_id, event.actor_key)
            if user:
                key = (prayer.archive_id, event.kind, event.at, event.text)
                actors[key] += 1
                named.setdefault(key, []).append(user)
    linked = Counter(
        Activity.objects.filter(actor__isnull=False).values_list("prayer__archive_id", "kind", "at", "text")
    )
    for pk, *key in Activity.objects.filter(actor__isnull=True).values_list(
        "pk", "prayer__archive_id", "kind", "at", "text"
    ):
        key = tuple(key)
        if actors[key] > linked[key]:
            user = named[key][linked[key]]
            linked[key] += 1
            plan.changes.append(Change(model=Activity, pk=pk, before={"actor_id": None}, after={"actor_id": user}))
    return plan


def _disagreements() -> list:
    """archive_ids of prayers whose events differ between the archive and the database, or that only the
    archive has: three queries and one read of the archive, whatever the number of rows."""
    archive = _read_root()
    if archive is None:
        return []
    ext_by_key = dict(User.objects.values_list("username_key", "external_id"))
    in_archive = Counter()
    for prayer in archive.prayers:
        for event in prayer.events:
            actor = event.actor_id or ext_by_key.get(event.actor_key)
            in_archive[(prayer.archive_id, event.kind, event.at, event.text, actor)] += 1
    known = dict(Prayer.objects.values_list("archive_id", "pk"))
    in_db = Counter(
        Activity.objects.values_list("prayer__archive_id", "kind", "at", "text", "actor__external_id").iterator(
            chunk_size=CHUNK
        )
    )
    archived_ids = {prayer.archive_id for prayer in archive.prayers}
    differing = {key[0] for key in (in_archive - in_db) + (in_db - in_archive) if key[0] in archived_ids}
    unknown = archived_ids - known.keys()
    return sorted(differing | unknown)


@check(
    "archives.archive_disagrees",
    hint="The archive wins: run `manage.py import_archives $CAIRN_ARCHIVE_ROOT --execute` to bring the database "
    "up to it (events only the database has are listed here for review).",
)
def archive_disagreements() -> Finding:
    """Prayers whose events differ between the text archive and the database, or that only the archive has."""
    differing = _disagreements()
    return Finding(count=len(differing), sample=differing[:SAMPLE_SIZE])


# --- Attaching quarantined records (the admin's "Attach to a user") -----------------------------------------


@attacher("unregistered_user")
def attach_unregistered_user(*, record, user, acting_user=None):
    """A name the archive mentions but never registered is `user`: merge the user the import made for it into them.

    The merge moves that user's prayers and events to `user`, keeps the name as a tombstone (so a later import of
    the same archive links it to `user` too), is archived, and resolves the record in the same journal.
    """
    made = User.objects.filter(username_key=record.payload["username_key"]).first()
    if made is None:
        raise ValidationError(f"No user holds the name {record.payload['username']!r}: nothing to attach.")
    if made.merged_into_id is not None:
        raise ValidationError(f"{made} was already merged into user #{made.merged_into_id}.")
    if made == user:
        raise ValidationError(f"{user} is the user the import made for this name: choose the person it really is.")
    plan = merge.plan_merge(survivor=user, losers=[made])
    if not plan.ok:
        raise ValidationError(" ".join(plan.refusals))
    return merge.execute_merge(
        plan=plan,
        acting_user=acting_user,
        description=f"quarantine #{record.pk}: {record.payload['username']} is {user}",
        also=(integrity_services.resolution(record, acting_user),),
    )
