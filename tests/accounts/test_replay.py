"""replay_account_events brings users and invites back from the archived account events."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from accounts import services
from accounts.models import Invite, User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

T = datetime(2025, 6, 25, 18, 30, tzinfo=UTC)


def archived_events(archive_root):
    events = []
    for path in sorted((archive_root / "users").glob("*_users.txt")):
        for line in path.read_text().split("\n")[2:]:
            if line:
                human, data = line.split("\t", 1)
                events.append((datetime.fromisoformat(human[:20]), json.loads(data)["event"], json.loads(data)))
    return events


def people():
    return sorted(
        (u.external_id, u.username, u.username_key, u.invited_by and u.invited_by.external_id, u.is_staff, u.is_active)
        for u in User.objects.select_related("invited_by")
    )


def invites():
    return sorted(
        (i.token_hash, i.created_by.external_id, i.expires_at, i.max_uses, i.uses)
        for i in Invite.objects.select_related("created_by")
    )


def wipe():
    User.objects.update(invited_by=None, joined_via=None)
    Invite.objects.all().delete()
    User.objects.all().delete()


def test_a_community_built_live_comes_back_from_its_archive(archive_root):
    alice = User.objects.create_superuser(username="Alice", email="", password="a long enough passphrase")
    invite, token = services.create_invite(acting_user=alice, expires_in=timedelta(days=7), max_uses=2)
    bob = services.sign_up(token=token, username="Bob", password="a long enough passphrase")
    services.sign_up(token=token, username="Zoë", password="a long enough passphrase")
    spare, _ = services.create_invite(acting_user=bob, expires_in=timedelta(days=7), max_uses=1)
    services.revoke_invite(acting_user=bob, invite=spare)
    before = {"username": bob.username, "is_staff": False, "is_active": True}
    User.objects.filter(pk=bob.pk).update(username="Robert", username_key="robert", is_staff=True, is_active=False)
    services.archive_admin_changes(acting_user=alice, user=User.objects.get(pk=bob.pk), before=before)
    expected_people, expected_invites = people(), invites()

    wipe()
    result = services.replay_account_events(events=archived_events(archive_root))

    assert result.problems == []
    assert people() == expected_people
    assert invites() == expected_invites
    assert User.objects.get(username="Zoë").joined_via.token_hash == invite.token_hash


def test_replaying_the_same_events_again_changes_nothing(archive_root):
    alice = User.objects.create_superuser(username="Alice", email="", password="a long enough passphrase")
    _, token = services.create_invite(acting_user=alice, expires_in=timedelta(days=7), max_uses=1)
    services.sign_up(token=token, username="Bob", password="a long enough passphrase")
    events = archived_events(archive_root)
    snapshot = list(User.objects.order_by("pk").values()), list(Invite.objects.order_by("pk").values())

    result = services.replay_account_events(events=events)

    assert sum(result.changed.values()) == 0
    assert (list(User.objects.order_by("pk").values()), list(Invite.objects.order_by("pk").values())) == snapshot


def test_an_event_that_cannot_apply_is_reported_not_guessed():
    UserFactory(username="Max", external_id="user_1")
    events = [
        (T, "joined", {"user": "user_2", "username": "MAX", "invited_by": None, "invite": None}),
        (T, "role", {"user": "nobody", "role": "staff", "granted": True, "by": None}),
        (T, "role", {"user": "user_1", "role": "emperor", "granted": True, "by": None}),
        (T, "teleported", {"user": "user_1"}),
    ]
    result = services.replay_account_events(events=events)
    assert result.problems == [
        (0, "'MAX': another user already has that name"),
        (1, "no user with external id 'nobody'"),
        (2, "unknown role 'emperor'"),
        (3, "unknown account event 'teleported'"),
    ]
    assert User.objects.count() == 1
