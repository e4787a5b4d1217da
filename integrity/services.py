"""Writes of the integrity app: applying repair plans, undoing them, quarantining records."""

import datetime
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone

from integrity.models import DoctorRun, Quarantine, RepairChange, RepairJournal
from integrity.registry import Change, Delete, Plan, WriteFile, get_attacher
from lib import archive_files
from lib.batching import batched


class _JournalEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but times keep their microseconds: undo compares them with the stored values."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def to_json(values):
    """Values as the journal stores them (dates, decimals and UUIDs as JSON strings)."""
    return json.loads(json.dumps(values, cls=_JournalEncoder))


def _from_json(model: type[models.Model], values: dict) -> dict:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return {name: fields[name].to_python(value) for name, value in values.items()}


def apply_plans(
    *,
    plans: dict[str, Plan],
    acting_user=None,
    description: str = "",
    batch_size: int = 500,
    on_batch=None,
    kind: str = "heal",
) -> RepairJournal:
    """Apply heal plans (check name → plan) in transactional batches, journaling every change.

    Each row change is a conditional UPDATE: a row that no longer holds the planned `before` values was
    changed by someone else since planning, so it is left alone and counted as skipped. A file is written
    only where none exists yet. A batch that fails rolls back alone; the journal then says `failed` and
    lists what the earlier batches did.
    """
    journal = RepairJournal.objects.create(kind=kind, description=description, actor=acting_user)
    summary = {name: {"changed": 0, "skipped": len(plan.skipped)} for name, plan in plans.items()}
    work = [(name, change) for name, plan in plans.items() for change in plan.changes]
    try:
        for batch in batched(work, batch_size):
            with transaction.atomic():
                applied = []
                for name, change in batch:
                    row = _apply(journal, name, change)
                    if row is not None:
                        applied.append(row)
                        summary[name]["changed"] += 1
                    else:
                        summary[name]["skipped"] += 1
                RepairChange.objects.bulk_create(applied)
            if on_batch:
                on_batch(len(batch))
    except Exception:
        _finish(journal, RepairJournal.Status.FAILED, summary)
        raise
    _finish(journal, RepairJournal.Status.APPLIED, summary)
    return journal


def _apply(journal: RepairJournal, check_name: str, change: Change | WriteFile | Delete) -> RepairChange | None:
    """Apply one change; its journal row, or None when it no longer applies."""
    if isinstance(change, Delete):
        return _delete_one(journal, check_name, change)
    if isinstance(change, WriteFile):
        try:
            archive_files.create_exactly(change.name, change.content.encode())
        except FileExistsError:
            return None  # someone put the file back meanwhile
        return RepairChange(
            journal=journal,
            check_name=check_name,
            model="archive_file",
            object_pk=change.name,
            action=RepairChange.Action.CREATE_FILE,
            before={},
            after={"sha256": hashlib.sha256(change.content.encode()).hexdigest()},
        )
    if change.model._base_manager.filter(pk=change.pk, **change.before).update(**change.after):
        return _journal_row(journal, check_name, change)
    return None


def _delete_one(journal: RepairJournal, check_name: str, change: Delete) -> RepairChange | None:
    """Delete a row that still holds `before` and that nothing uses; its full copy goes to the journal."""
    model = change.model
    columns = [f.attname for f in model._meta.concrete_fields]
    copy = model._base_manager.filter(pk=change.pk, **change.before).values(*columns).first()
    if copy is None:
        return None  # changed or gone since the plan
    try:
        with transaction.atomic():
            delete_alone(model._base_manager.filter(pk=change.pk), refused=check_name)
    except ValidationError:
        return None  # in use by another row since the plan: left alone
    return RepairChange(
        journal=journal,
        check_name=check_name,
        model=model._meta.label_lower,
        object_pk=str(change.pk),
        action=RepairChange.Action.DELETE_ROW,
        before=to_json(copy),
        after={},
    )


def _journal_row(journal: RepairJournal, check_name: str, change: Change) -> RepairChange:
    return RepairChange(
        journal=journal,
        check_name=check_name,
        model=change.model._meta.label_lower,
        object_pk=str(change.pk),
        before=to_json(change.before),
        after=to_json(change.after),
    )


