import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts import forms as account_forms
from accounts.models import Invite, User
from tests.accounts.factories import InviteFactory, UserFactory
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long enough passphrase"
NOT_VALID = "This invite link is not valid. Check that you copied all of it."
EXPIRED = "This invite link has expired. Ask the person who sent it for a new one."
USED_UP = "This invite link has already been used. Ask the person who sent it for a new one."
# Session, user, count, one page of invites: the invites page needs no query per invite.
INVITES_PAGE_QUERIES = 4


def _join(client, token, username, password=NEW_PASSWORD, **kwargs):
    data = {"username": username, "password1": password, "password2": password}
    return client.post(f"/join/{token}/", data, **kwargs)


def _revoke_url(invite):
    return f"/invites/{invite.pk}/revoke/"


# Who may see what


@pytest.mark.parametrize("path", ["/", "/invites/"])
def test_a_page_redirects_an_anonymous_visitor_to_the_login_page(client, path):
    assertRedirects(client.get(path), f"/login/?next={path}")


def test_a_profile_page_redirects_an_anonymous_visitor_to_the_login_page(client, user):
    assertRedirects(client.get(f"/people/{user.pk}/"), f"/login/?next=/people/{user.pk}/")


def test_an_anonymous_visitor_cannot_create_an_invite(client):
    response = client.post("/invites/", {"expires_in_days": 7, "max_uses": 1})
    assertRedirects(response, "/login/?next=/invites/")
    assert not Invite.objects.exists()


def test_an_anonymous_visitor_cannot_revoke_an_invite(client, user):
    invite = InviteFactory(created_by=user)
    expires_at = invite.expires_at
    assertRedirects(client.post(_revoke_url(invite)), f"/login/?next={_revoke_url(invite)}")
    invite.refresh_from_db()
    assert invite.expires_at == expires_at


def test_the_login_page_is_public(client):
    assertContains(client.get("/login/"), "<h1>Log in</h1>", html=True)


def test_a_join_page_is_public(client, user):
    InviteFactory(token="t", created_by=user)
    assert client.get("/join/t/").status_code == 200


