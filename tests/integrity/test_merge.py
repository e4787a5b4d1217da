"""integrity.merge on users: every relation found, rows moved in bulk, conflicts by policy, tombstones, undo."""

from io import StringIO

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.identity import resolve_user
from accounts.models import Invite, User
from archives.models import Activity, Prayer
from integrity import merge, services
from integrity.models import Quarantine, RepairChange, RepairJournal
from tests.accounts.factories import UserFactory
from tests.archives.factories import ActivityFactory, PrayerFactory

pytestmark = pytest.mark.django_db

TABLES = [User, User.groups.through, Prayer, Activity, Invite, LogEntry, Quarantine]


def snapshot():
    """Every row of every table a user merge can touch, row by row."""
    return {model._meta.label: list(model._base_manager.order_by("pk").values()) for model in TABLES}


@pytest.fixture
def pair():
    """Grace (the survivor) and GraceLee (the loser), with a row of every kind of relation a user has."""
    inviter = UserFactory(username="Ruth")
    grace = UserFactory(username="Grace Lee", invited_by=inviter)
    loser = UserFactory(username="GraceLee", invited_by=inviter)
    grace.invited_by = loser  # the survivor was invited by the loser: a self reference once merged
    grace.save(update_fields=["invited_by"])
    both, only_loser = Group.objects.create(name="moderators"), Group.objects.create(name="readers")
    grace.groups.add(both)
    loser.groups.add(both, only_loser)  # moderators: a unique (user, group) conflict; readers: moves
    prayer = PrayerFactory(author=loser)
    ActivityFactory(prayer=prayer, actor=loser)
    ActivityFactory(prayer=PrayerFactory(author=grace), actor=loser)
    UserFactory(username="Invitee", invited_by=loser)
    Invite.objects.create(created_by=loser, token_hash="a" * 64, expires_at=prayer.submitted_at)
    LogEntry.objects.create(user=loser, action_flag=ADDITION, object_repr="something")
    Quarantine.objects.create(source="s", reason="r", payload={}, fingerprint="f" * 64, resolved_by=loser)
    return grace, loser


def test_the_plan_names_every_relation_and_its_rows(pair):
    grace, loser = pair
    plan = merge.plan_merge(survivor=grace, losers=[loser])

    assert plan.ok, plan.refusals
    by_label = {r.label: r for r in plan.relations}
    assert {
        "admin.logentry.user",
        "accounts.user_groups.user",
        "accounts.user.invited_by",
        "accounts.invite.created_by",
        "integrity.quarantine.resolved_by",
        "archives.prayer.author",
        "archives.activity.actor",
    } <= set(by_label)
    assert len(by_label["archives.activity.actor"].move) == 2
    groups = by_label["accounts.user_groups.user"]
    assert (len(groups.move), len(groups.conflicts)) == (1, 1)
    invited = by_label["accounts.user.invited_by"]
    assert [c.pk for c in invited.conflicts] == [grace.pk]  # Grace herself: it would point at her own row
    assert "accounts.user_groups.user: 1 row(s) to move, 1 in conflict (collapse)" in plan.lines()


def test_a_merge_moves_every_row_keeps_audit_rows_and_leaves_a_tombstone(pair):
    grace, loser = pair
    journal = merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))

    assert not Prayer.objects.filter(author=loser).exists()
    assert Activity.objects.filter(actor=grace).count() == 2
    assert User.objects.get(username="Invitee").invited_by == grace
    assert Invite.objects.get().created_by == grace
    assert sorted(grace.groups.values_list("name", flat=True)) == ["moderators", "readers"]
    assert not loser.groups.exists()
    assert LogEntry.objects.get().user == loser  # history stays as it happened
    assert Quarantine.objects.get().resolved_by == loser
    grace.refresh_from_db()
    loser.refresh_from_db()
    assert grace.invited_by is None
    assert (loser.merged_into, loser.is_active) == (grace, False)
    assert resolve_user("GraceLee") == grace  # old names and ids still resolve, to the survivor
    assert resolve_user(loser.external_id) == grace
    assert journal.kind == "merge"
    assert journal.changes.filter(action=RepairChange.Action.DELETE_ROW).count() == 1  # the collapsed membership


