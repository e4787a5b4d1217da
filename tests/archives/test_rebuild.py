"""A full rebuild: a community built through the pages comes back from its text archive alone."""

import re
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from accounts.models import Invite, User
from archives.models import Activity, Prayer
from integrity.models import Quarantine, RepairJournal

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase"


def sign_up(inviter_client, name):
    page = inviter_client.post("/invites/", {"expires_in_days": 7, "max_uses": 1}).content.decode()
    link = re.search(r'value="https?://[^/]+(/join/[^"]+)"', page).group(1)
    client = Client()
    response = client.post(link, {"username": name, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def archive_id_of(request_text):
    return Prayer.objects.get(request=request_text).archive_id


def build_community():
    founder = User.objects.create_superuser(username="Founder", email="", password=PASSWORD)
    alice = Client()
    alice.force_login(founder)
    bob = sign_up(alice, "Bob")
    zoe = sign_up(bob, "Zoë Smith")
    alice.post("/invites/", {"expires_in_days": 3, "max_uses": 5})  # an unused invite
    alice.post("/prayers/", {"request": "For my mother.\n\nShe is ill.", "generated_prayer": "Lord, heal her."})
    bob.post("/prayers/", {"request": "Activity:\nA request with an odd line", "generated_prayer": ""})
    mother, odd = archive_id_of("For my mother.\n\nShe is ill."), archive_id_of("Activity:\nA request with an odd line")
    for client in (bob, zoe, zoe):
        client.post(f"/prayers/{mother}/pray/")
    alice.post(f"/prayers/{mother}/answer/", {"testimony": "She is home.\nThank you."})
    zoe.post(f"/prayers/{odd}/flag/")
    bob.post(f"/prayers/{odd}/archive/")
    bob.post(f"/prayers/{odd}/restore/")
    bob.post(f"/prayers/{odd}/archive/")
    staff_form = {
        "username": "Bobby",
        "external_id": User.objects.get(username="Bob").external_id,
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "00:00:00",
    }
    response = alice.post(f"/admin/accounts/user/{User.objects.get(username='Bob').pk}/change/", staff_form)
    assert response.status_code == 302


def ordered(rows):
    """Sorted whatever holds None (a placeholder author or actor)."""
    return sorted(rows, key=lambda row: [(value is None, str(value)) for value in row])


def state():
    def ext(user):
        return user.external_id if user else None

    return {
        "users": ordered(
            (
                u.external_id,
                u.username,
                u.username_key,
                ext(u.invited_by),
                u.is_staff,
                u.is_superuser,
                u.is_active,
                ext(u.merged_into),
            )
            for u in User.objects.select_related("invited_by", "merged_into")
        ),
        "invites": ordered(
            (i.token_hash, ext(i.created_by), i.expires_at, i.max_uses, i.uses)
            for i in Invite.objects.select_related("created_by")
        ),
        "prayers": ordered(
            (
                p.archive_id,
                ext(p.author),
                p.request,
                p.generated_prayer,
                p.submitted_at,
                p.is_answered,
                p.is_archived,
                p.testimony,
                p.archive_path,
            )
            for p in Prayer.objects.select_related("author")
        ),
        "activities": ordered(
            (a.prayer.archive_id, a.kind, ext(a.actor), a.at, a.text)
            for a in Activity.objects.select_related("prayer", "actor")
        ),
    }


def wipe_database():
    Activity.objects.all().delete()
    Prayer.objects.all().delete()
    Quarantine.objects.all().delete()
    RepairJournal.objects.all().delete()
    User.objects.update(invited_by=None, joined_via=None, merged_into=None)
    Invite.objects.all().delete()
    User.objects.all().delete()


def test_an_empty_database_rebuilt_from_the_archive_root_equals_the_live_one(archive_root):
    build_community()
    live = state()
    assert len(live["users"]) == 3
    assert len(live["activities"]) == 9  # 3 prayed, answered + testimony, flagged, archived, restored, archived

    wipe_database()
    call_command("import_archives", str(archive_root), "--execute", stdout=StringIO())

    rebuilt = state()
    for table, rows in live.items():
        assert set(rebuilt[table]) ^ set(rows) == set(), table
    assert rebuilt == live
    assert not Quarantine.objects.exists()


def test_rebuilding_twice_changes_nothing_the_second_time(archive_root):
    build_community()
    wipe_database()
    call_command("import_archives", str(archive_root), "--execute", stdout=StringIO())
    rebuilt = state()
    out = StringIO()
    call_command("import_archives", str(archive_root), "--execute", stdout=out)
    assert "Nothing new" in out.getvalue()
    assert state() == rebuilt


def merge_through_the_admin(admin, survivor_name, loser_name):
    survivor, loser = User.objects.get(username=survivor_name), User.objects.get(username=loser_name)
    form = {"action": "merge_selected", "_selected_action": [survivor.pk, loser.pk], "survivor": survivor.pk}
    page = admin.post("/admin/accounts/user/", form).content.decode()
    token = re.search(r'name="plan" value="([0-9a-f]{64})"', page).group(1)
    response = admin.post("/admin/accounts/user/", {**form, "confirm": "yes", "plan": token})
    assert response.status_code == 302
    return RepairJournal.objects.filter(kind="merge").latest("pk")


def build_community_with_a_duplicate():
    """The community, plus Zoë's second account: it invited Kim, asked for prayer and prayed."""
    build_community()
    admin = Client()
    admin.force_login(User.objects.get(username="Founder"))
    bob = Client()
    bob.force_login(User.objects.get(username="Bobby"))
    zoe_again = sign_up(bob, "Zoe S")
    sign_up(zoe_again, "Kim")
    zoe_again.post("/prayers/", {"request": "For my exams.", "generated_prayer": ""})
    mother = archive_id_of("For my mother.\n\nShe is ill.")
    zoe_again.post(f"/prayers/{mother}/pray/")
    return admin


def test_a_merge_made_in_the_admin_comes_back_from_the_archive(archive_root):
    admin = build_community_with_a_duplicate()
    merge_through_the_admin(admin, "Zoë Smith", "Zoe S")
    live = state()
    zoe = User.objects.get(username="Zoë Smith").external_id
    assert [u for u in live["users"] if u[1] == "Kim"][0][3] == zoe  # Kim's inviter moved to the survivor
    assert [p for p in live["prayers"] if p[2] == "For my exams."][0][1] == zoe

    wipe_database()
    call_command("import_archives", str(archive_root), "--execute", stdout=StringIO())

    assert state() == live


def test_an_undone_merge_comes_back_from_the_archive_undone(archive_root):
    admin = build_community_with_a_duplicate()
    before = state()
    journal = merge_through_the_admin(admin, "Zoë Smith", "Zoe S")
    call_command("undo_repair", str(journal.pk), stdout=StringIO())
    assert state() == before

    wipe_database()
    call_command("import_archives", str(archive_root), "--execute", stdout=StringIO())

    assert state() == before


def test_a_merge_of_two_users_a_thywill_import_made_comes_back_from_the_archive(archive_root):
    thywill = Path(__file__).resolve().parents[1] / "fixtures" / "thywill" / "text_archives"
    call_command("import_archives", str(thywill), "--execute", stdout=StringIO())
    admin = Client()
    admin.force_login(User.objects.create_superuser(username="Founder", email="", password=PASSWORD))
    merge_through_the_admin(admin, "username", "user name")  # names equal without spaces: one person
    live = state()
    assert [u for u in live["users"] if u[1] == "user name"][0][7] is not None  # a tombstone

    wipe_database()
    out = StringIO()
    call_command("import_archives", str(archive_root), "--execute", stdout=out)

    assert "Merges replayed: 1." in out.getvalue()
    assert state() == live
    assert not Quarantine.objects.filter(reason="account_event_not_applied").exists()


def test_a_thywill_import_into_a_root_with_cairn_events_of_the_same_month_comes_back_whole(archive_root):
    with time_machine.travel("2025-06-15 12:00:00+00:00", tick=False):
        User.objects.create_superuser(username="Founder", email="", password=PASSWORD)  # users/2025_06_users.txt
    thywill = Path(__file__).resolve().parents[1] / "fixtures" / "thywill" / "text_archives"
    call_command("import_archives", str(thywill), "--execute", stdout=StringIO())
    live = state()
    assert [u for u in live["users"] if u[1] == "José"][0][3] is not None  # José's inviter came from that file

    wipe_database()
    call_command("import_archives", str(archive_root), "--execute", stdout=StringIO())

    assert state() == live
