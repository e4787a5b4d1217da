import pytest

from accounts import integrity
from accounts.identity import KEY_VERSION
from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _make_stale(user, key="stale", version=KEY_VERSION):
    User.objects.filter(pk=user.pk).update(username_key=key, username_key_version=version)


def _make_users(start, stop):
    """Rows with every defect kind: stale keys, space-only duplicates, an invite cycle, a dangling inviter."""
    users = User.objects.bulk_create(
        User(username=f"Member {n}", username_key=f"member {n}", external_id=f"bulk:{n}") for n in range(start, stop)
    )
    twins = User.objects.bulk_create(
        User(username=f"Member{n}", username_key=f"member{n}", external_id=f"bulk:{n}x") for n in range(start, stop, 5)
    )
    User.objects.filter(pk__in=[u.pk for u in users[::3]]).update(username_key_version=KEY_VERSION - 1)
    for parent, child in zip(users, users[1:] + users[:1], strict=True):
        child.invited_by = parent
    User.objects.bulk_update(users, ["invited_by"])
    # Foreign keys are checked at commit, and the test's transaction never commits.
    User.objects.filter(pk=twins[0].pk).update(invited_by_id=10**9)


def test_a_stale_key_is_found_and_its_fix_recomputes_it():
    fresh, wrong_key, old_version = UserFactory(), UserFactory(username="Max"), UserFactory(username="Zoë")
    _make_stale(wrong_key, key="MAX")
    _make_stale(old_version, key="zoë", version=KEY_VERSION - 1)

    finding = integrity.stale_username_keys.find()
    assert (finding.count, finding.sample) == (2, [wrong_key.pk, old_version.pk])

    plan = integrity.stale_username_keys.plan_fix()
    assert [(c.pk, c.after) for c in plan.changes] == [
        (wrong_key.pk, {"username_key": "max", "username_key_version": KEY_VERSION}),
        (old_version.pk, {"username_key": "zoë", "username_key_version": KEY_VERSION}),
    ]
    assert fresh.pk not in [c.pk for c in plan.changes]


def test_a_recomputed_key_that_another_user_holds_is_skipped_with_a_reason():
    holder = UserFactory(username="Max")
    stale = UserFactory(username="Other")
    # As if the name had been changed behind the model's back: "MAX" whose key is still "other".
    User.objects.filter(pk=stale.pk).update(username="MAX")

    plan = integrity.stale_username_keys.plan_fix()

    assert plan.changes == []
    assert plan.skipped == [
        f"accounts.user {stale.pk}: its current key 'max' belongs to user {holder.pk}; "
        "they are probably one person (merge them, then heal again)."
    ]


def test_names_equal_without_spaces_are_possible_duplicates():
    grace, gracelee, _ = (
        UserFactory(username="Grace Lee"),
        UserFactory(username="GraceLee"),
        UserFactory(username="Max"),
    )
    finding = integrity.possible_duplicate_users.find()
    assert (finding.count, finding.sample) == (2, [grace.pk, gracelee.pk])
    assert integrity.possible_duplicate_users.plan_fix is None


def test_an_inviter_that_does_not_exist_is_found(user):
    # Foreign keys are checked at commit; inside the test's transaction the row may dangle, as
    # it can in a database that was loaded with constraints off.
    invitee = UserFactory(invited_by=user)
    User.objects.filter(pk=invitee.pk).update(invited_by_id=999_999)
    finding = integrity.dangling_inviters.find()
    assert (finding.count, finding.sample) == (1, [invitee.pk])
    User.objects.filter(pk=invitee.pk).update(invited_by_id=user.pk)


def test_invite_cycles_are_found_but_chains_that_end_are_not():
    root = UserFactory()
    a, b, c = UserFactory(invited_by=root), UserFactory(), UserFactory()
    tail = UserFactory(invited_by=c)  # leads into the cycle but is not on it
    User.objects.filter(pk=b.pk).update(invited_by=a)
    User.objects.filter(pk=c.pk).update(invited_by=b)
    User.objects.filter(pk=a.pk).update(invited_by=c)  # a → c → b → a

    finding = integrity.invite_cycles.find()

    assert (finding.count, finding.sample) == (3, sorted([a.pk, b.pk, c.pk]))
    assert tail.pk not in finding.sample


def test_a_user_cannot_invite_themselves(user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(invited_by=user)


CHECKS = [
    integrity.stale_username_keys,
    integrity.possible_duplicate_users,
    integrity.dangling_inviters,
    integrity.invite_cycles,
]


@pytest.fixture
def _restore_dangling_inviters():
    yield
    # The test database checks foreign keys at teardown: put the dangling rows right again.
    User.objects.filter(invited_by_id=10**9).update(invited_by=None)


@pytest.mark.usefixtures("_restore_dangling_inviters")
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_a_checks_query_count_does_not_grow_with_the_number_of_rows(check, django_assert_max_num_queries):
    _make_users(0, 10)
    with django_assert_max_num_queries(2) as small:
        assert check.find().count
    _make_users(10, 1000)
    with django_assert_max_num_queries(2) as large:
        assert check.find().count
    assert len(large.captured_queries) == len(small.captured_queries)
