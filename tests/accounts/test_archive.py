"""Account events reach the text archive (docs/archive-format.md)."""

import json
from datetime import timedelta

import pytest

from accounts import services
from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def account_events(archive_root):
    events = []
    for path in sorted((archive_root / "users").glob("*_users.txt")):
        lines = path.read_text().split("\n")
        assert lines[0].startswith("User Registrations for ")
        events += [json.loads(line.split("\t", 1)[1]) for line in lines[2:] if line]
    return events


def test_an_invite_and_a_sign_up_are_archived_with_ids_and_the_tokens_hash_only(user, archive_root):
    invite, token = services.create_invite(acting_user=user, expires_in=timedelta(days=2), max_uses=3)
    newcomer = services.sign_up(token=token, username="Zoë", password="a long enough passphrase")
    created, joined = account_events(archive_root)
    assert created == {
        "event": "invite_created",
        "invite": invite.token_hash,
        "by": user.external_id,
        "expires_at": invite.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "max_uses": 3,
    }
    assert joined == {
        "event": "joined",
        "user": newcomer.external_id,
        "username": "Zoë",
        "invited_by": user.external_id,
        "invite": invite.token_hash,
    }
    files = "".join(p.read_text() for p in archive_root.rglob("*.txt"))
    assert token not in files
    assert "Zoë joined on invitation from Alice\t" in files


def test_a_refused_sign_up_archives_nothing(user, archive_root):
    _, token = services.create_invite(acting_user=user, expires_in=timedelta(days=2), max_uses=3)
    with pytest.raises(Exception):  # noqa: B017, PT011 - the name is taken
        services.sign_up(token=token, username="ALICE", password="a long enough passphrase")
    assert [e["event"] for e in account_events(archive_root)] == ["invite_created"]


def test_revoking_an_invite_is_archived_once(user, archive_root):
    invite, _ = services.create_invite(acting_user=user, expires_in=timedelta(days=2), max_uses=1)
    services.revoke_invite(acting_user=user, invite=invite)
    services.revoke_invite(acting_user=user, invite=invite)
    assert [e["event"] for e in account_events(archive_root)] == ["invite_created", "invite_revoked"]


def test_createsuperuser_and_ensure_user_archive_the_new_user(archive_root):
    admin = User.objects.create_superuser(username="Root", email="", password="a long enough passphrase")
    services.ensure_user(external_id="demo:x", username="X", invited_by=admin)
    services.ensure_user(external_id="demo:x", username="X", invited_by=admin)  # exists: nothing new
    assert [(e["event"], e["user"], e.get("invited_by", e.get("role"))) for e in account_events(archive_root)] == [
        ("joined", admin.external_id, None),
        ("role", admin.external_id, "staff"),
        ("role", admin.external_id, "superuser"),
        ("joined", "demo:x", admin.external_id),
    ]


def test_admin_changes_to_names_roles_and_active_state_are_archived(client_for, archive_root):
    staff = UserFactory(username="Staff", is_staff=True, is_superuser=True)
    bob = UserFactory(username="Bob")
    client = client_for(staff)
    data = {
        "username": "Robert",
        "external_id": bob.external_id,
        "is_staff": "on",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/accounts/user/{bob.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    events = account_events(archive_root)
    assert {"event": "renamed", "user": bob.external_id, "username": "Robert"} in events
    assert {
        "event": "role",
        "user": bob.external_id,
        "role": "staff",
        "granted": True,
        "by": staff.external_id,
    } in events
    assert {"event": "deactivated", "user": bob.external_id, "by": staff.external_id} in events


def test_an_archive_that_cannot_be_written_gives_a_clear_page_and_saves_nothing(user, client_for, archive_root):
    (archive_root / "users").write_text("a file where the users folder should be")
    response = client_for(user).post("/invites/", {"expires_in_days": 7, "max_uses": 1})
    assert response.status_code == 503
    assert "That was not saved" in response.content.decode()
    assert not user.invites.exists()
