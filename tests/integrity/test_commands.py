import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.identity import KEY_VERSION
from accounts.models import User
from integrity.models import RepairChange, RepairJournal
from integrity.registry import all_checks
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args):
    stdout, stderr = StringIO(), StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    return stdout.getvalue()


def run_failing(*args):
    stdout = StringIO()
    with pytest.raises(CommandError) as error:
        call_command(*args, stdout=stdout, stderr=StringIO())
    return stdout.getvalue(), error.value


def _stale_users():
    max_, zoe = UserFactory(username="Max"), UserFactory(username="Zoë")
    User.objects.filter(pk=max_.pk).update(username_key="MAX")
    User.objects.filter(pk=zoe.pk).update(username_key_version=KEY_VERSION - 1)
    return max_, zoe


def keys():
    return dict(User.objects.values_list("pk", "username_key"))


def test_doctor_on_clean_data_says_so_and_exits_zero():
    UserFactory()
    assert f"No problems found ({len(all_checks())} checks)." in run("doctor")


def test_doctor_reports_each_finding_with_a_sample_and_a_hint_and_exits_one():
    max_, zoe = _stale_users()
    output, error = run_failing("doctor")
    assert error.returncode == 1
    assert re.search(rf"^accounts\.stale_username_key +2  e\.g\. {max_.pk}, {zoe.pk}$", output, re.MULTILINE)
    assert "manage.py heal --only accounts.stale_username_key" in output
    assert f"2 problem(s) found by 1 of {len(all_checks())} checks." in output


def test_doctor_speaks_json():
    max_, zoe = _stale_users()
    output, _ = run_failing("doctor", "--format", "json")
    report = json.loads(output)
    assert report["problems"] == 2
    stale = next(c for c in report["checks"] if c["name"] == "accounts.stale_username_key")
    assert stale == {
        "name": "accounts.stale_username_key",
        "description": "Users whose stored username_key is not the key of their name at the current KEY_VERSION.",
        "count": 2,
        "sample": [max_.pk, zoe.pk],
        "hint": "Run `manage.py heal --only accounts.stale_username_key` to recompute.",
        "fixable": True,
    }


def test_doctor_only_and_exclude_pick_checks():
    _stale_users()
    assert "No problems found (1 checks)." in run("doctor", "--only", "accounts.invite_cycle")
    others = len(all_checks()) - 1
    assert f"No problems found ({others} checks)." in run("doctor", "--exclude", "accounts.stale_username_key")
    _, error = run_failing("doctor", "--only", "accounts")
    assert error.returncode == 1


def test_doctor_refuses_an_unknown_check_and_lists_the_valid_names():
    _, error = run_failing("doctor", "--only", "nosuchcheck")
    assert error.returncode == 2  # a usage error, not "problems found"
    assert "Unknown check nosuchcheck. Valid names: accounts.dangling_inviter, accounts.invite_cycle" in str(error)


def test_heal_is_a_dry_run_by_default():
    max_, _ = _stale_users()
    before = keys()
    output = run("heal")
    assert f"accounts.user {max_.pk}: username_key 'MAX' → 'max'" in output
    assert "Dry run: nothing changed. Run again with --execute to apply 2 change(s)." in output
    assert keys() == before
    assert not RepairJournal.objects.exists()


def test_heal_execute_then_undo_round_trips():
    max_, zoe = _stale_users()
    before = list(User.objects.order_by("pk").values())

    output = run("heal", "--execute", "--batch-size", "1")
    journal = RepairJournal.objects.get()
    assert f"Repair #{journal.pk}: 2 change(s) applied, 0 skipped." in output
    assert f"manage.py undo_repair {journal.pk}" in output
    assert journal.status == RepairJournal.Status.APPLIED
    assert journal.summary == {"accounts.stale_username_key": {"changed": 2, "skipped": 0}}
    assert keys()[max_.pk] == "max"
    assert RepairChange.objects.filter(journal=journal).count() == 2
    assert "No problems found" in run("doctor")

    assert f"Repair #{journal.pk} undone: 2 row(s) restored." in run("undo_repair", str(journal.pk))
    assert list(User.objects.order_by("pk").values()) == before
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.UNDONE


def test_heal_with_nothing_to_do_writes_no_journal():
    UserFactory()
    assert "Nothing to heal." in run("heal", "--execute")
    assert not RepairJournal.objects.exists()


def test_undo_repair_dry_run_lists_what_it_would_restore():
    max_, _ = _stale_users()
    run("heal", "--execute")
    journal = RepairJournal.objects.get()
    output = run("undo_repair", str(journal.pk), "--dry-run")
    assert f"accounts.user {max_.pk}:" in output
    assert f"Dry run: would undo repair #{journal.pk}: 2 row(s) restored." in output
    assert keys()[max_.pk] == "max"


def test_undo_repair_of_an_unknown_id_is_a_clear_error():
    _, error = run_failing("undo_repair", "12345")
    assert str(error) == "Repair #12345 does not exist."


def test_undo_repair_twice_is_refused():
    _stale_users()
    run("heal", "--execute")
    journal = RepairJournal.objects.get()
    run("undo_repair", str(journal.pk))
    _, error = run_failing("undo_repair", str(journal.pk))
    assert str(error) == f"Repair #{journal.pk} cannot be undone: it is undone."


def test_undo_repair_refuses_when_a_row_changed_since_and_undoes_nothing():
    max_, zoe = _stale_users()
    run("heal", "--execute")
    journal = RepairJournal.objects.get()
    User.objects.filter(pk=max_.pk).update(username="Maxwell", username_key="maxwell")
    after_heal = keys()

    _, error = run_failing("undo_repair", str(journal.pk))

    assert f"accounts.user {max_.pk} has changed since the repair" in str(error)
    assert keys() == after_heal
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED
