import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from integrity import services
from integrity.models import Quarantine, RepairJournal
from integrity.registry import Change, Plan
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def rename_key(user, old, new):
    return Change(model=User, pk=user.pk, before={"username_key": old}, after={"username_key": new})


def test_a_change_to_a_row_that_moved_on_since_planning_is_skipped_not_forced():
    a, b = UserFactory(username="A1"), UserFactory(username="B1")
    plan = Plan(changes=[rename_key(a, "a1", "x"), rename_key(b, "something else", "y")])

    journal = services.apply_plans(plans={"test.check": plan})

    assert journal.summary == {"test.check": {"changed": 1, "skipped": 1}}
    assert list(journal.changes.values_list("object_pk", flat=True)) == [str(a.pk)]
    b.refresh_from_db()
    assert b.username_key == "b1"


def test_a_failing_batch_marks_the_journal_failed_and_keeps_earlier_batches():
    a, b, c = UserFactory(username="A1"), UserFactory(username="B1"), UserFactory(username="C1")
    # The second batch collides with a's new key on the unique constraint.
    plan = Plan(changes=[rename_key(a, "a1", "x"), rename_key(b, "b1", "y"), rename_key(c, "c1", "x")])

    with pytest.raises(Exception):  # noqa: B017, PT011 - the database's IntegrityError
        services.apply_plans(plans={"test.check": plan}, batch_size=2)

    journal = RepairJournal.objects.get()
    assert journal.status == RepairJournal.Status.FAILED
    assert journal.changes.count() == 2
    assert sorted(User.objects.values_list("username_key", flat=True)) == ["c1", "x", "y"]
    services.undo_repair(journal_id=journal.pk)
    assert sorted(User.objects.values_list("username_key", flat=True)) == ["a1", "b1", "c1"]


def test_quarantining_the_same_record_twice_stores_it_once():
    first, created = services.quarantine(source="thywill:a.txt:3", reason="unknown_line", payload={"line": "x"})
    again, created_again = services.quarantine(source="thywill:a.txt:3", reason="unknown_line", payload={"line": "x"})
    other, _ = services.quarantine(source="thywill:a.txt:4", reason="unknown_line", payload={"line": "x"})
    assert (created, created_again) == (True, False)
    assert first == again != other
    assert Quarantine.objects.count() == 2
    assert first.status == Quarantine.Status.OPEN


def test_only_heals_imports_and_merges_can_be_undone():
    journal = RepairJournal.objects.create(kind="export", status=RepairJournal.Status.APPLIED)
    with pytest.raises(
        ValidationError, match=r"\(export\) cannot be undone: only heals, imports, merges and reviews can"
    ):
        services.undo_repair(journal_id=journal.pk)
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED


@pytest.mark.parametrize(
    ("pks", "ranges"),
    [([], []), ([7], [[7, 7]]), ([1, 2, 3, 5, 6, 9], [[1, 3], [5, 6], [9, 9]])],
)
def test_pk_ranges_are_runs_of_consecutive_pks(pks, ranges):
    assert services.pk_ranges(pks) == ranges


def test_a_journal_that_kept_counts_only_is_not_undone_as_if_it_had_restored_something():
    journal = RepairJournal.objects.create(
        kind="import", status=RepairJournal.Status.APPLIED, description="import_alwrity x.db", summary={"created": 3}
    )
    with pytest.raises(ValidationError, match="recorded counts \\(import_alwrity x.db\\), not the rows it changed"):
        services.undo_repair(journal_id=journal.pk)
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED
