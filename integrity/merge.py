"""Merging duplicates: every row that points at the losers moves to the survivor, in bulk, and nothing is lost.

`plan_merge(survivor=…, losers=[…])` finds, from model metadata alone, every relation that points at the
merged model (reverse foreign keys and one-to-ones, many-to-many through tables, generic foreign keys, self
references), the rows to move, and the rows that would break a unique or partial-unique constraint once
moved. What happens to those conflicting rows is the relation's declared policy (`declare(...)` in the owning
app's `integrity.py`); a conflict on a relation without one refuses the merge, naming the rows.

`execute_merge(plan=…)` re-plans inside one transaction (refusing if anything changed since the plan was
shown), then re-points each relation with one UPDATE, applies the policies, keeps each loser as a tombstone
(`merged_into`), and journals everything `undo_repair` needs to put the exact previous state back.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from integrity.models import RepairChange, RepairJournal
from integrity.registry import Change
from integrity.services import delete_alone, in_ranges, pk_ranges, to_json
from lib.batching import batched

CHUNK = 500

# --- Policies -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Collapse:
    """Keep the survivor's row; the loser's conflicting row is deleted, its full copy journaled (undo restores it)."""

    name = "collapse"


@dataclass(frozen=True)
class MergeFields:
    """Fold the loser's conflicting row into the survivor's with a rule per field, then delete it (journaled).

    Rules: "fill_empty" (keep the survivor's value unless it is empty), "newest" (the value of the row whose
    `newest_by` field is later), "sum", "union" (of two lists, order kept, no repeats). Other fields keep the
    survivor's value.
    """

    rules: dict = field(default_factory=dict)
    newest_by: str | None = None
    name = "merge_fields"


@dataclass(frozen=True)
class Reassign:
    """Move the loser's conflicting row anyway, with `updates` that take it out of the constraint (e.g. status)."""

    updates: dict = field(default_factory=dict)
    name = "reassign"


@dataclass(frozen=True)
class MergeRecords:
    """Merge the loser's conflicting row into the row it collides with, by this same engine: its own relations
    move (with their policies), it stays as a tombstone on the loser. For rows that are themselves records with
    a `merged_into` field, e.g. a user's one onboarding session."""

    name = "merge_records"


@dataclass(frozen=True)
class Keep:
    """Leave the relation's rows on the loser's tombstone (audit fields: who did what, as it was)."""

    name = "keep"


_policies: dict[tuple[str, str], object] = {}


def declare(model: type[models.Model], field_name: str, policy) -> None:
    """Declare how a merge treats the relation `model.field_name` (called from an app's integrity.py)."""
    _policies[(model._meta.label_lower, field_name)] = policy


_archivers: dict[str, object] = {}
_choosable: dict[str, list[str]] = {}
_tombstones: dict[str, dict] = {}
_same: dict[str, list[str]] = {}
_fill_empty: dict[str, list[str]] = {}
_after_merge: dict[str, object] = {}


def declare_fill_empty(model: type[models.Model], names: list[str]) -> None:
    """Fields the survivor takes from the first loser that has a value, where its own is empty (journaled)."""
    _fill_empty[model._meta.label_lower] = list(names)


def declare_after_merge(model: type[models.Model], after) -> None:
    """Have `after(journal=…, survivor=…, losers=[…])` run in every merge of `model` (nested ones too), once its
    rows have moved, and return the journal rows of what it changed (e.g. a history of replaced values)."""
    _after_merge[model._meta.label_lower] = after


def declare_tombstone(model: type[models.Model], **values) -> None:
    """More fields a merged-away record of `model` gets besides `merged_into` (e.g. status="merged")."""
    _tombstones[model._meta.label_lower] = values


def declare_same(model: type[models.Model], names: list[str]) -> None:
    """Fields the records of a merge must share when staff merge them directly (e.g. a conversation's owner):
    merging one user's record into another user's would hand it over. A merge nested in a merge of their owners
    (MergeRecords) is exempt: there the owners are becoming one."""
    _same[model._meta.label_lower] = list(names)


