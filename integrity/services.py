"""Writes of the integrity app: applying repair plans, undoing them, quarantining records."""

import hashlib
import json

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from integrity.models import Quarantine, RepairChange, RepairJournal
from integrity.registry import Change, Plan, WriteFile
from lib import archive_files
from lib.batching import batched


def _to_json(values: dict) -> dict:
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _from_json(model: type[models.Model], values: dict) -> dict:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return {name: fields[name].to_python(value) for name, value in values.items()}


def apply_plans(
    *, plans: dict[str, Plan], acting_user=None, description: str = "", batch_size: int = 500, on_batch=None
) -> RepairJournal:
    """Apply heal plans (check name → plan) in transactional batches, journaling every change.

    Each row change is a conditional UPDATE: a row that no longer holds the planned `before` values was
    changed by someone else since planning, so it is left alone and counted as skipped. A file is written
    only where none exists yet. A batch that fails rolls back alone; the journal then says `failed` and
    lists what the earlier batches did.
    """
    journal = RepairJournal.objects.create(kind="heal", description=description, actor=acting_user)
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


def _apply(journal: RepairJournal, check_name: str, change: Change | WriteFile) -> RepairChange | None:
    """Apply one change; its journal row, or None when it no longer applies."""
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


def _journal_row(journal: RepairJournal, check_name: str, change: Change) -> RepairChange:
    return RepairChange(
        journal=journal,
        check_name=check_name,
        model=change.model._meta.label_lower,
        object_pk=str(change.pk),
        before=_to_json(change.before),
        after=_to_json(change.after),
    )


def _finish(journal: RepairJournal, status: str, summary: dict) -> None:
    journal.status, journal.summary, journal.finished_at = status, summary, timezone.now()
    journal.save(update_fields=["status", "summary", "finished_at"])


@transaction.atomic
def undo_repair(*, journal_id: int, acting_user=None) -> RepairJournal:
    """Put back every row a repair changed, newest change first, all or nothing.

    Refuses (ValidationError naming the row) when a row no longer holds the value the repair wrote:
    undoing would then overwrite someone else's later change.
    """
    undoable = [RepairJournal.Status.APPLIED, RepairJournal.Status.FAILED]
    claimed = RepairJournal.objects.filter(pk=journal_id, kind="heal", status__in=undoable).update(
        status=RepairJournal.Status.UNDONE, undone_at=timezone.now(), undone_by=acting_user
    )
    journal = RepairJournal.objects.filter(pk=journal_id).first()
    if journal is None:
        raise ValidationError(f"Repair #{journal_id} does not exist.")
    if journal.kind != "heal":
        raise ValidationError(f"Repair #{journal_id} ({journal.kind}) cannot be undone: only heals can, so far.")
    if not claimed:
        raise ValidationError(f"Repair #{journal_id} cannot be undone: it is {journal.get_status_display().lower()}.")
    for change in journal.changes.order_by("-pk"):
        if change.action == RepairChange.Action.CREATE_FILE:
            _undo_file(journal_id, change)
            continue
        model = apps.get_model(change.model)
        after, before = _from_json(model, change.after), _from_json(model, change.before)
        if not model._base_manager.filter(pk=change.object_pk, **after).update(**before):
            raise ValidationError(
                f"Repair #{journal_id} cannot be undone: {change.model} {change.object_pk} has changed since "
                f"the repair (expected {change.after}). Nothing was undone."
            )
    return journal


def _undo_file(journal_id: int, change: RepairChange) -> None:
    data = archive_files.read_bytes(change.object_pk)
    if data is None:
        return  # already gone
    if hashlib.sha256(data).hexdigest() != change.after["sha256"]:
        raise ValidationError(
            f"Repair #{journal_id} cannot be undone: {change.object_pk} has changed since the repair wrote it "
            "(events were appended). Nothing was undone."
        )
    archive_files.delete(change.object_pk)


def fingerprint(*, source: str, reason: str, payload) -> str:
    canonical = json.dumps([source, reason, payload], sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def quarantine(*, source: str, reason: str, payload) -> tuple[Quarantine, bool]:
    """Keep a record that could not be attached; the same record quarantined twice is stored once."""
    return Quarantine.objects.get_or_create(
        fingerprint=fingerprint(source=source, reason=reason, payload=payload),
        defaults={"source": source, "reason": reason, "payload": _to_json(payload)},
    )