def _finish(journal: RepairJournal, status: str, summary: dict) -> None:
    journal.status, journal.summary, journal.finished_at = status, summary, timezone.now()
    journal.save(update_fields=["status", "summary", "finished_at"])


# --- Journals written by imports ----------------------------------------------------------------------------

UNDOABLE_KINDS = ("heal", "import", "merge", "review")
CREATE_ROWS_CHUNK = 500  # pk ranges per DELETE when undoing


def start_journal(*, kind: str, description: str = "", acting_user=None) -> RepairJournal:
    """A running journal that an import fills batch by batch (`record_*`) and closes with `finish_journal`."""
    return RepairJournal.objects.create(kind=kind, description=description, actor=acting_user)


def finish_journal(*, journal: RepairJournal, summary: dict, failed: bool = False, changed: bool = True) -> None:
    """Close a journal; one that recorded nothing (an import with nothing new) is deleted instead."""
    if not failed and not changed and not journal.changes.exists():
        journal.delete()
        return
    _finish(journal, RepairJournal.Status.FAILED if failed else RepairJournal.Status.APPLIED, summary)


@contextmanager
def import_journal(
    *, report, execute: bool, description: str = "", journal: RepairJournal | None = None
) -> Iterator[RepairJournal | None]:
    """The journal an import fills inside the block (None on a dry run; `journal` if one was started already).

    On leaving, it is closed with `report.as_dict()`: failed if the block raised, removed if the report says
    nothing changed (`report.changed_anything`); `report.journal_id` is then its id, or None.
    """
    if execute and journal is None:
        journal = start_journal(kind="import", description=description)
    try:
        yield journal
    except BaseException:
        if journal is not None:
            finish_journal(journal=journal, summary=report.as_dict(), failed=True)
        raise
    if journal is not None:
        finish_journal(journal=journal, summary=report.as_dict(), changed=report.changed_anything)
        report.journal_id = journal.pk  # None once finish_journal removed an empty journal


def record(changes: list[RepairChange]) -> None:
    """Save journal rows built by `updated_rows`, `created_rows` and `created_files` (one INSERT)."""
    if changes:
        RepairChange.objects.bulk_create(changes)


def updated_rows(*, journal: RepairJournal | None, label: str, changes: list[Change]) -> list[RepairChange]:
    """Journal rows for rows an import changed; none without a journal (a dry run)."""
    if journal is None:
        return []
    return [_journal_row(journal, label, change) for change in changes]


