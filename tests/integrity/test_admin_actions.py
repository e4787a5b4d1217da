"""The admin's "Merge selected" (plan page, confirm, journal link, log entries) and the journal's "Undo"."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from archives.models import Activity, Prayer
from integrity import merge, services
from integrity.integrity import delete_old_doctor_runs, old_doctor_runs
from integrity.models import DoctorRun, Quarantine, RepairJournal
from tests.accounts.factories import UserFactory
from tests.archives.factories import ActivityFactory, PrayerFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


@pytest.fixture
def staff(client_for):
    return client_for(UserFactory(username="Admin", is_staff=True, is_superuser=True))


@pytest.fixture
def pair():
    grace, loser = UserFactory(username="Grace Lee"), UserFactory(username="GraceLee")
    ActivityFactory(prayer=PrayerFactory(author=loser), actor=loser)
    return grace, loser


def post_action(client, action, pks, **extra):
    return client.post(USERS, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}, follow=True)


def plan_token(page: str) -> str:
    return re.search(r'name="plan" value="([0-9a-f]{64})"', page).group(1)


def rows():
    return (
        list(User.objects.order_by("pk").values()),
        list(Prayer.objects.order_by("pk").values()),
        list(Activity.objects.order_by("pk").values()),
    )


def test_the_action_shows_the_plan_first_and_changes_nothing(staff, pair):
    grace, loser = pair
    before = rows()
    page = post_action(staff, "merge_selected", [grace.pk, loser.pk]).content.decode()

    assert "Which user stays?" in page
    assert "archives.activity.actor" in page
    assert "archives.prayer.author" in page
    assert "Yes, merge them" in page
    assert rows() == before


def test_confirming_merges_logs_and_links_the_journal(staff, pair):
    grace, loser = pair
    page = post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk).content.decode()

    response = post_action(
        staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk, confirm="yes", plan=plan_token(page)
    )

    loser.refresh_from_db()
    assert loser.merged_into == grace
    assert Prayer.objects.get().author == grace
    journal = RepairJournal.objects.get(kind="merge")
    text = response.content.decode()
    assert f"/admin/integrity/repairjournal/{journal.pk}/change/" in text
    assert "Merged GraceLee into Grace Lee" in text
    assert set(LogEntry.objects.values_list("object_id", flat=True)) == {str(grace.pk), str(loser.pk)}


def test_the_survivor_is_the_one_chosen(staff, pair):
    grace, loser = pair
    page = post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=loser.pk).content.decode()
    post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=loser.pk, confirm="yes", plan=plan_token(page))
    grace.refresh_from_db()
    assert grace.merged_into == loser


def test_a_plan_that_went_stale_is_shown_again_not_executed(staff, pair):
    grace, loser = pair
    page = post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk).content.decode()
    ActivityFactory(actor=loser)

    response = post_action(
        staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk, confirm="yes", plan=plan_token(page)
    )

    assert "The data changed since the plan was shown" in response.content.decode()
    assert not RepairJournal.objects.exists()
    loser.refresh_from_db()
    assert loser.merged_into is None


def test_staff_without_the_merge_permission_are_refused(client_for, pair):
    grace, loser = pair
    clerk = UserFactory(username="Clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user", "delete_user"]))
    response = post_action(client_for(clerk), "merge_selected", [grace.pk, loser.pk], survivor=grace.pk)
    assert response.status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="merge_user"))
    response = post_action(client_for(clerk), "merge_selected", [grace.pk, loser.pk], survivor=grace.pk)
    assert "Yes, merge them" in response.content.decode()


def test_one_record_is_not_a_merge(staff, pair):
    response = post_action(staff, "merge_selected", [pair[0].pk])
    assert "Select at least two records to merge." in response.content.decode()


def test_undo_from_the_journal_shows_what_it_restores_then_restores_it(staff, pair):
    grace, loser = pair
    before = rows()
    page = post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk).content.decode()
    post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk, confirm="yes", plan=plan_token(page))
    journal = RepairJournal.objects.get(kind="merge")
    url = "/admin/integrity/repairjournal/"
    form = {"action": "undo_selected", "_selected_action": [str(journal.pk)]}

    page = staff.post(url, form).content.decode()
    assert "point 1 archives.prayer row(s) back" in page
    assert rows()[1:] != before[1:]

    response = staff.post(url, {**form, "confirm": "yes"}, follow=True)

    assert f"Undid repair #{journal.pk}" in re.sub(r"<[^>]+>", "", response.content.decode())
    users, prayers, activities = rows()
    assert (prayers, activities) == before[1:]
    assert [u for u in users if u["id"] != staff_user_id(users)] == [
        u for u in before[0] if u["id"] != staff_user_id(users)
    ]


def staff_user_id(users):
    return next(u["id"] for u in users if u["username"] == "Admin")


# --- Review queues ---------------------------------------------------------------------------------------------

QUARANTINE = "/admin/integrity/quarantine/"


def quarantined(n):
    return [
        services.quarantine(source=f"thywill:x.txt:{i}", reason="placeholder_actor", payload={"i": i})[0]
        for i in range(n)
    ]


@pytest.mark.parametrize(("action", "status"), [("mark_reviewed", "resolved"), ("discard", "discarded")])
def test_reviewing_quarantine_records_is_journaled_and_undo_reopens_them(staff, action, status):
    first, second, untouched = quarantined(3)
    response = staff.post(QUARANTINE, {"action": action, "_selected_action": [first.pk, second.pk]}, follow=True)

    assert "2 record(s)" in response.content.decode()
    assert set(Quarantine.objects.filter(status=status).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Quarantine.objects.get(pk=untouched.pk).status == "open"
    assert Quarantine.objects.get(pk=first.pk).resolved_by.username == "Admin"
    journal = RepairJournal.objects.get(kind="review")

    staff.post(
        "/admin/integrity/repairjournal/",
        {"action": "undo_selected", "_selected_action": [journal.pk], "confirm": "yes"},
    )

    assert set(Quarantine.objects.values_list("status", flat=True)) == {"open"}
    assert not Quarantine.objects.filter(resolved_by__isnull=False).exists()


def test_quarantine_records_cannot_be_deleted_only_discarded(staff):
    (record,) = quarantined(1)
    assert staff.get(f"{QUARANTINE}{record.pk}/delete/").status_code == 403


def test_doctor_runs_are_kept_and_the_admin_shows_findings_with_their_fix_plan(staff):
    stale = UserFactory(username="Max")
    User.objects.filter(pk=stale.pk).update(username_key="MAX")  # a stale key, which heal recomputes
    with pytest.raises(CommandError):
        call_command("doctor", stdout=StringIO())
    run = DoctorRun.objects.get()
    assert run.problems >= 1

    page = staff.get(f"/admin/integrity/doctorrun/{run.pk}/change/").content.decode()

    assert "accounts.stale_username_key" in page
    assert f"accounts.user {stale.pk}: username_key &#x27;MAX&#x27; → &#x27;max&#x27;" in page


def test_doctor_no_record_keeps_nothing():
    call_command("doctor", "--no-record", stdout=StringIO())
    assert not DoctorRun.objects.exists()


def test_the_possible_duplicates_filter_lists_names_equal_without_spaces_until_merged(staff):
    grace, gracelee, other = (
        UserFactory(username="Grace Lee"),
        UserFactory(username="GraceLee"),
        UserFactory(username="Ruth"),
    )
    page = staff.get(f"{USERS}?duplicates=yes").content.decode()
    assert f"/admin/accounts/user/{grace.pk}/change/" in page
    assert f"/admin/accounts/user/{gracelee.pk}/change/" in page
    assert f"/admin/accounts/user/{other.pk}/change/" not in page

    merge.execute_merge(plan=merge.plan_merge(survivor=grace, losers=[gracelee]))

    page = staff.get(f"{USERS}?duplicates=yes").content.decode()
    assert f"/admin/accounts/user/{grace.pk}/change/" not in page


def test_the_plan_page_offers_the_differing_fields_and_the_choice_is_applied(staff, pair):
    grace, loser = pair
    User.objects.filter(pk=loser.pk).update(first_name="Grace", email="grace@example.org")
    page = post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk).content.decode()
    assert 'name="take_email"' in page
    assert 'name="take_username"' not in page

    page = post_action(
        staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk, take_email=loser.pk
    ).content.decode()
    post_action(
        staff,
        "merge_selected",
        [grace.pk, loser.pk],
        survivor=grace.pk,
        take_email=loser.pk,
        confirm="yes",
        plan=plan_token(page),
    )

    grace.refresh_from_db()
    assert (grace.email, grace.first_name) == ("grace@example.org", "")


# --- Attaching quarantined records ----------------------------------------------------------------------------

THYWILL = Path(__file__).resolve().parents[1] / "fixtures" / "thywill" / "text_archives"


def attach(client, record, name):
    form = {"action": "attach_to_user", "_selected_action": [record.pk], "confirm": "yes", "user": name}
    return client.post(QUARANTINE, form, follow=True)


def test_an_unregistered_name_is_attached_to_the_person_it_is_and_undo_takes_it_back(staff):
    call_command("import_archives", str(THYWILL), "--execute", stdout=StringIO())
    record = Quarantine.objects.get(reason="unregistered_user", payload__username_key="mary")
    mary, mary_ann = User.objects.get(username_key="mary"), User.objects.get(username_key="mary ann")
    marys_events = Activity.objects.filter(actor=mary).count()
    assert marys_events
    before = rows()

    page = staff.post(QUARANTINE, {"action": "attach_to_user", "_selected_action": [record.pk]}).content.decode()
    assert "Whom does it belong to?" in page
    response = attach(staff, record, "Mary Ann")

    assert "Attached #" in re.sub(r"<[^>]+>", "", response.content.decode())
    record.refresh_from_db()
    mary.refresh_from_db()
    assert (record.status, mary.merged_into) == ("resolved", mary_ann)
    assert not Activity.objects.filter(actor=mary).exists()
    journal = RepairJournal.objects.get(kind="merge")

    services.undo_repair(journal_id=journal.pk)

    record.refresh_from_db()
    assert record.status == "open"
    assert rows()[1:] == before[1:]


def test_a_record_no_app_can_attach_says_so_and_changes_nothing(staff):
    call_command("import_archives", str(THYWILL), "--execute", stdout=StringIO())
    record = Quarantine.objects.filter(reason="placeholder_actor").first()
    before = rows()

    page = attach(staff, record, "Mary Ann").content.decode()

    assert "Records of reason placeholder_actor cannot be attached to a user yet" in page
    assert rows() == before
    record.refresh_from_db()
    assert record.status == "open"


def test_attaching_to_nobody_is_a_form_error(staff):
    call_command("import_archives", str(THYWILL), "--execute", stdout=StringIO())
    record = Quarantine.objects.get(reason="unregistered_user", payload__username_key="mary")
    page = attach(staff, record, "Nobody At All").content.decode()
    assert "No user is called or has the id &#x27;Nobody At All&#x27;." in page


def test_doctor_runs_beyond_the_newest_hundred_are_found_and_heal_deletes_them_undoably():
    runs = [services.record_doctor_run(results=[]) for _ in range(102)]
    assert old_doctor_runs.find().count == 2
    journal = services.apply_plans(plans={"integrity.old_doctor_run": delete_old_doctor_runs()})
    assert DoctorRun.objects.count() == 100
    assert not DoctorRun.objects.filter(pk__in=[runs[0].pk, runs[1].pk]).exists()
    services.undo_repair(journal_id=journal.pk)
    assert DoctorRun.objects.count() == 102


def test_the_plan_page_says_move_for_a_relation_without_conflicts_and_names_the_policy_of_one_with(staff, pair):
    grace, loser = pair
    page = post_action(staff, "merge_selected", [grace.pk, loser.pk], survivor=grace.pk).content.decode()
    row = re.search(r"<td>archives\.prayer\.author</td>.*?</tr>", page, re.S).group(0)
    assert "<td>move</td>" in row
