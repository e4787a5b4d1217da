import pytest
from django.contrib import admin
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from archives import services
from archives.models import Activity, Prayer
from tests.accounts.factories import UserFactory
from tests.archives.factories import ActivityFactory, PrayerFactory

pytestmark = pytest.mark.django_db

PRAYERS = "/admin/archives/prayer/"
ACTIVITIES = "/admin/archives/activity/"


@pytest.fixture
def staff_client(client_for):
    return client_for(UserFactory(username="Admin", is_staff=True, is_superuser=True))


def _change_url(prayer):
    return f"{PRAYERS}{prayer.pk}/change/"


def test_staff_can_open_the_prayer_changelist_with_prayed_counts(staff_client, user, other_user):
    prayer = PrayerFactory(author=user)
    ActivityFactory.create_batch(2, prayer=prayer, actor=other_user)
    archived = PrayerFactory(author=None, is_archived=True)
    response = staff_client.get(PRAYERS)
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {prayer, archived}
    assert {p.archive_id: p.prayed_count for p in response.context["cl"].result_list} == {
        prayer.archive_id: 2,
        archived.archive_id: 0,
    }
    assertContains(response, '<td class="field-prayed_count">2</td>', html=True)


@pytest.mark.parametrize("count", [3, 25])
def test_the_prayer_changelist_makes_the_same_queries_however_many_prayers_there_are(
    staff_client, django_assert_num_queries, count
):
    for prayer in PrayerFactory.create_batch(count):
        ActivityFactory(prayer=prayer)
    # Session, user, the filters' and paginator's counts, one page of prayers with authors and prayed counts.
    with django_assert_num_queries(5):
        assert staff_client.get(PRAYERS).status_code == 200


def test_staff_can_filter_prayers_by_archived(staff_client, user):
    PrayerFactory(author=user)
    archived = PrayerFactory(author=user, is_archived=True)
    response = staff_client.get(PRAYERS, {"is_archived__exact": "1"})
    assert list(response.context["cl"].result_list) == [archived]


@pytest.mark.parametrize("query", ["garden", "GARDEN", "Alice"])
def test_staff_can_find_a_prayer_by_its_request_text_or_author(staff_client, user, other_user, query):
    wanted = PrayerFactory(author=user, request="Please pray for my garden.")
    PrayerFactory(author=other_user, request="Please pray for my exam.")
    response = staff_client.get(PRAYERS, {"q": query})
    assert list(response.context["cl"].result_list) == [wanted]


def test_staff_can_find_a_prayer_by_its_archive_id(staff_client, user):
    wanted = PrayerFactory(author=user)
    PrayerFactory(author=user)
    response = staff_client.get(PRAYERS, {"q": wanted.archive_id})
    assert list(response.context["cl"].result_list) == [wanted]


def test_a_prayer_change_page_shows_its_archive_path_and_activity(staff_client, user, other_user):
    prayer = services.submit_prayer(acting_user=user, request="Please pray for my garden.")
    services.mark_prayed(acting_user=other_user, prayer=prayer)
    services.mark_answered(acting_user=user, prayer=prayer, testimony="It bloomed.")
    response = staff_client.get(_change_url(prayer))
    assert response.status_code == 200
    assertContains(response, prayer.archive_path)
    assertContains(response, "Please pray for my garden.")
    inline = response.context["inline_admin_formsets"][0]
    assert [form.original.kind for form in inline] == ["prayed", "answered", "testimony"]
    assertContains(response, "It bloomed.")
    assertContains(response, "Bob")


def test_the_admin_cannot_change_a_prayer_because_the_archive_is_the_source_of_truth(staff_client, user):
    prayer = PrayerFactory(author=user, request="Original")
    response = staff_client.post(_change_url(prayer), {"request": "Edited", "author": user.pk})
    assert response.status_code == 403
    prayer.refresh_from_db()
    assert prayer.request == "Original"
    assertNotContains(staff_client.get(_change_url(prayer)), 'name="_save"')


@pytest.mark.parametrize("model", [Prayer, Activity])
def test_the_admin_cannot_add_or_delete_prayers_or_activity(staff_client, rf, model):
    request = rf.get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert staff_client.get(f"/admin/archives/{model._meta.model_name}/add/").status_code == 403


def test_staff_can_open_the_activity_changelist_and_filter_flagged_requests(staff_client, user, other_user):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    services.mark_prayed(acting_user=other_user, prayer=prayer)
    flagged = services.flag_prayer(acting_user=other_user, prayer=prayer)
    everything = staff_client.get(ACTIVITIES)
    assert everything.status_code == 200
    assert len(everything.context["cl"].result_list) == 2
    response = staff_client.get(ACTIVITIES, {"kind__exact": "flagged"})
    assert list(response.context["cl"].result_list) == [flagged]
    assertContains(response, prayer.archive_id)


def test_staff_cannot_delete_an_activity_through_the_admin(staff_client, user):
    activity = ActivityFactory()
    response = staff_client.post(f"{ACTIVITIES}{activity.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Activity.objects.filter(pk=activity.pk).exists()


@pytest.mark.parametrize("path", [PRAYERS, ACTIVITIES])
def test_a_non_staff_user_is_sent_to_the_admin_login(user, client_for, path):
    assertRedirects(client_for(user).get(path), f"/admin/login/?next={path}")


def test_a_non_staff_user_cannot_open_a_prayer_in_the_admin(user, client_for):
    prayer = PrayerFactory(author=user)
    assertRedirects(client_for(user).get(_change_url(prayer)), f"/admin/login/?next={_change_url(prayer)}")