def created_rows(
    *, journal: RepairJournal | None, label: str, model: type[models.Model], pks, changed_by: str | None = None
) -> list[RepairChange]:
    """A journal row for rows an import created, as pk ranges; none without a journal or rows.

    `changed_by` names the time field a later change of such a row moves past now (its `auto_now` field by
    default): undo refuses to delete rows changed since, which would lose that change.
    """
    pks = sorted(pks)
    if journal is None or not pks:
        return []
    after = {"pks": pk_ranges(pks)}
    changed_by = changed_by or next(
        (f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now", False)), None
    )
    if changed_by:
        after["unchanged"] = {"field": changed_by, "as_of": to_json(timezone.now())}
    return [
        RepairChange(
            journal=journal,
            check_name=label,
            model=model._meta.label_lower,
            object_pk=str(len(pks)),
            action=RepairChange.Action.CREATE_ROWS,
            before={},
            after=after,
        )
    ]


def created_files(*, journal: RepairJournal | None, label: str, files: dict[str, int]) -> list[RepairChange]:
    """A journal row for archive files an import created (name → size in bytes)."""
    if journal is None or not files:
        return []
    return [
        RepairChange(
            journal=journal,
            check_name=label,
            model="archive_file",
            object_pk=str(len(files)),
            action=RepairChange.Action.CREATE_FILES,
            before={},
            after={"files": files},
        )
    ]


def in_ranges(ranges: list[list[int]]) -> Iterator[models.Q]:
    """Conditions that together select the pks in `ranges` ([first, last] runs), a few hundred runs each."""
    for chunk in batched(ranges, CREATE_ROWS_CHUNK):
        condition = models.Q()
        for first, last in chunk:
            condition |= models.Q(pk__range=(first, last))
        yield condition


def appended_files(*, journal: RepairJournal | None, label: str, appends: list) -> list[RepairChange]:
    """Journal rows for the appends `archive_files.recording_appends` saw: one per unbroken run of a file.

    A run's `before` size is None when the import created the file (undo deletes it). Someone else's
    lines between two runs split them, and undo then refuses rather than cut those lines away.
    """
    if journal is None:
        return []
    runs: dict[str, list[list]] = {}
    for appended in appends:
        file_runs = runs.setdefault(appended.name, [])
        if file_runs and file_runs[-1][1] == appended.start:
            file_runs[-1][1] = appended.end
        else:
            file_runs.append([appended.start, appended.end])
    return [
        RepairChange(
            journal=journal,
            check_name=label,
            model="archive_file",
            object_pk=name,
            action=RepairChange.Action.APPEND_FILE,
            before={"size": before},
            after={"size": after},
        )
        for name, file_runs in runs.items()
        for before, after in file_runs
    ]


def pk_ranges(pks: list[int]) -> list[list[int]]:
    """Sorted integer pks as [first, last] runs: a bulk insert's ids are mostly one run."""
    ranges = []
    for pk in pks:
        if ranges and pk == ranges[-1][1] + 1:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return ranges


# --- Undo -----------------------------------------------------------------------------------------------------


@transaction.atomic
def undo_repair(*, journal_id: int, acting_user=None) -> RepairJournal:
    """Put back everything a repair or an import changed, newest change first, all or nothing.

    Refuses (ValidationError naming the row or file) when something changed since: a row no longer holds
    the value the repair wrote, a created row is now used by another (a prayer someone prayed for since),
    or a created file has grown (events appended). Undoing would then overwrite or lose someone's later
    change. Files are checked first and deleted only once the database part has committed.
    """
    claimed = RepairJournal.objects.filter(
        pk=journal_id, kind__in=UNDOABLE_KINDS, status__in=[RepairJournal.Status.APPLIED, RepairJournal.Status.FAILED]
    ).update(status=RepairJournal.Status.UNDONE, undone_at=timezone.now(), undone_by=acting_user)
    journal = RepairJournal.objects.filter(pk=journal_id).first()
    if journal is None:
        raise ValidationError(f"Repair #{journal_id} does not exist.")
    if journal.kind not in UNDOABLE_KINDS:
        raise ValidationError(
            f"Repair #{journal_id} ({journal.kind}) cannot be undone: only heals, imports, merges and reviews can."
        )
    if not claimed:
        raise ValidationError(f"Repair #{journal_id} cannot be undone: it is {journal.get_status_display().lower()}.")
    changes = list(journal.changes.order_by("-pk"))
    if not changes and journal.kind == "import":
        # A journal that keeps counts only (written by the onboarding and conversations imports before they
        # recorded their rows): "undoing" it would restore nothing and say it had.
        raise ValidationError(
            f"Repair #{journal_id} cannot be undone: it recorded counts ({journal.description or journal.kind}), "
            "not the rows it changed."
        )
    files = _files_to_delete(journal_id, changes)
    cuts = _files_to_cut(journal_id, changes)
    for run in _runs_of_created_rows(changes):
        if isinstance(run, list):
            _delete_created(journal_id, run)
            continue
        change = run
        if change.action == RepairChange.Action.UPDATE:
            _restore_row(journal_id, change)
        elif change.action == RepairChange.Action.REPOINT:
            _point_back(journal_id, change)
        elif change.action == RepairChange.Action.DELETE_ROW:
            _recreate_row(journal_id, change)
    if journal.kind == "merge":
        from integrity import merge  # merge builds on this module

        merge.after_undo(journal, acting_user)
    transaction.on_commit(lambda: [archive_files.delete(name) for name in files])
    transaction.on_commit(lambda: [_cut(name, size) for name, size in cuts])
    return journal


def _files_to_cut(journal_id: int, changes: list[RepairChange]) -> list[tuple[str, int | None]]:
    """Each file the repair appended to and the size to cut it back to (None: delete it, the repair created it).

    `changes` come newest first: the file must be exactly as long as the newest append left it, and each
    older append must end where the next one starts. Otherwise lines were appended since, or in between,
    and cutting would lose them: refused.
    """
    expected: dict[str, int | None] = {}
    for change in changes:
        if change.action != RepairChange.Action.APPEND_FILE:
            continue
        name = change.object_pk
        now = expected[name] if name in expected else archive_files.size(name)
        if now is not None and now != change.after["size"]:
            raise _file_changed(journal_id, name)
        expected[name] = change.before["size"]
    return list(expected.items())


def _cut(name: str, size: int | None) -> None:
    if size is None:
        archive_files.delete(name)
    else:
        archive_files.truncate(name, size)


def _restore_row(journal_id: int, change: RepairChange) -> None:
    model = apps.get_model(change.model)
    after, before = _from_json(model, change.after), _from_json(model, change.before)
    if not model._base_manager.filter(pk=change.object_pk, **after).update(**before):
        raise ValidationError(
            f"Repair #{journal_id} cannot be undone: {change.model} {change.object_pk} has changed since "
            f"the repair (expected {change.after}). Nothing was undone."
        )


def _point_back(journal_id: int, change: RepairChange) -> None:
    """Undo a bulk re-point: each row goes back to its old owner, if it still points where the merge put it."""
    model = apps.get_model(change.model)
    column, now = change.before["field"], change.after["to"]
    for owner, ranges in change.before["from"].items():
        expected = sum(last - first + 1 for first, last in ranges)
        moved = 0
        for condition in in_ranges(ranges):
            moved += model._base_manager.filter(condition, **{column: now}).update(**{column: owner})
        if moved != expected:
            raise ValidationError(
                f"Repair #{journal_id} cannot be undone: {expected - moved} {change.model} row(s) it moved from "
                f"{owner} to {now} have changed or gone since. Nothing was undone."
            )


def _recreate_row(journal_id: int, change: RepairChange) -> None:
    """Put back a row a merge deleted, with its primary key."""
    model = apps.get_model(change.model)
    if model._base_manager.filter(pk=change.object_pk).exists():
        raise ValidationError(
            f"Repair #{journal_id} cannot be undone: {change.model} {change.object_pk} exists again. "
            "Nothing was undone."
        )
    values = _from_json(model, change.before)
    model._base_manager.bulk_create([model(**values)])
    # An insert stamps auto_now(_add) fields with the current time: give them their recorded values back.
    stamped = [
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    if stamped:
        model._base_manager.filter(pk=change.object_pk).update(**{name: values[name] for name in stamped})


def _files_to_delete(journal_id: int, changes: list[RepairChange]) -> list[str]:
    """The files the repair created that are still as it wrote them; refuses if one has changed since."""
    names = []
    for change in changes:
        if change.action == RepairChange.Action.CREATE_FILE:
            data = archive_files.read_bytes(change.object_pk)
            if data is not None and hashlib.sha256(data).hexdigest() != change.after["sha256"]:
                raise _file_changed(journal_id, change.object_pk)
            names.append(change.object_pk)
        elif change.action == RepairChange.Action.CREATE_FILES:
            for name, size in change.after["files"].items():
                if archive_files.size(name) not in (None, size):
                    raise _file_changed(journal_id, name)
                names.append(name)
    return names


def _file_changed(journal_id: int, name: str) -> ValidationError:
    return ValidationError(
        f"Repair #{journal_id} cannot be undone: {name} has changed since the repair wrote it "
        "(events were appended). Nothing was undone."
    )


def _runs_of_created_rows(changes: list[RepairChange]) -> Iterator:
    """The database changes in order, each run of CREATE_ROWS changes as one list (file changes do not end a
    run: undo deals with files apart)."""
    run = []
    for change in changes:
        if change.action == RepairChange.Action.CREATE_ROWS:
            run.append(change)
            continue
        if change.model == "archive_file":
            continue
        if run:
            yield run
            run = []
        yield change
    if run:
        yield run


def _delete_created(journal_id: int, run: list[RepairChange]) -> None:
    """Delete the rows a run of changes created, a model at a time (an import that journals each user's
    transaction apart has thousands of small changes), children before parents; in the run's own order when
    its models refer to each other in a cycle."""
    by_model: dict[str, list[RepairChange]] = {}
    for change in run:
        by_model.setdefault(change.model, []).append(change)
    order = _children_first(by_model)
    if order is None:
        for change in run:
            _delete_created_rows(journal_id, change.model, [change])
        return
    for label in order:
        changes = by_model[label]
        if len(changes) > 1 and _referring(apps.get_model(label), changes, {label}):
            for change in changes:  # (a merged chat session before the one it was merged into)
                _delete_created_rows(journal_id, label, [change])
        else:
            _delete_created_rows(journal_id, label, changes)


def _referring(model: type[models.Model], changes: list[RepairChange], labels: set[str]) -> set[str]:
    """Which of `labels` the rows these changes created have a (non-null) foreign key to."""
    fields = [f for f in model._meta.concrete_fields if f.is_relation and f.related_model._meta.label_lower in labels]
    ranges = _merged([pks for change in changes for pks in change.after["pks"]])
    found = set()
    for field in fields:
        target = field.related_model._meta.label_lower
        if target not in found and any(
            model._base_manager.filter(condition, **{f"{field.name}__isnull": False}).exists()
            for condition in in_ranges(ranges)
        ):
            found.add(target)
    return found


def _children_first(by_model: dict[str, list[RepairChange]]) -> list[str] | None:
    """The models, each before every other model its created rows refer to; None when they refer in a cycle."""
    labels = list(by_model)
    parents = {
        label: _referring(apps.get_model(label), changes, set(labels) - {label}) for label, changes in by_model.items()
    }
    order = []
    while len(order) < len(labels):
        remaining = [label for label in labels if label not in order]
        ready = next((m for m in remaining if not any(m in parents[other] for other in remaining if other != m)), None)
        if ready is None:
            return None
        order.append(ready)
    return order


def _delete_created_rows(journal_id: int, label: str, changes: list[RepairChange]) -> None:
    """Delete the rows `changes` created (all of one model); refuses if one is gone, was changed since (its
    time field is later than the change recorded), or is now used by a row the journal does not know."""
    model = apps.get_model(label)
    _refuse_changed_since(journal_id, model, changes)
    ranges = _merged([pks for change in changes for pks in change.after["pks"]])
    expected = sum(last - first + 1 for first, last in ranges)
    deleted = 0
    for condition in in_ranges(ranges):
        deleted += delete_alone(model._base_manager.filter(condition), refused=f"Repair #{journal_id} cannot be undone")
    if deleted > expected:
        raise ValidationError(
            f"Repair #{journal_id} cannot be undone: deleting the {label} rows it created would also delete "
            f"{deleted - expected} other {label} row(s). Nothing was undone."
        )
    if deleted != expected:
        raise ValidationError(
            f"Repair #{journal_id} cannot be undone: {expected - deleted} of the {expected} {label} "
            "row(s) it created are gone since. Nothing was undone."
        )


def _refuse_changed_since(journal_id: int, model: type[models.Model], changes: list[RepairChange]) -> None:
    conditions = [
        models.Q(range_condition, **{f"{change.after['unchanged']['field']}__gt": change.after["unchanged"]["as_of"]})
        for change in changes
        if change.after.get("unchanged")
        for range_condition in in_ranges(change.after["pks"])
    ]
    for chunk in batched(conditions, CREATE_ROWS_CHUNK):
        condition = models.Q()
        for each in chunk:
            condition |= each
        since = model._base_manager.filter(condition).first()
        if since is not None:
            raise ValidationError(
                f"Repair #{journal_id} cannot be undone: {model._meta.label_lower} {since.pk} ({since}) has changed "
                "since the import created it, and undoing would lose that change. Nothing was undone."
            )


def _merged(ranges: list[list[int]]) -> list[list[int]]:
    """[first, last] runs, sorted, with touching and overlapping ones joined."""
    joined = []
    for first, last in sorted(ranges):
        if joined and first <= joined[-1][1] + 1:
            joined[-1][1] = max(joined[-1][1], last)
        else:
            joined.append([first, last])
    return joined


def delete_alone(queryset, *, refused: str) -> int:
    """Delete `queryset`'s rows if that deletes or changes nothing else; the number of its rows deleted.

    Otherwise a ValidationError that starts with `refused` and names what uses the rows (a PROTECT or
    RESTRICT reference) or what deleting them would also delete or change (a CASCADE or SET_NULL one).
    """
    model = queryset.model
    collector = Collector(using=queryset.db, origin=queryset)
    try:
        collector.collect(queryset)
    except (ProtectedError, RestrictedError) as error:
        used = next(iter(error.protected_objects if isinstance(error, ProtectedError) else error.restricted_objects))
        raise ValidationError(
            f"{refused}: a {model._meta.label_lower} row is used since by {used._meta.label_lower} {used.pk} "
            f"({used}). Nothing was changed."
        ) from None
    others = [m._meta.label_lower for m, rows in collector.data.items() if m is not model and rows]
    others += [qs.model._meta.label_lower for qs in collector.fast_deletes if qs.model is not model and qs.exists()]
    # SET_NULL and SET(...) relations are collected as lazy querysets, empty ones included.
    others += [
        field.model._meta.label_lower
        for (field, _value), batches in collector.field_updates.items()
        if any(batch.exists() if isinstance(batch, models.QuerySet) else batch for batch in batches)
    ]
    if others:
        raise ValidationError(
            f"{refused}: deleting the {model._meta.label_lower} rows would also delete or change "
            f"{', '.join(sorted(set(others))) or 'other rows'}. Nothing was changed."
        )
    return collector.delete()[1].get(model._meta.label, 0)


def record_doctor_run(*, results: list[dict]) -> "DoctorRun":
    """Keep a doctor run's findings for the admin's review queue."""
    return DoctorRun.objects.create(problems=sum(result["count"] for result in results), results=to_json(results))


def review_quarantine(*, pks: list[int], status: str, acting_user=None) -> RepairJournal:
    """Mark open quarantine records reviewed (resolved) or discarded; journaled, so undo_repair reopens them.

    Nothing is deleted: a discarded record keeps its payload and can be reopened. Records that are not open
    any more are skipped (the journal counts them).
    """
    if status not in (Quarantine.Status.RESOLVED, Quarantine.Status.DISCARDED):
        raise ValidationError(f"{status!r} is not a review outcome (resolved or discarded).")
    now = timezone.now()
    changes = [
        Change(
            model=Quarantine,
            pk=pk,
            before={"status": Quarantine.Status.OPEN, "resolved_at": None, "resolved_by_id": None},
            after={"status": status, "resolved_at": now, "resolved_by_id": getattr(acting_user, "pk", None)},
        )
        for pk in pks
    ]
    return apply_plans(
        plans={"quarantine.review": Plan(changes=changes)},
        acting_user=acting_user,
        description=f"quarantine: {status} {len(pks)} record(s)",
        kind="review",
    )


def attach_quarantined(*, pk: int, user, acting_user=None) -> RepairJournal:
    """Attach an open quarantine record to `user` the way its app declared (`registry.attacher`)."""
    record = Quarantine.objects.filter(pk=pk).first()
    if record is None or record.status != Quarantine.Status.OPEN:
        raise ValidationError(f"Quarantine record #{pk} is not open.")
    attach = get_attacher(record.reason)
    if attach is None:
        raise ValidationError(
            f"Records of reason {record.reason} cannot be attached to a user yet: mark #{pk} reviewed or discard it."
        )
    return attach(record=record, user=user, acting_user=acting_user)


def resolution(record: Quarantine, acting_user=None) -> Change:
    """The change that marks an open record resolved, for an attacher to apply with its own changes."""
    return Change(
        model=Quarantine,
        pk=record.pk,
        before={"status": Quarantine.Status.OPEN, "resolved_at": None, "resolved_by_id": None},
        after={
            "status": Quarantine.Status.RESOLVED,
            "resolved_at": timezone.now(),
            "resolved_by_id": getattr(acting_user, "pk", None),
        },
    )


def fingerprint(*, source: str, reason: str, payload) -> str:
    canonical = json.dumps([source, reason, payload], sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def quarantine(*, source: str, reason: str, payload) -> tuple[Quarantine, bool]:
    """Keep a record that could not be attached; the same record quarantined twice is stored once."""
    return Quarantine.objects.get_or_create(
        fingerprint=fingerprint(source=source, reason=reason, payload=payload),
        defaults={"source": source, "reason": reason, "payload": to_json(payload)},
    )