def declare_fields(model: type[models.Model], names: list[str]) -> None:
    """Fields of `model` whose value staff may take from a loser when merging (the survivor's by default).

    Only plain fields belong here: not unique ones (the loser keeps its value), and not ones whose changes
    must be archived or checked by a service (names, roles).
    """
    _choosable[model._meta.label_lower] = list(names)


def declare_archiver(model: type[models.Model], archive) -> None:
    """Have `archive(survivor=…, losers=[…], acting_user=…, undone=bool)` record merges of `model` (and their
    undoing) in the text archive; it runs inside the merge's transaction, before it commits."""
    _archivers[model._meta.label_lower] = archive


def _archive(model, survivor_pk, loser_pks, acting_user, *, undone: bool) -> None:
    archive = _archivers.get(model._meta.label_lower)
    if archive is not None:
        records = model._base_manager.in_bulk([survivor_pk, *loser_pks])
        archive(
            survivor=records[survivor_pk],
            losers=[records[pk] for pk in loser_pks],
            acting_user=acting_user,
            undone=undone,
        )


def after_undo(journal: RepairJournal, acting_user=None) -> None:
    """Called by undo_repair once a merge's rows are back: tell the text archive."""
    summary = journal.summary
    model = apps.get_model(summary["model"])
    _archive(model, summary["survivor"], summary["losers"], acting_user, undone=True)


def policy_for(model: type[models.Model], field_name: str):
    policy = _policies.get((model._meta.label_lower, field_name))
    if policy is None and model._meta.auto_created:  # an auto many-to-many table: a row is only a link
        return Collapse()
    return policy


# --- The plan -----------------------------------------------------------------------------------------------


@dataclass
class Conflict:
    pk: object  # the loser's row that cannot simply move
    keeper: object  # the row it collides with (the survivor's, or another loser's), or None for a self reference
    why: str


@dataclass
class Relation:
    """The rows of `model` whose `field` points at a loser."""

    model: type[models.Model]
    field: str  # the field's name
    attname: str  # its column attribute, e.g. actor_id
    content_type_field: str | None = None  # for a generic foreign key: the content type's attname
    target: type[models.Model] | None = None  # for a generic foreign key: the merged model its rows point at
    policy: object = None
    move: list = field(default_factory=list)  # pks of rows that simply move
    conflicts: list[Conflict] = field(default_factory=list)
    owners: dict = field(default_factory=dict)  # pk → the loser it points at, for every row of the relation

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field}"

    def describe(self) -> str:
        policy = getattr(self.policy, "name", "abort")
        text = f"{self.label}: {len(self.move)} row(s) to move"
        if self.conflicts:
            text += f", {len(self.conflicts)} in conflict ({policy})"
        if isinstance(self.policy, Keep):
            text = f"{self.label}: {len(self.move) + len(self.conflicts)} row(s) stay on the tombstone (keep)"
        return text


@dataclass
class MergePlan:
    model: type[models.Model]
    survivor_pk: object
    loser_pks: list
    relations: list[Relation]
    refusals: list[str]
    # Declared fields whose values differ: field name → [(pk, value) of the survivor then each loser].
    differences: dict = field(default_factory=dict)
    take: dict = field(default_factory=dict)  # field name → pk of the record whose value the survivor gets

    @property
    def ok(self) -> bool:
        return not self.refusals

    @property
    def rows(self) -> int:
        return sum(len(r.move) + len(r.conflicts) for r in self.relations)

    def lines(self) -> list[str]:
        return [r.describe() for r in self.relations if r.move or r.conflicts]

    def fingerprint(self) -> str:
        """What the plan would do; the same data gives the same fingerprint."""
        return json.dumps(
            [
                [r.label, sorted(map(str, r.move)), sorted((str(c.pk), str(c.keeper)) for c in r.conflicts)]
                for r in self.relations
            ]
            + [sorted(self.refusals), sorted((name, str(pk)) for name, pk in self.take.items())]
        )


