from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import Invite, User
from tests.accounts.factories import InviteFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase"


def test_create_invite_stores_only_a_hash_of_the_token(user):
    invite, token = services.create_invite(acting_user=user, expires_in=timedelta(days=3), max_uses=2)
    stored = Invite.objects.values().get(pk=invite.pk)
    assert token not in str(stored)
    assert invite.token_hash == services.hash_token(token)
    assert services.find_invite(token) == invite


def test_sign_up_creates_a_user_invited_by_the_invites_creator(user):
    invite, token = services.create_invite(acting_user=user, expires_in=timedelta(days=1), max_uses=1)
    newcomer = services.sign_up(token=token, username="  Zoë   Smith ", password=PASSWORD)
    assert newcomer.username == "Zoë Smith"
    assert newcomer.username_key == "zoë smith"
    assert newcomer.invited_by == user
    assert newcomer.joined_via == invite
    assert newcomer.external_id.startswith("cairn:")
    assert newcomer.check_password(PASSWORD)
    invite.refresh_from_db()
    assert invite.uses == 1


def test_sign_up_refuses_a_taken_name_and_keeps_the_invite_use(user):
    UserFactory(username="Max")
    invite = InviteFactory(token="t", created_by=user, max_uses=1)
    with pytest.raises(ValidationError) as error:
        services.sign_up(token="t", username="max ", password=PASSWORD)
    assert error.value.message_dict == {"username": ["That name is taken."]}
    invite.refresh_from_db()
    assert invite.uses == 0
    assert User.objects.filter(username_key="max").count() == 1


def test_an_invite_works_exactly_max_uses_times(user):
    InviteFactory(token="t", created_by=user, max_uses=3)
    for n in range(3):
        services.sign_up(token="t", username=f"Guest {n}", password=PASSWORD)
    with pytest.raises(services.InviteUnusable, match="already been used"):
        services.sign_up(token="t", username="Guest 3", password=PASSWORD)
    assert User.objects.filter(invited_by=user).count() == 3


def test_an_invite_stops_working_when_it_expires(user):
    InviteFactory(token="t", created_by=user, expires_at=timezone.now() + timedelta(hours=1))
    with (
        time_machine.travel(timezone.now() + timedelta(hours=2)),
        pytest.raises(services.InviteUnusable, match="expired"),
    ):
        services.sign_up(token="t", username="Late", password=PASSWORD)
    assert not User.objects.filter(username_key="late").exists()


def test_an_unknown_token_is_not_valid(db):
    with pytest.raises(services.InviteUnusable, match="not valid"):
        services.find_invite("no-such-token")


def test_only_the_creator_can_revoke_an_invite(user, other_user):
    invite = InviteFactory(token="t", created_by=user)
    with pytest.raises(ValidationError):
        services.revoke_invite(acting_user=other_user, invite=invite)
    assert services.find_invite("t") == invite
    services.revoke_invite(acting_user=user, invite=invite)
    with pytest.raises(services.InviteUnusable, match="expired"):
        services.find_invite("t")


def test_ensure_user_creates_once_and_never_renames(db):
    first, created = services.ensure_user(external_id="user_2abc123xyz", username="Max")
    again, created_again = services.ensure_user(external_id="user_2abc123xyz", username="Maximilian")
    assert (created, created_again) == (True, False)
    assert again == first
    again.refresh_from_db()
    assert again.username == "Max"
    assert not again.has_usable_password()


def test_ensure_user_refuses_a_name_another_user_has(db):
    services.ensure_user(external_id="a", username="Max")
    with pytest.raises(ValidationError, match="taken"):
        services.ensure_user(external_id="b", username="MAX")
    assert not User.objects.filter(external_id="b").exists()


def test_the_database_refuses_two_users_with_one_key(db):
    from django.db import IntegrityError, transaction

    UserFactory(username="Max")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="MAX")


def test_log_in_finds_a_user_by_any_variant_of_the_name(user):
    assert User.objects.get_by_natural_key(" ALICE\u200b") == user


def test_create_superuser_sets_the_key(db):
    admin = User.objects.create_superuser(username="Ｒｏｏｔ", email="root@example.org", password=PASSWORD)
    assert (admin.username, admin.username_key) == ("Ｒｏｏｔ", "root")