def test_undo_puts_back_exactly_the_state_before_the_merge(pair):
    grace, loser = pair
    before = snapshot()
    journal = merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))
    assert snapshot() != before

    services.undo_repair(journal_id=journal.pk)

    assert snapshot() == before


def test_merging_two_losers_at_once_collapses_their_conflicts_with_each_other_too(pair):
    grace, loser = pair
    second = UserFactory(username="G. Lee")
    second.groups.add(Group.objects.get(name="readers"))  # collides with the first loser's row once both move
    before = snapshot()

    journal = merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser, second]))

    assert sorted(grace.groups.values_list("name", flat=True)) == ["moderators", "readers"]
    assert User.objects.filter(merged_into=grace).count() == 2
    services.undo_repair(journal_id=journal.pk)
    assert snapshot() == before


def test_a_conflict_on_a_relation_without_a_policy_refuses_and_names_the_rows(pair, monkeypatch):
    grace, loser = pair
    monkeypatch.setattr(merge, "policy_for", lambda model, field: None)
    plan = merge.plan_merge(survivor=grace, losers=[loser])

    assert not plan.ok
    assert any(
        "accounts.user_groups.user: 1 row(s) would break a unique constraint" in r and "declares no merge policy" in r
        for r in plan.refusals
    )
    with pytest.raises(ValidationError, match="declares no merge policy"):
        merge.execute_merge(plan=plan)
    assert not RepairJournal.objects.exists()


@pytest.mark.parametrize(
    ("survivor", "losers", "message"),
    [
        ("grace", ["grace"], "cannot be merged into itself"),
        ("grace", [], "Choose at least one record"),
    ],
)
def test_impossible_merges_are_refused_with_a_reason(pair, survivor, losers, message):
    people = {"grace": pair[0], "loser": pair[1]}
    plan = merge.plan_merge(survivor=people[survivor], losers=[people[name] for name in losers])
    assert any(message in refusal for refusal in plan.refusals)


def test_a_tombstone_cannot_be_merged_again(pair):
    grace, loser = pair
    merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))
    loser.refresh_from_db()
    plan = merge.plan_merge(survivor=grace, losers=[loser])
    assert f"accounts.user {loser.pk} was already merged into {grace.pk}." in plan.refusals


def test_a_plan_that_went_stale_is_refused(pair):
    grace, loser = pair
    plan = merge.plan_merge(survivor=grace, losers=[loser])
    ActivityFactory(actor=loser)  # a new row after the plan was shown

    with pytest.raises(ValidationError, match="changed since the plan was shown"):
        merge.execute_merge(plan=plan)
    assert Activity.objects.filter(actor=loser).count() == 3


def test_undo_refuses_when_a_moved_row_changed_since_and_changes_nothing(pair):
    grace, loser = pair
    journal = merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))
    moved = Prayer.objects.filter(author=grace).first()
    moved.author = UserFactory()
    moved.save(update_fields=["author"])
    after = snapshot()

    with pytest.raises(ValidationError, match="archives.prayer row"):
        services.undo_repair(journal_id=journal.pk)

    assert snapshot() == after


def queries_to_merge(related_rows: int) -> int:
    grace, loser = UserFactory(), UserFactory()
    prayer = PrayerFactory(author=loser)
    Activity.objects.bulk_create(
        [Activity(prayer=prayer, actor=loser, kind=Activity.Kind.PRAYED, at=prayer.submitted_at)] * related_rows
    )
    with CaptureQueriesContext(connection) as captured:
        merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))
    assert Activity.objects.filter(actor=grace).count() == related_rows
    return len(captured.captured_queries)


def test_the_number_of_queries_depends_on_the_relations_not_the_rows():
    assert queries_to_merge(10) == queries_to_merge(10_000 if connection.vendor == "postgresql" else 2_000)