def plan_merge(
    *, survivor: models.Model, losers: list[models.Model], take: dict | None = None, nested: bool = False
) -> MergePlan:
    """What merging `losers` into `survivor` would do, from SELECTs only (a few per relation, none per row).

    `take` maps a declared field (`declare_fields`) to the pk of the record whose value the survivor keeps.
    """
    model = type(survivor)
    loser_pks = [loser.pk for loser in losers]
    refusals = _refusals(model, survivor, losers)
    if not nested:
        for name in _same.get(model._meta.label_lower, []):
            if any(getattr(loser, name) != getattr(survivor, name) for loser in losers):
                refusals.append(f"Only {model._meta.verbose_name_plural} with the same {name} can be merged.")
    relations = []
    for relation in relations_to(model):
        relation.policy = policy_for(relation.model, relation.field)
        _find_rows(relation, model, survivor.pk, loser_pks, refusals)
        relations.append(relation)
    differences, chosen = _field_choices(model, survivor, losers, take or {}, refusals)
    return MergePlan(
        model=model,
        survivor_pk=survivor.pk,
        loser_pks=loser_pks,
        relations=relations,
        refusals=refusals,
        differences=differences,
        take=chosen,
    )


def _field_choices(model, survivor, losers, take: dict, refusals: list[str]) -> tuple[dict, dict]:
    records = {str(record.pk): record for record in [survivor, *losers]}
    names = _choosable.get(model._meta.label_lower, [])
    differences = {}
    for name in names:
        values = [(record.pk, getattr(record, name)) for record in records.values()]
        if len({repr(value) for _, value in values}) > 1:
            differences[name] = values
    chosen = {}
    for name, pk in take.items():
        if name not in names:
            refusals.append(f"{model._meta.label_lower}.{name} cannot be chosen in a merge.")
        elif str(pk) not in records:
            refusals.append(f"{name}: #{pk} is not one of the records being merged.")
        elif str(pk) != str(survivor.pk) and name in differences:
            chosen[name] = records[str(pk)].pk
    return differences, chosen


def _refusals(model, survivor, losers) -> list[str]:
    label = model._meta.label_lower
    refusals = []
    if not any(f.name == "merged_into" for f in model._meta.concrete_fields):
        refusals.append(f"{label} has no merged_into field to keep the losers as tombstones.")
    if not losers:
        refusals.append("Choose at least one record to merge into the survivor.")
    if any(type(loser) is not model for loser in losers):
        refusals.append(f"Only {label} records can be merged into a {label}.")
    if survivor.pk in {loser.pk for loser in losers}:
        refusals.append(f"{label} {survivor.pk} cannot be merged into itself.")
    for record in [survivor, *losers]:
        if getattr(record, "merged_into_id", None) is not None:
            refusals.append(f"{label} {record.pk} was already merged into {record.merged_into_id}.")
    return refusals


def relations_to(model) -> list[Relation]:
    """Every relation that points at `model`, from metadata: reverse FKs/one-to-ones (through tables of
    many-to-manys included, since they are reverse FKs of their auto-created models) and generic foreign keys."""
    relations = []
    # Hidden ones too (related_name="+", and the foreign keys of many-to-many through tables, which is how
    # many-to-manys in either direction are covered): `_meta.related_objects` would leave some out.
    for related in model._meta.get_fields(include_hidden=True):
        if related.auto_created and not related.concrete and (related.one_to_many or related.one_to_one):
            fk = related.field
            relations.append(Relation(model=related.related_model, field=fk.name, attname=fk.attname))
    for other in apps.get_models():
        for private in other._meta.private_fields:
            if isinstance(private, GenericForeignKey):
                ct = other._meta.get_field(private.ct_field)
                fk = other._meta.get_field(private.fk_field)
                relations.append(
                    Relation(
                        model=other,
                        field=private.name,
                        attname=fk.attname,
                        content_type_field=ct.attname,
                        target=model,
                    )
                )
    unique = {}
    for relation in relations:
        unique.setdefault((relation.model, relation.attname), relation)
    return list(unique.values())


