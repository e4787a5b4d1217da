import pytest
from pytest_django.asserts import assertContains, assertRedirects

from accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long enough passphrase"
CHANGELIST = "/admin/accounts/user/"
ADD = "/admin/accounts/user/add/"


@pytest.fixture
def staff(db):
    return UserFactory(username="Admin", external_id="user_staff", is_staff=True, is_superuser=True)


@pytest.fixture
def zoe(db):
    return UserFactory(username="Zoë Smith", external_id="user_2abc123xyz")


@pytest.fixture
def staff_client(staff, client_for):
    return client_for(staff)


def _change_url(person):
    return f"/admin/accounts/user/{person.pk}/change/"


def _change_data(person, **changes):
    """What the admin change form posts for `person`, with `changes` applied."""
    data = {
        "username": person.username,
        "external_id": person.external_id,
        "invited_by": person.invited_by_id or "",
        "joined_via": person.joined_via_id or "",
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "is_active": "on",
    }
    data.update(changes)
    return data


def _add_data(username):
    return {"username": username, "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}


def test_staff_can_open_the_user_changelist(staff_client, user, zoe):
    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {response.context["user"], user, zoe}


@pytest.mark.parametrize("query", ["Zoë", "zoë smith", "Smith", "user_2abc123xyz", "2abc123"])
def test_staff_can_find_a_user_by_name_or_external_id(staff_client, user, zoe, query):
    response = staff_client.get(CHANGELIST, {"q": query})
    assert list(response.context["cl"].result_list) == [zoe]
    assertContains(response, "user_2abc123xyz")


def test_a_search_that_matches_nobody_lists_nobody(staff_client, user, zoe):
    response = staff_client.get(CHANGELIST, {"q": "user_nobody"})
    assert list(response.context["cl"].result_list) == []


def test_staff_can_add_a_user_and_the_name_gets_its_key(staff_client):
    response = staff_client.post(ADD, _add_data("  Zoë   Smith "))
    added = User.objects.get(username_key="zoë smith")
    assertRedirects(response, _change_url(added))
    assert added.username == "Zoë Smith"
    assert added.check_password(NEW_PASSWORD)
    assert added.external_id.startswith("cairn:")


@pytest.mark.parametrize("taken", ["Alice", "alice ", "ALICE", "Ａｌｉｃｅ"])
def test_adding_a_user_with_a_taken_name_says_so_and_creates_nothing(staff_client, user, taken):
    users_before = User.objects.count()
    response = staff_client.post(ADD, _add_data(taken))
    assertContains(response, "That name is taken.")
    assert User.objects.count() == users_before


def test_adding_a_user_with_an_invisible_name_is_refused(staff_client):
    users_before = User.objects.count()
    response = staff_client.post(ADD, _add_data("\u200b\u200b"))
    assertContains(response, "A name needs at least one visible character.")
    assert User.objects.count() == users_before


def test_changing_a_username_in_the_admin_updates_its_key(staff_client, user):
    response = staff_client.post(_change_url(user), _change_data(user, username="  Zoë   Smith "))
    assertRedirects(response, CHANGELIST)
    user.refresh_from_db()
    assert user.username == "Zoë Smith"
    assert user.username_key == "zoë smith"


def test_after_a_rename_in_the_admin_the_user_logs_in_with_the_new_name(staff_client, user, client):
    staff_client.post(_change_url(user), _change_data(user, username="Zoë Smith"))
    assertRedirects(client.post("/login/", {"username": "ZOË SMITH", "password": "correct horse battery staple"}), "/")


def test_changing_only_the_case_of_ones_own_name_in_the_admin_is_allowed(staff_client, user):
    response = staff_client.post(_change_url(user), _change_data(user, username="ALICE"))
    assertRedirects(response, CHANGELIST)
    user.refresh_from_db()
    assert (user.username, user.username_key) == ("ALICE", "alice")


def test_renaming_a_user_to_a_taken_name_in_the_admin_says_so_and_changes_nothing(staff_client, user, other_user):
    response = staff_client.post(_change_url(other_user), _change_data(other_user, username="alice "))
    assertContains(response, "That name is taken.")
    other_user.refresh_from_db()
    assert (other_user.username, other_user.username_key) == ("Bob", "bob")


@pytest.mark.parametrize("path", ["/admin/", CHANGELIST, ADD])
def test_a_non_staff_user_is_sent_to_the_admin_login(user, client_for, path):
    response = client_for(user).get(path)
    assertRedirects(response, f"/admin/login/?next={path}")


def test_a_non_staff_user_cannot_add_a_user_through_the_admin(user, client_for):
    users_before = User.objects.count()
    response = client_for(user).post(ADD, _add_data("Zoë Smith"))
    assertRedirects(response, f"/admin/login/?next={ADD}")
    assert User.objects.count() == users_before


def test_an_anonymous_visitor_is_sent_to_the_site_login_by_the_login_required_middleware(client):
    assertRedirects(client.get(CHANGELIST), f"/login/?next={CHANGELIST}")


def test_the_admin_login_page_is_public(client):
    assertContains(client.get("/admin/login/"), 'name="password"')


@pytest.mark.parametrize("term", ["ＭＡＸ ", "max\u200b", "STRAUSS"])
def test_search_matches_names_under_the_key(client_for, term):
    staff = UserFactory(username="Staff", is_staff=True, is_superuser=True)
    UserFactory(username="Max Strauß")
    response = client_for(staff).get("/admin/accounts/user/", {"q": term})
    assert "Max Strauß" in response.content.decode()