@pytest.mark.parametrize(
    ("rule", "mine", "theirs", "newer", "result"),
    [
        ("fill_empty", "", "theirs", False, "theirs"),
        ("fill_empty", "mine", "theirs", False, "mine"),
        ("newest", "mine", "theirs", True, "theirs"),
        ("newest", "mine", "theirs", False, "mine"),
        ("sum", 2, 3, False, 5),
        ("union", ["a", "b"], ["b", "c"], False, ["a", "b", "c"]),
    ],
)
def test_merge_fields_rules(rule, mine, theirs, newer, result):
    assert merge._fold(rule, mine, theirs, newer) == result


def test_the_survivor_can_keep_a_losers_value_of_a_declared_field_and_undo_puts_it_back(pair):
    grace, loser = pair
    User.objects.filter(pk=grace.pk).update(email="")
    User.objects.filter(pk=loser.pk).update(email="grace@example.org")
    grace.refresh_from_db()
    loser.refresh_from_db()
    before = snapshot()

    plan = merge.plan_merge(survivor=grace, losers=[loser], take={"email": loser.pk})
    assert plan.differences["email"] == [(grace.pk, ""), (loser.pk, "grace@example.org")]
    journal = merge.execute_merge(plan=plan)

    grace.refresh_from_db()
    assert grace.email == "grace@example.org"
    services.undo_repair(journal_id=journal.pk)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("take", "message"),
    [({"username": "loser"}, "accounts.user.username cannot be chosen"), ({"email": 0}, "#0 is not one of")],
)
def test_only_declared_fields_of_the_merged_records_can_be_chosen(pair, take, message):
    grace, loser = pair
    take = {name: (loser.pk if value == "loser" else value) for name, value in take.items()}
    plan = merge.plan_merge(survivor=grace, losers=[loser], take=take)
    assert any(message in refusal for refusal in plan.refusals)


def test_doctor_finds_rows_made_after_a_merge_that_point_at_the_tombstone_and_heal_moves_them(pair):
    from integrity.integrity import repoint_to_survivors, rows_pointing_at_tombstones

    grace, loser = pair
    merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))
    assert rows_pointing_at_tombstones.find().count == 0
    late = ActivityFactory(actor=loser)  # through an old reference, after the merge
    loser.groups.add(Group.objects.get(name="moderators"))  # in a unique constraint: staff decide

    finding = rows_pointing_at_tombstones.find()
    assert finding.count == 2
    assert f"archives.activity.actor {late.pk}" in finding.sample

    plan = repoint_to_survivors()
    assert [str(change) for change in plan.changes] == [
        f"archives.activity {late.pk}: actor_id {loser.pk} → {grace.pk}"
    ]
    assert any("accounts.user_groups.user" in why and "unique constraint" in why for why in plan.skipped)
    journal = services.apply_plans(plans={"integrity.points_at_tombstone": plan})
    late.refresh_from_db()
    assert late.actor == grace
    services.undo_repair(journal_id=journal.pk)
    late.refresh_from_db()
    assert late.actor == loser


def test_the_merge_command_prints_the_plan_and_merges_only_with_execute(pair):
    grace, loser = pair
    out = StringIO()
    call_command("merge", "accounts.user", "Grace Lee", "GraceLee", stdout=out)
    assert "accounts.user_groups.user: 1 row(s) to move, 1 in conflict (collapse)" in out.getvalue()
    assert "Dry run: nothing changed." in out.getvalue()
    loser.refresh_from_db()
    assert loser.merged_into is None

    out = StringIO()
    call_command("merge", "accounts.user", str(grace.pk), loser.external_id, "--execute", stdout=out)
    loser.refresh_from_db()
    assert loser.merged_into == grace
    journal = RepairJournal.objects.get(kind="merge")
    assert f"Undo it with: manage.py undo_repair {journal.pk}" in out.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.model", "1", "2"], "nope.model: no such model"),
        (["accounts.user", "Grace Lee", "Nobody"], "accounts.user 'Nobody': no such record."),
        (["accounts.user", "Grace Lee", "Grace Lee"], "cannot be merged into itself"),
    ],
)
def test_the_merge_command_refuses_bad_input_clearly(pair, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("merge", *args, stdout=StringIO())
