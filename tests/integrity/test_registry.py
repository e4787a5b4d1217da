import pytest

from integrity.registry import Finding, UnknownCheck, all_checks, select_checks


def names(checks):
    return [c.name for c in checks]


def test_checks_are_discovered_from_each_apps_integrity_module():
    assert set(names(all_checks())) >= {
        "accounts.dangling_inviter",
        "accounts.invite_cycle",
        "accounts.possible_duplicate_user",
        "accounts.stale_username_key",
        "archives.missing_archive_file",
        "archives.stale_prayer_state",
    }


def test_only_takes_full_names_or_app_labels():
    assert names(select_checks(only=["accounts.invite_cycle"])) == ["accounts.invite_cycle"]
    assert len(select_checks(only=["accounts"])) == 4


def test_exclude_removes_checks():
    assert "accounts.invite_cycle" not in names(select_checks(exclude=["accounts.invite_cycle"]))
    assert {c.app_label for c in select_checks(exclude=["accounts"])} == {c.app_label for c in all_checks()} - {
        "accounts"
    }


@pytest.mark.parametrize("selection", [{"only": ["nosuchcheck"]}, {"exclude": ["accounts.nope"]}])
def test_an_unknown_name_is_refused_with_the_valid_ones(selection):
    with pytest.raises(UnknownCheck, match=r"Valid names: accounts\.dangling_inviter, .*accounts\.stale_username_key"):
        select_checks(**selection)


@pytest.mark.django_db
def test_a_finding_from_a_queryset_counts_everything_and_samples_ten(django_assert_num_queries):
    from tests.accounts.factories import UserFactory

    users = UserFactory.create_batch(12)
    from accounts.models import User

    with django_assert_num_queries(2):
        finding = Finding.from_queryset(User.objects.all())
    assert finding.count == 12
    assert finding.sample == [u.pk for u in users[:10]]
