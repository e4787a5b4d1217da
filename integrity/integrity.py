"""The integrity app's own declarations (how a merge treats its audit records) and checks of merges."""

from django.apps import apps

from integrity import merge
from integrity.models import DoctorRun, Quarantine, RepairJournal
from integrity.registry import SAMPLE_SIZE, Change, Delete, Finding, Plan, check

# Who resolved a quarantined record, ran or undid a repair: history, kept on the loser's tombstone as it was.
merge.declare(Quarantine, "resolved_by", merge.Keep())
merge.declare(RepairJournal, "actor", merge.Keep())
merge.declare(RepairJournal, "undone_by", merge.Keep())


# --- Rows that point at a tombstone ----------------------------------------------------------------------------


def _merged_models():
    return [m for m in apps.get_models() if any(f.name == "merged_into" for f in m._meta.concrete_fields)]


def _stale_relations():
    """(relation, rows pointing at a tombstone) for every relation a merge moves (not the ones it keeps)."""
    for model in _merged_models():
        tombstones = model._base_manager.filter(merged_into__isnull=False).values("pk")
        for relation in merge.relations_to(model):
            if isinstance(merge.policy_for(relation.model, relation.field), merge.Keep):
                continue
            if relation.content_type_field:
                continue  # generic keys hold text ids; none points at a mergeable model so far
            rows = relation.model._base_manager.filter(**{f"{relation.attname}__in": tombstones})
            if relation.model is model:
                rows = rows.filter(merged_into__isnull=True)  # a tombstone's own links stay as they were
            yield model, relation, rows


@check(
    "integrity.points_at_tombstone",
    hint="Run `manage.py heal --only integrity.points_at_tombstone` to move them to the record they were merged into.",
)
def rows_pointing_at_tombstones() -> Finding:
    """Rows that point at a record merged into another (made after the merge through an old id)."""
    count, sample = 0, []
    for _, relation, rows in _stale_relations():
        found = rows.count()
        if found:
            count += found
            sample += [f"{relation.label} {pk}" for pk in rows.order_by("pk").values_list("pk", flat=True)[:3]]
    return Finding(count=count, sample=sample[:SAMPLE_SIZE])


@rows_pointing_at_tombstones.fix
def repoint_to_survivors() -> Plan:
    plan = Plan()
    for model, relation, rows in _stale_relations():
        survivors = dict(model._base_manager.filter(merged_into__isnull=False).values_list("pk", "merged_into_id"))
        if merge.unique_sets(relation, []):
            for pk in rows.values_list("pk", flat=True):
                plan.skipped.append(
                    f"{relation.label} {pk}: part of a unique constraint, so moving it may collide; merge the records "
                    "again in the admin to resolve it by the relation's policy"
                )
            continue
        for pk, owner in rows.values_list("pk", relation.attname):
            target = owner
            seen = set()
            while target in survivors and target not in seen:  # follow chains of merges to the end
                seen.add(target)
                target = survivors[target]
            plan.changes.append(
                Change(model=relation.model, pk=pk, before={relation.attname: owner}, after={relation.attname: target})
            )
    return plan


# --- Old doctor runs -------------------------------------------------------------------------------------------

KEEP_DOCTOR_RUNS = 100  # the newest runs stay for the review queue, however old


def _old_doctor_runs():
    newest = DoctorRun.objects.order_by("-created_at", "-pk").values("pk")[:KEEP_DOCTOR_RUNS]
    return DoctorRun.objects.exclude(pk__in=list(newest.values_list("pk", flat=True)))


@check("integrity.old_doctor_run", hint="Run `manage.py heal --only integrity.old_doctor_run` to delete them.")
def old_doctor_runs() -> Finding:
    """Doctor runs beyond the newest 100, which a doctor in cron keeps adding."""
    return Finding.from_queryset(_old_doctor_runs())


@old_doctor_runs.fix
def delete_old_doctor_runs() -> Plan:
    """Delete them, journaled (undo_repair brings them back)."""
    return Plan(
        changes=[Delete(model=DoctorRun, pk=pk, before={}) for pk in _old_doctor_runs().values_list("pk", flat=True)]
    )