def _rows(relation: Relation, pks: list) -> models.QuerySet:
    """The relation's rows that point at `pks` (for a generic key: with the merged model's content type)."""
    manager = relation.model._base_manager
    if relation.content_type_field:
        content_type = ContentType.objects.get_for_model(relation.target, for_concrete_model=False)
        return manager.filter(
            **{f"{relation.attname}__in": [str(pk) for pk in pks], relation.content_type_field: content_type.pk}
        )
    return manager.filter(**{f"{relation.attname}__in": pks})


def _find_rows(relation: Relation, model, survivor_pk, loser_pks: list, refusals: list[str]) -> None:
    """Fill relation.move and relation.conflicts (one SELECT, plus one per unique constraint on the field)."""
    if not isinstance(relation.model._meta.pk, models.AutoField | models.BigAutoField | models.IntegerField):
        refusals.append(f"{relation.label}: rows without an integer primary key cannot be re-pointed in bulk yet.")
        return
    rows = dict(_rows(relation, loser_pks).values_list("pk", relation.attname))
    conflicts: dict[object, Conflict] = {}
    if relation.model is model and survivor_pk in rows:  # the survivor points at a loser: it would point at itself
        conflicts[survivor_pk] = Conflict(pk=survivor_pk, keeper=None, why=f"it would point at {survivor_pk} itself")
    for fields, condition, nulls_equal in unique_sets(relation, refusals):
        others = [f for f in fields if f != relation.attname]
        scope = _rows(relation, [survivor_pk, *loser_pks])
        if condition is not None:
            scope = scope.filter(condition)
        order = {pk: i for i, pk in enumerate([survivor_pk, *loser_pks])}
        groups = defaultdict(list)
        for pk, owner, *key in scope.values_list("pk", relation.attname, *others):
            groups[tuple(key)].append((order.get(_as_pk(owner, survivor_pk), len(order)), pk))
        for key, members in groups.items():
            if len(members) < 2 or (None in key and not nulls_equal):  # NULLs never collide, by default
                continue
            members.sort()
            keeper = members[0][1]
            for _, pk in members[1:]:
                if pk in rows and pk not in conflicts:
                    shown = ", ".join(f"{name}={value!r}" for name, value in zip(others, key, strict=True))
                    conflicts[pk] = Conflict(pk=pk, keeper=keeper, why=f"same {shown or relation.field} as {keeper}")
    relation.conflicts = list(conflicts.values())
    relation.move = [pk for pk in rows if pk not in conflicts]
    relation.owners = rows
    if isinstance(relation.policy, MergeRecords) and not hasattr(relation.model, "merged_into"):
        refusals.append(f"{relation.label}: merge_records needs {relation.model._meta.label_lower}.merged_into.")
    if relation.conflicts and relation.policy is None:
        sample = "; ".join(f"{relation.model._meta.label_lower} {c.pk}: {c.why}" for c in relation.conflicts[:5])
        refusals.append(
            f"{relation.label}: {len(relation.conflicts)} row(s) would break a unique constraint and the relation "
            f"declares no merge policy ({sample})."
        )


def _as_pk(value, survivor_pk):
    return type(survivor_pk)(value) if value is not None and not isinstance(value, type(survivor_pk)) else value


def unique_sets(relation: Relation, refusals: list[str]) -> list[tuple[tuple[str, ...], models.Q | None, bool]]:
    """The unique constraints that include the relation's column: (column attnames, condition or None,
    whether NULLs count as equal)."""
    meta = relation.model._meta
    by_name = {f.name: f for f in meta.concrete_fields}
    sets = [((f.attname,), None, False) for f in meta.concrete_fields if f.unique and not f.primary_key]
    sets += [(tuple(by_name[name].attname for name in names), None, False) for names in meta.unique_together]
    for constraint in meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint):
            continue
        if constraint.expressions:
            if any(relation.field in str(expression) for expression in constraint.expressions):
                refusals.append(
                    f"{relation.label}: the constraint {constraint.name} is on an expression; the merge engine "
                    "cannot tell which rows would collide."
                )
            continue
        fields = tuple(by_name[name].attname for name in constraint.fields)
        sets.append((fields, constraint.condition, constraint.nulls_distinct is False))
    return [entry for entry in sets if relation.attname in entry[0]]