def test_the_health_check_is_public(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_a_signed_in_user_sees_the_home_page(user, client_for):
    assertContains(client_for(user).get("/"), "Welcome, Alice")


# Log in and log out


@pytest.mark.parametrize("typed", ["Alice", "ALICE ", "  alice", "Ａｌｉｃｅ"])
def test_a_user_can_log_in_with_a_case_or_space_variant_of_the_name(client, user, typed):
    response = client.post("/login/", {"username": typed, "password": PASSWORD})
    assertRedirects(response, "/")
    assertContains(client.get("/"), "Welcome, Alice")


def test_logging_in_with_a_wrong_password_fails(client, user):
    response = client.post("/login/", {"username": "Alice", "password": "not the password"})
    assertContains(response, "Please enter a correct username and password.")
    assertRedirects(client.get("/"), "/login/?next=/")


def test_logging_out_is_a_post(user, client_for):
    client = client_for(user)
    assertRedirects(client.post("/logout/"), "/login/")
    assertRedirects(client.get("/"), "/login/?next=/")


def test_logging_out_by_get_is_refused_and_keeps_the_user_signed_in(user, client_for):
    client = client_for(user)
    assert client.get("/logout/").status_code == 405
    assertContains(client.get("/"), "Welcome, Alice")


# Joining with an invite link


def test_a_valid_join_link_shows_the_form_and_who_sent_the_invite(client, user):
    InviteFactory(token="t", created_by=user)
    response = client.get("/join/t/")
    assertContains(response, "<p>Alice invited you.</p>", html=True)
    assertContains(response, 'name="password2"')
    assert isinstance(response.context["form"], account_forms.SignUpForm)


def test_an_unknown_join_link_says_it_is_not_valid(client):
    response = client.get("/join/no-such-token/")
    assertContains(response, NOT_VALID, status_code=410)


def test_an_expired_join_link_says_it_has_expired(client, user):
    InviteFactory(token="t", created_by=user, expires_at=timezone.now() + timedelta(days=7))
    assert client.get("/join/t/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1), tick=False):
        response = client.get("/join/t/")
    assertContains(response, EXPIRED, status_code=410)


def test_a_join_link_with_its_expiry_in_the_past_says_it_has_expired(client, user):
    InviteFactory(token="t", created_by=user, expires_at=timezone.now() - timedelta(minutes=1))
    assertContains(client.get("/join/t/"), EXPIRED, status_code=410)


def test_a_used_up_join_link_says_it_has_been_used(client, user):
    InviteFactory(token="t", created_by=user, max_uses=2, uses=2)
    assertContains(client.get("/join/t/"), USED_UP, status_code=410)


@pytest.mark.parametrize(
    ("invite_kwargs", "token", "reason"),
    [
        ({}, "no-such-token", NOT_VALID),
        ({"expires_at": datetime(2000, 1, 1, tzinfo=UTC)}, "t", EXPIRED),
        ({"max_uses": 1, "uses": 1}, "t", USED_UP),
    ],
)
def test_posting_to_an_unusable_join_link_creates_nobody(client, user, invite_kwargs, token, reason):
    InviteFactory(token="t", created_by=user, **invite_kwargs)
    users_before = User.objects.count()
    response = _join(client, token, "Zoë Smith")
    assertContains(response, reason, status_code=410)
    assert User.objects.count() == users_before


def test_joining_creates_a_user_invited_by_the_invites_creator_and_signs_them_in(client, user):
    invite = InviteFactory(token="t", created_by=user, max_uses=2)
    response = _join(client, "t", "  Zoë   Smith ", follow=True)
    assertRedirects(response, "/")
    newcomer = User.objects.get(username_key="zoë smith")
    assert newcomer.username == "Zoë Smith"
    assert newcomer.invited_by == user
    assert newcomer.joined_via == invite
    assert newcomer.check_password(NEW_PASSWORD)
    assert response.context["user"] == newcomer
    assertContains(response, "Welcome, Zoë Smith")
    assertContains(response, "Welcome to Cairn, Zoë Smith.")
    invite.refresh_from_db()
    assert invite.uses == 1


def test_a_newcomer_can_log_in_again_with_the_name_and_password_they_chose(client, user):
    InviteFactory(token="t", created_by=user)
    _join(client, "t", "Zoë Smith")
    client.post("/logout/")
    assertRedirects(client.post("/login/", {"username": "ZOË SMITH", "password": NEW_PASSWORD}), "/")


def test_joining_with_a_taken_name_shows_the_form_again_and_keeps_the_invite_use(client, user):
    UserFactory(username="Max")
    invite = InviteFactory(token="t", created_by=user)
    users_before = User.objects.count()
    response = _join(client, "t", "max ")
    assertContains(response, "That name is taken.")
    assertContains(response, "<p>Alice invited you.</p>", html=True)
    assert User.objects.count() == users_before
    invite.refresh_from_db()
    assert invite.uses == 0


def test_a_name_taken_after_the_form_checked_it_is_refused_by_the_database_and_keeps_the_invite_use(
    client, user, monkeypatch
):
    # As if another sign-up took the name between the form's check and the insert.
    monkeypatch.setattr(account_forms.SignUpForm, "clean_username", lambda form: form.cleaned_data["username"])
    UserFactory(username="Max")
    invite = InviteFactory(token="t", created_by=user)
    users_before = User.objects.count()
    response = _join(client, "t", "MAX")
    assertContains(response, "That name is taken.")
    assert User.objects.count() == users_before
    invite.refresh_from_db()
    assert invite.uses == 0


def test_joining_with_a_weak_password_shows_the_form_again_and_keeps_the_invite_use(client, user):
    invite = InviteFactory(token="t", created_by=user)
    response = _join(client, "t", "Zoë Smith", password="password")
    assertContains(response, "This password is too common.")
    assert not User.objects.filter(username_key="zoë smith").exists()
    invite.refresh_from_db()
    assert invite.uses == 0


def test_the_last_use_of_a_join_link_works_and_then_the_link_is_used_up(client, user):
    invite = InviteFactory(token="t", created_by=user, max_uses=2, uses=1)
    assertRedirects(_join(client, "t", "Zoë Smith"), "/")
    assertContains(Client().get("/join/t/"), USED_UP, status_code=410)
    invite.refresh_from_db()
    assert invite.uses == 2


# The invites page


def test_the_invites_page_lists_only_the_signed_in_users_invites(user, other_user, client_for):
    mine = InviteFactory(created_by=user)
    theirs = InviteFactory(created_by=other_user)
    response = client_for(user).get("/invites/")
    assert list(response.context["page"].object_list) == [mine]
    assertContains(response, f'action="{_revoke_url(mine)}"')
    assertNotContains(response, f'action="{_revoke_url(theirs)}"')


def test_another_user_cannot_see_an_invite_on_their_invites_page(user, other_user, client_for):
    mine = InviteFactory(created_by=user)
    response = client_for(other_user).get("/invites/")
    assert list(response.context["page"].object_list) == []
    assertNotContains(response, _revoke_url(mine))
    assertContains(response, "You have not made any invites yet.")


def test_creating_an_invite_shows_a_link_that_works_for_signing_up(user, client_for):
    response = client_for(user).post("/invites/", {"expires_in_days": 5, "max_uses": 3})
    assertContains(response, "Invite created. Copy the link now: it is shown only once.")
    link = re.search(r'value="(http://testserver/join/[^"/]+/)"', response.content.decode()).group(1)

    visitor = Client()
    assertContains(visitor.get(link), "<p>Alice invited you.</p>", html=True)
    response = visitor.post(
        link, {"username": "Zoë Smith", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True
    )
    assertRedirects(response, "/")
    newcomer = User.objects.get(username_key="zoë smith")
    assert newcomer.invited_by == user
    assert newcomer.joined_via == Invite.objects.get(created_by=user)


def test_a_new_invite_is_stored_with_only_a_sha256_of_its_token(user, client_for):
    frozen = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(frozen, tick=False):
        response = client_for(user).post("/invites/", {"expires_in_days": 5, "max_uses": 3})
    token = re.search(r'value="http://testserver/join/([^"/]+)/"', response.content.decode()).group(1)
    invite = Invite.objects.get()
    assert invite.created_by == user
    assert invite.max_uses == 3
    assert invite.uses == 0
    assert invite.expires_at == frozen + timedelta(days=5)
    assert invite.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = Invite.objects.filter(pk=invite.pk).values().get()
    assert all(token not in str(value) for value in row.values())


def test_the_invite_link_is_not_shown_on_the_invites_page_afterwards(user, client_for):
    client = client_for(user)
    response = client.post("/invites/", {"expires_in_days": 5, "max_uses": 3})
    token = re.search(r'value="http://testserver/join/([^"/]+)/"', response.content.decode()).group(1)
    page = client.get("/invites/")
    assert len(page.context["page"].object_list) == 1
    assertNotContains(page, token)


def test_an_invalid_invite_form_shows_its_errors_and_creates_nothing(user, client_for):
    response = client_for(user).post("/invites/", {"expires_in_days": 999, "max_uses": 0})
    assertContains(response, "Ensure this value is less than or equal to 90.")
    assertContains(response, "Ensure this value is greater than or equal to 1.")
    assert set(response.context["form"].errors) == {"expires_in_days", "max_uses"}
    assert not Invite.objects.exists()


def test_a_user_can_revoke_their_own_invite_and_its_link_then_stops_working(user, client_for):
    invite = InviteFactory(token="t", created_by=user)
    response = client_for(user).post(_revoke_url(invite), follow=True)
    assertRedirects(response, "/invites/")
    assertContains(response, "Invite revoked: its link no longer works.")
    assertContains(response, '<span class="muted">ended</span>', html=True)
    invite.refresh_from_db()
    assert not invite.is_usable
    assertContains(Client().get("/join/t/"), EXPIRED, status_code=410)


def test_revoking_another_users_invite_is_not_found_and_changes_nothing(user, other_user, client_for):
    theirs = InviteFactory(token="t", created_by=other_user)
    expires_at = theirs.expires_at
    response = client_for(user).post(_revoke_url(theirs))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.expires_at == expires_at
    assert Client().get("/join/t/").status_code == 200


def test_revoking_an_unknown_invite_is_not_found(user, client_for):
    assert client_for(user).post("/invites/999999/revoke/").status_code == 404


def test_revoking_by_get_is_refused(user, client_for):
    invite = InviteFactory(created_by=user)
    expires_at = invite.expires_at
    assert client_for(user).get(_revoke_url(invite)).status_code == 405
    invite.refresh_from_db()
    assert invite.expires_at == expires_at


def test_the_invites_list_is_paginated_newest_first(user, client_for):
    invites = InviteFactory.create_batch(25, created_by=user)
    start = timezone.now()
    for age, invite in enumerate(invites):
        Invite.objects.filter(pk=invite.pk).update(created_at=start - timedelta(minutes=age))
    client = client_for(user)

    first = client.get("/invites/")
    assert list(first.context["page"].object_list) == invites[:20]
    assertContains(first, "Page 1 of 2")
    assertContains(first, 'href="?page=2"')

    second = client.get("/invites/?page=2")
    assert list(second.context["page"].object_list) == invites[20:]
    assertContains(second, "Page 2 of 2")
    assertContains(second, 'href="?page=1"')


@pytest.mark.parametrize("count", [3, 25])
def test_the_invites_page_makes_the_same_few_queries_however_many_invites_there_are(
    user, client_for, django_assert_max_num_queries, count
):
    InviteFactory.create_batch(count, created_by=user)
    InviteFactory.create_batch(2, created_by=user, max_uses=1, uses=1)
    client = client_for(user)
    with django_assert_max_num_queries(INVITES_PAGE_QUERIES):
        response = client.get("/invites/")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == min(count + 2, 20)


# Profile pages and the invite tree


@pytest.fixture
def family(user):
    """Alice invited Carol and Dan; Carol invited Erin; Erin invited Fay. Gus joined directly."""
    carol = UserFactory(username="Carol", invited_by=user)
    dan = UserFactory(username="Dan", invited_by=user)
    erin = UserFactory(username="Erin", invited_by=carol)
    fay = UserFactory(username="Fay", invited_by=erin)
    gus = UserFactory(username="Gus")
    hal = UserFactory(username="Hal", invited_by=gus)
    return {"carol": carol, "dan": dan, "erin": erin, "fay": fay, "gus": gus, "hal": hal}


def _profile_link(person):
    return f'<a href="/people/{person.pk}/">{person.username}</a>'


def test_a_profile_shows_who_invited_the_person(user, other_user, client_for, family):
    response = client_for(other_user).get(f"/people/{family['carol'].pk}/")
    assertContains(response, "<h1>Carol</h1>", html=True)
    assertContains(response, _profile_link(user), html=True)
    assertNotContains(response, "Joined directly.")


def test_a_profile_shows_the_persons_whole_invite_subtree(user, other_user, client_for, family):
    response = client_for(other_user).get(f"/people/{user.pk}/")
    for name in ["carol", "dan", "erin", "fay"]:
        assertContains(response, _profile_link(family[name]), html=True)
    for name in ["gus", "hal"]:
        assertNotContains(response, f"/people/{family[name].pk}/")
    tree = [
        (node["user"].username, [(child["user"].username, len(child["children"])) for child in node["children"]])
        for node in response.context["tree"]
    ]
    assert tree == [("Carol", [("Erin", 1)]), ("Dan", [])]


def test_a_profile_of_someone_in_the_middle_shows_only_their_own_subtree(user, other_user, client_for, family):
    response = client_for(other_user).get(f"/people/{family['carol'].pk}/")
    for name in ["erin", "fay"]:
        assertContains(response, _profile_link(family[name]), html=True)
    assertNotContains(response, f"/people/{family['dan'].pk}/")


def test_a_profile_of_someone_without_an_inviter_says_they_joined_directly(user, other_user, client_for):
    response = client_for(other_user).get(f"/people/{user.pk}/")
    assertContains(response, "Joined directly.")
    assertContains(response, "Nobody yet.")


def test_a_profile_for_an_unknown_person_is_not_found(user, client_for):
    assert client_for(user).get("/people/999999/").status_code == 404


def test_a_profile_for_an_inactive_person_is_not_found(user, client_for):
    gone = UserFactory(username="Gone", is_active=False)
    assert client_for(user).get(f"/people/{gone.pk}/").status_code == 404
