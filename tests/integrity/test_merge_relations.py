"""The merge engine on every kind of relation and conflict (tests/mergeapp): one-to-one records merged in turn,
custom and auto many-to-many through tables, a partial unique constraint, a generic foreign key; then undo."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from accounts.models import User
from integrity import merge, services
from tests.accounts.factories import UserFactory
from tests.mergeapp.models import Chat, Club, Doc, Membership, Note, Workspace

pytestmark = pytest.mark.django_db

TABLES = [User, Workspace, Doc, Club, Membership, Club.followers.through, Chat, Note]


def snapshot():
    return {model._meta.label: list(model._base_manager.order_by("pk").values()) for model in TABLES}


def note_on(record, text):
    content_type = ContentType.objects.get_for_model(record)
    return Note.objects.create(content_type=content_type, object_id=str(record.pk), text=text)


@pytest.fixture
def pair():
    grace, loser = UserFactory(username="Grace Lee"), UserFactory(username="GraceLee")
    mine, theirs = Workspace.objects.create(owner=grace, title="mine"), Workspace.objects.create(owner=loser)
    Doc.objects.create(workspace=mine, slug="plan", body="", words=3)
    Doc.objects.create(workspace=theirs, slug="plan", body="Their plan", words=4)  # collides: folded into mine
    Doc.objects.create(workspace=theirs, slug="notes", body="n", words=1)  # moves
    choir, chess = Club.objects.create(name="choir"), Club.objects.create(name="chess")
    Membership.objects.create(club=choir, person=grace, role="")
    Membership.objects.create(club=choir, person=loser, role="chair")  # collides: role filled in
    Membership.objects.create(club=chess, person=loser, role="member")  # moves
    choir.followers.add(grace, loser)  # collides in the auto through table: collapsed
    chess.followers.add(loser)
    Chat.objects.create(user=grace)
    Chat.objects.create(user=loser)  # two active chats once merged: the loser's is marked merged
    Chat.objects.create(user=loser, status="ended")
    note_on(loser, "about the loser")  # a generic foreign key
    note_on(theirs, "about their workspace")
    return grace, loser


def test_the_plan_finds_every_kind_of_relation_with_its_conflicts(pair):
    grace, loser = pair
    plan = merge.plan_merge(survivor=grace, losers=[loser])

    assert plan.ok, plan.refusals
    found = {r.label: (len(r.move), len(r.conflicts), getattr(r.policy, "name", None)) for r in plan.relations}
    assert found["mergeapp.workspace.owner"] == (0, 1, "merge_records")
    assert found["mergeapp.membership.person"] == (1, 1, "merge_fields")
    assert found["mergeapp.club_followers.user"] == (1, 1, "collapse")
    assert found["mergeapp.chat.user"] == (1, 1, "reassign")
    assert found["mergeapp.note.target"] == (1, 0, None)


def test_a_merge_resolves_each_conflict_by_its_policy(pair):
    grace, loser = pair
    merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))

    mine, theirs = Workspace.objects.get(owner=grace), Workspace.objects.get(owner=loser)
    assert theirs.merged_into == mine  # merged record into record, kept as a tombstone
    assert sorted(mine.docs.values_list("slug", "body", "words")) == [("notes", "n", 1), ("plan", "Their plan", 7)]
    assert not theirs.docs.exists()
    assert dict(Membership.objects.filter(person=grace).values_list("club__name", "role")) == {
        "choir": "chair",
        "chess": "member",
    }
    assert sorted(grace.followed_clubs.values_list("name", flat=True)) == ["chess", "choir"]
    assert not loser.followed_clubs.exists()
    assert sorted(Chat.objects.filter(user=grace).values_list("status", flat=True)) == ["active", "ended", "merged"]
    assert Note.objects.get(text="about the loser").target == grace
    assert Note.objects.get(text="about their workspace").target == mine


def test_undo_restores_every_row_of_every_table(pair):
    grace, loser = pair
    before = snapshot()
    journal = merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))
    assert snapshot() != before

    services.undo_repair(journal_id=journal.pk)

    assert snapshot() == before


def test_a_nested_merge_that_cannot_be_done_refuses_the_whole_merge(pair):
    grace, loser = pair
    Workspace.objects.filter(owner=loser).update(merged_into=Workspace.objects.get(owner=grace))
    before = snapshot()

    with pytest.raises(ValidationError, match="was already merged"):
        merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[loser]))

    assert snapshot() == before