# --- Executing ----------------------------------------------------------------------------------------------


@transaction.atomic
def execute_merge(
    *, plan: MergePlan, acting_user=None, description: str = "", archive: bool = True, also: tuple[Change, ...] = ()
) -> RepairJournal:
    """Carry out a plan in one transaction; refuses (ValidationError) if the data changed since it was made.

    `archive=False` when the merge is itself replayed from the text archive (a rebuild): it is there already.
    `also`: more row changes that belong to the merge (e.g. the quarantine record it resolves), applied only
    if the row still holds `before`, journaled and undone with it.
    """
    model = plan.model
    records = list(model._base_manager.select_for_update().filter(pk__in=[plan.survivor_pk, *plan.loser_pks]))
    by_pk = {record.pk: record for record in records}
    if len(by_pk) != 1 + len(plan.loser_pks):
        raise ValidationError("Some of the records to merge are gone since the plan was made. Nothing was merged.")
    fresh = plan_merge(survivor=by_pk[plan.survivor_pk], losers=[by_pk[pk] for pk in plan.loser_pks], take=plan.take)
    if not fresh.ok:
        raise ValidationError(" ".join(fresh.refusals))
    if fresh.fingerprint() != plan.fingerprint():
        raise ValidationError("The data changed since the plan was shown. Review the new plan. Nothing was merged.")
    label = model._meta.label_lower
    journal = RepairJournal.objects.create(
        kind="merge",
        actor=acting_user,
        description=description or f"merge {label} {', '.join(map(str, plan.loser_pks))} into {plan.survivor_pk}",
    )
    journal_rows = _apply(journal, fresh, by_pk)
    for change in also:
        if not change.model._base_manager.filter(pk=change.pk, **change.before).update(**change.after):
            raise ValidationError(
                f"{change.model._meta.label_lower} {change.pk} changed meanwhile. Nothing was merged."
            )
        journal_rows.append(_update_row(journal, "merge", change.model, change.pk, change.before, change.after))
    RepairChange.objects.bulk_create(journal_rows)
    if archive:
        _archive(model, plan.survivor_pk, plan.loser_pks, acting_user, undone=False)
    journal.status, journal.finished_at = RepairJournal.Status.APPLIED, timezone.now()
    journal.summary = {"model": label, "survivor": plan.survivor_pk, "losers": plan.loser_pks, "plan": fresh.lines()}
    journal.save(update_fields=["status", "finished_at", "summary"])
    return journal


def _apply(journal, plan: MergePlan, by_pk: dict) -> list[RepairChange]:
    """Do what a checked plan says; the journal rows, in the order undo must reverse."""
    model, label = plan.model, plan.model._meta.label_lower
    journal_rows = []
    for relation in plan.relations:
        if isinstance(relation.policy, Keep) or not (relation.move or relation.conflicts):
            continue
        journal_rows += _resolve_conflicts(journal, relation, plan.survivor_pk)
        journal_rows += _move(journal, relation, plan.survivor_pk, plan.loser_pks)
    now = model._base_manager.in_bulk([plan.survivor_pk, *plan.loser_pks])  # as the moves above left them
    survivor, losers = now[plan.survivor_pk], [now[pk] for pk in plan.loser_pks]
    after = {name: getattr(now[pk], name) for name, pk in plan.take.items()}
    for name in _fill_empty.get(label, []):
        if name not in after and getattr(survivor, name) in EMPTY:
            given = next((getattr(loser, name) for loser in losers if getattr(loser, name) not in EMPTY), None)
            if given is not None:
                after[name] = given
    if after:
        columns = {name: model._meta.get_field(name).attname for name in after}
        before = {columns[name]: _value(survivor, name) for name in after}
        after = {columns[name]: _value_of(value) for name, value in after.items()}
        model._base_manager.filter(pk=plan.survivor_pk).update(**after)
        journal_rows.append(_update_row(journal, label, model, plan.survivor_pk, before, after))
    hook = _after_merge.get(label)
    if hook is not None:
        journal_rows += hook(journal=journal, survivor=survivor, losers=losers)
    tombstone = {"merged_into_id": plan.survivor_pk, **_tombstones.get(label, {})}
    if any(f.name == "is_active" for f in model._meta.concrete_fields):
        tombstone["is_active"] = False
    for pk in plan.loser_pks:
        record = by_pk[pk]
        before = {name: getattr(record, name) for name in tombstone}
        model._base_manager.filter(pk=pk).update(**tombstone)
        journal_rows.append(_update_row(journal, label, model, pk, before, tombstone))
    return journal_rows


EMPTY = (None, "", [], {})


def _value(record, name):
    return _value_of(getattr(record, name))


def _value_of(value):
    """A field value as a column value: a related record as its pk, a file as its name."""
    if isinstance(value, models.Model):
        return value.pk
    return getattr(value, "name", value) if hasattr(value, "storage") else value


def _move(journal, relation: Relation, survivor_pk, loser_pks: list) -> list[RepairChange]:
    """Re-point the relation's rows to the survivor and journal where each came from.

    One UPDATE per 500 runs of consecutive pks (usually one in all), limited to rows that still point at a
    loser: the rows the plan listed, and no others.
    """
    if not relation.move:
        return []
    origins = defaultdict(list)
    for pk in relation.move:
        origins[str(relation.owners[pk])].append(pk)
    value = str(survivor_pk) if relation.content_type_field else survivor_pk
    moved = 0
    for condition in in_ranges(pk_ranges(sorted(relation.move))):
        moved += _rows(relation, loser_pks).filter(condition).update(**{relation.attname: value})
    if moved != len(relation.move):
        raise ValidationError(f"{relation.label}: rows changed while merging. Nothing was merged.")
    return [
        RepairChange(
            journal=journal,
            check_name=relation.label,
            model=relation.model._meta.label_lower,
            object_pk=str(len(relation.move)),
            action=RepairChange.Action.REPOINT,
            before={
                "field": relation.attname,
                "from": {owner: pk_ranges(sorted(rows)) for owner, rows in origins.items()},
            },
            after={"field": relation.attname, "to": value},
        )
    ]


def _resolve_conflicts(journal, relation: Relation, survivor_pk) -> list[RepairChange]:
    if not relation.conflicts:
        return []
    policy = relation.policy
    pks = [c.pk for c in relation.conflicts]
    if isinstance(policy, Reassign):
        return _reassign(journal, relation, survivor_pk, pks, policy.updates)
    if isinstance(policy, MergeRecords):
        return _merge_records(journal, relation)
    rows = []
    if isinstance(policy, MergeFields):
        rows += _merge_fields(journal, relation, policy)
    if isinstance(policy, Collapse | MergeFields):
        rows += _delete_rows(journal, relation, pks)
        return rows
    raise ValidationError(f"{relation.label}: unknown merge policy {policy!r}.")


def _merge_records(journal, relation: Relation) -> list[RepairChange]:
    """Each conflicting row merged into the row it collides with (a nested merge in the same journal)."""
    model = relation.model
    rows = []
    for conflict in relation.conflicts:
        if conflict.keeper is None:
            raise ValidationError(f"{relation.label} {conflict.pk}: {conflict.why}; there is nothing to merge it into.")
        records = model._base_manager.select_for_update().in_bulk([conflict.keeper, conflict.pk])
        plan = plan_merge(survivor=records[conflict.keeper], losers=[records[conflict.pk]], nested=True)
        if not plan.ok:
            raise ValidationError(f"{relation.label}: {' '.join(plan.refusals)} Nothing was merged.")
        rows += _apply(journal, plan, records)
    return rows


def _reassign(journal, relation, survivor_pk, pks, updates) -> list[RepairChange]:
    """Conflicting rows that move anyway with updates: journaled row by row (before and after)."""
    model = relation.model
    columns = [relation.attname, *(model._meta.get_field(name).attname for name in updates)]
    before = {pk: dict(zip(columns, values, strict=True)) for pk, *values in _values(model, pks, columns)}
    after = {relation.attname: survivor_pk, **{model._meta.get_field(k).attname: v for k, v in updates.items()}}
    for chunk in batched(pks, CHUNK):
        model._base_manager.filter(pk__in=chunk).update(**after)
    return [_update_row(journal, relation.label, model, pk, before[pk], after) for pk in pks]


def _values(model, pks, columns):
    for chunk in batched(pks, CHUNK):
        yield from model._base_manager.filter(pk__in=chunk).values_list("pk", *columns)


def _merge_fields(journal, relation: Relation, policy: MergeFields) -> list[RepairChange]:
    """Fold each conflicting row into the row it collides with; journal the keeper's fields before and after."""
    model = relation.model
    attnames = {name: model._meta.get_field(name).attname for name in policy.rules}
    columns = list(attnames.values())
    if policy.newest_by:
        columns.append(model._meta.get_field(policy.newest_by).attname)
    keepers = {c.keeper for c in relation.conflicts}
    everyone = [*keepers, *(c.pk for c in relation.conflicts)]
    values = {pk: dict(zip(columns, rest, strict=True)) for pk, *rest in _values(model, everyone, columns)}
    merged = {pk: dict(values[pk]) for pk in keepers}
    for conflict in relation.conflicts:
        keeper, loser = merged[conflict.keeper], values[conflict.pk]
        newer = False
        if policy.newest_by:
            mine, theirs = keeper[columns[-1]], loser[columns[-1]]
            newer = theirs is not None and (mine is None or theirs > mine)
        for name, rule in policy.rules.items():
            column = attnames[name]
            keeper[column] = _fold(rule, keeper[column], loser[column], newer)
    changes = []
    for pk, after in merged.items():
        after = {column: after[column] for column in attnames.values()}
        before = {column: values[pk][column] for column in attnames.values()}
        if after != before:
            model._base_manager.filter(pk=pk).update(**after)
            changes.append(_update_row(journal, relation.label, model, pk, before, after))
    return changes


def _fold(rule: str, mine, theirs, theirs_newer: bool):
    if rule == "fill_empty":
        return theirs if mine in (None, "", [], {}) else mine
    if rule == "newest":
        return theirs if theirs_newer else mine
    if rule == "sum":
        return (mine or 0) + (theirs or 0)
    if rule == "union":
        return list(dict.fromkeys([*(mine or []), *(theirs or [])]))
    raise ValidationError(f"Unknown merge_fields rule {rule!r} (fill_empty, newest, sum, union).")


def _delete_rows(journal, relation: Relation, pks: list) -> list[RepairChange]:
    """Delete conflicting loser rows, each journaled as a full copy; refuses if that would delete anything else."""
    model = relation.model
    copies = list(model._base_manager.filter(pk__in=pks).values(*[f.attname for f in model._meta.concrete_fields]))
    delete_alone(model._base_manager.filter(pk__in=pks), refused=f"{relation.label}: the conflicting rows must go")
    return [
        RepairChange(
            journal=journal,
            check_name=relation.label,
            model=model._meta.label_lower,
            object_pk=str(copy[model._meta.pk.attname]),
            action=RepairChange.Action.DELETE_ROW,
            before=to_json(copy),
            after={},
        )
        for copy in copies
    ]


def _update_row(journal, check_name, model, pk, before, after) -> RepairChange:
    return RepairChange(
        journal=journal,
        check_name=check_name,
        model=model._meta.label_lower,
        object_pk=str(pk),
        before=to_json(before),
        after=to_json(after),
    )
