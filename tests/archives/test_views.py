import pytest
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from archives import services
from archives.models import Activity, Prayer
from lib import archive_files
from tests.accounts.factories import UserFactory
from tests.archives.factories import ActivityFactory, PrayerFactory

pytestmark = pytest.mark.django_db

WALL = "/prayers/"
MY_ARCHIVED = "/prayers/?archived=mine"
ACTIONS = ["pray", "answer", "archive", "restore", "flag"]
# Session, user, count, one page of prayers with authors and prayed counts: no query per prayer.
WALL_QUERIES = 4
# Session, user, the prayer and its author, prayed count, activity count, one page of activity with actors.
PRAYER_PAGE_QUERIES = 6


def _url(prayer, action=None):
    return f"/prayers/{prayer.archive_id}/{action}/" if action else f"/prayers/{prayer.archive_id}/"


def _submit(user, request="Please pray for my mother.", **kwargs):
    return services.submit_prayer(acting_user=user, request=request, **kwargs)


def _messages(response):
    return [str(message) for message in response.context["messages"]]


def _wall_prayers(response):
    return list(response.context["page"].object_list)


def _kinds(prayer):
    return list(prayer.activities.values_list("kind", flat=True))


# Who may see and do what


@pytest.mark.parametrize("path", [WALL, MY_ARCHIVED])
def test_the_wall_redirects_an_anonymous_visitor_to_the_login_page(client, path):
    response = client.get(path)
    assertRedirects(response, "/login/?next=" + path.replace("?", "%3F").replace("=", "%3D"))


def test_a_prayer_page_redirects_an_anonymous_visitor_to_the_login_page(client, user):
    prayer = _submit(user)
    assertRedirects(client.get(_url(prayer)), f"/login/?next={_url(prayer)}")


def test_an_anonymous_visitor_cannot_submit_a_request(client):
    assertRedirects(client.post(WALL, {"request": "Hello"}), f"/login/?next={WALL}")
    assert not Prayer.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_an_anonymous_visitor_cannot_act_on_a_prayer(client, user, action):
    prayer = _submit(user)
    file_before = archive_files.read_bytes(prayer.archive_path)
    response = client.post(_url(prayer, action), {"testimony": "Done"})
    assertRedirects(response, f"/login/?next={_url(prayer, action)}")
    assert not Activity.objects.exists()
    assert archive_files.read_bytes(prayer.archive_path) == file_before


@pytest.mark.parametrize("action", ACTIONS)
def test_an_action_by_get_is_refused_and_changes_nothing(user, client_for, action):
    prayer = _submit(user)
    assert client_for(user).get(_url(prayer, action)).status_code == 405
    assert not Activity.objects.exists()


def test_an_unknown_prayer_is_not_found(user, client_for):
    assert client_for(user).get("/prayers/no-such-prayer/").status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_acting_on_an_unknown_prayer_is_not_found(user, client_for, action):
    assert client_for(user).post(f"/prayers/no-such-prayer/{action}/").status_code == 404
    assert not Activity.objects.exists()


# The wall


def test_the_wall_lists_active_requests_newest_first_with_author_and_prayed_count(user, other_user, client_for):
    oldest = PrayerFactory(author=user, request="Pray for my garden.")
    middle = PrayerFactory(author=None, request="Pray for a stranger.")
    newest = PrayerFactory(author=other_user, request="Pray for my exam.")
    ActivityFactory.create_batch(2, prayer=oldest, actor=other_user)
    response = client_for(user).get(WALL)
    assert _wall_prayers(response) == [newest, middle, oldest]
    assert [prayer.prayed_count for prayer in _wall_prayers(response)] == [0, 0, 2]
    assertContains(response, "Pray for my exam.")
    assertContains(response, "<strong>Bob</strong>", html=True)
    assertContains(response, "<strong>someone</strong>", html=True)
    assertContains(response, "Prayed for 2 times")
    assertContains(response, f'href="{_url(oldest)}"')
    assertContains(response, f'action="{_url(newest, "pray")}"')


def test_the_wall_hides_archived_requests(user, client_for):
    shown = PrayerFactory(author=user, request="Still open")
    hidden = PrayerFactory(author=user, request="Put away", is_archived=True)
    response = client_for(user).get(WALL)
    assert _wall_prayers(response) == [shown]
    assertNotContains(response, "Put away")
    assertNotContains(response, _url(hidden))


def test_the_wall_shows_an_answered_request_with_its_testimony(user, client_for):
    PrayerFactory(author=user, is_answered=True, testimony="She is home.\nThank you all.")
    response = client_for(user).get(WALL)
    assertContains(response, "Answered")
    assertContains(response, "She is home.<br>Thank you all.")


def test_the_wall_is_paginated_twenty_to_a_page(user, client_for):
    prayers = PrayerFactory.create_batch(25, author=user)
    client = client_for(user)

    first = client.get(WALL)
    assert _wall_prayers(first) == prayers[::-1][:20]
    assertContains(first, "Page 1 of 2")
    assertContains(first, 'href="?page=2"')

    second = client.get(WALL, {"page": 2})
    assert _wall_prayers(second) == prayers[::-1][20:]
    assertContains(second, "Page 2 of 2")


@pytest.mark.parametrize("count", [3, 25])
def test_the_wall_makes_the_same_few_queries_however_many_requests_there_are(
    user, other_user, client_for, django_assert_max_num_queries, count
):
    for prayer in PrayerFactory.create_batch(count):
        ActivityFactory(prayer=prayer, actor=other_user)
        ActivityFactory(prayer=prayer, actor=prayer.author, kind=Activity.Kind.ANSWERED)
    PrayerFactory(author=None)
    client = client_for(user)
    with django_assert_max_num_queries(WALL_QUERIES):
        response = client.get(WALL)
    assert len(_wall_prayers(response)) == min(count + 1, 20)


def test_a_wall_with_no_requests_invites_the_first_one(user, client_for):
    assertContains(client_for(user).get(WALL), "No requests yet.")


# Sharing a request


def test_sharing_a_request_writes_its_archive_file_and_opens_its_page(user, client_for):
    data = {"request": "Please pray for my father.\r\nHe starts chemo.\r\n", "generated_prayer": "Lord, be near."}
    response = client_for(user).post(WALL, data, follow=True)
    prayer = Prayer.objects.get()
    assertRedirects(response, _url(prayer))
    assert (prayer.author, prayer.request, prayer.generated_prayer) == (
        user,
        "Please pray for my father.\nHe starts chemo.",
        "Lord, be near.",
    )
    archived = archive_files.read_bytes(prayer.archive_path).decode()
    assert "Please pray for my father.\nHe starts chemo.\n" in archived
    assert "Lord, be near." in archived
    assert "Your request is on the prayer wall." in _messages(response)
    assertContains(response, "Please pray for my father.<br>He starts chemo.")
    assertContains(response, "Lord, be near.")


@pytest.mark.parametrize(
    ("typed", "error"),
    [("", "This field is required."), (" \r\n  \r\n", "Write what you would like prayer for.")],
)
def test_an_empty_request_shows_a_form_error_and_creates_nothing(user, client_for, archive_root, typed, error):
    response = client_for(user).post(WALL, {"request": typed, "generated_prayer": "Amen."})
    assertContains(response, error)
    assert set(response.context["form"].errors) == {"request"}
    assertContains(response, "<h1>Prayer wall</h1>", html=True)
    assert not Prayer.objects.exists()
    assert not any(archive_root.iterdir())


def test_a_request_the_service_refuses_shows_its_error_on_the_form(user, client_for, monkeypatch):
    def refuse(**kwargs):
        raise services.ValidationError({"request": "Refused by the service."})

    monkeypatch.setattr(services, "submit_prayer", refuse)
    response = client_for(user).post(WALL, {"request": "Hello"})
    assertContains(response, "Refused by the service.")
    assert response.context["form"].errors == {"request": ["Refused by the service."]}
    assert not Prayer.objects.exists()


# A request's page


def test_a_prayer_page_shows_the_request_its_author_state_and_activity(user, other_user, client_for):
    prayer = _submit(user, "Line one\nLine two", generated_prayer="Lord, hear us.")
    services.mark_prayed(acting_user=other_user, prayer=prayer)
    response = client_for(other_user).get(_url(prayer))
    assertContains(response, "Line one<br>Line two")
    assertContains(response, "Lord, hear us.")
    assertContains(response, "<strong>Alice</strong>", count=2, html=True)  # shared by; and the first activity line
    assertContains(response, "Prayed for 1 time.")
    assert [(a.actor, a.kind) for a in response.context["page"].object_list] == [(other_user, "prayed")]
    assertContains(response, "<strong>Bob</strong>", html=True)


def test_the_author_sees_answer_and_archive_buttons_and_another_user_does_not(user, other_user, client_for):
    prayer = _submit(user)
    mine = client_for(user).get(_url(prayer))
    theirs = client_for(other_user).get(_url(prayer))
    for action in ["pray", "flag", "answer", "archive"]:
        assertContains(mine, f'action="{_url(prayer, action)}"')
    for action in ["pray", "flag"]:
        assertContains(theirs, f'action="{_url(prayer, action)}"')
    for action in ["answer", "archive", "restore"]:
        assertNotContains(theirs, _url(prayer, action))
    assertNotContains(mine, _url(prayer, "restore"))


def test_an_archived_prayer_is_reachable_by_its_url_but_offers_no_prayed_button(user, other_user, client_for):
    prayer = _submit(user)
    services.archive_prayer(acting_user=user, prayer=prayer)
    theirs = client_for(other_user).get(_url(prayer))
    assertContains(theirs, "This request is archived")
    assertNotContains(theirs, _url(prayer, "pray"))
    assertContains(theirs, f'action="{_url(prayer, "flag")}"')
    mine = client_for(user).get(_url(prayer))
    assertContains(mine, f'action="{_url(prayer, "restore")}"')
    assertNotContains(mine, _url(prayer, "archive"))


def test_a_prayer_without_a_known_author_is_shown_as_someones(user, client_for):
    prayer = PrayerFactory(author=None)
    response = client_for(user).get(_url(prayer))
    assertContains(response, "<strong>someone</strong>", html=True, count=2)
    assertNotContains(response, _url(prayer, "answer"))


def test_who_flagged_a_request_is_shown_to_staff_only(user, other_user, client_for):
    prayer = _submit(user)
    services.flag_prayer(acting_user=other_user, prayer=prayer)
    assert list(client_for(user).get(_url(prayer)).context["page"].object_list) == []
    staff = UserFactory(is_staff=True)
    assert [a.kind for a in client_for(staff).get(_url(prayer)).context["page"].object_list] == ["flagged"]


@pytest.mark.parametrize("count", [3, 60])
def test_a_prayer_page_makes_the_same_few_queries_however_much_activity_it_has(
    user, client_for, django_assert_max_num_queries, count
):
    prayer = PrayerFactory(author=user)
    for _ in range(count):
        ActivityFactory(prayer=prayer)
    client = client_for(user)
    with django_assert_max_num_queries(PRAYER_PAGE_QUERIES):
        response = client.get(_url(prayer))
    assert len(response.context["page"].object_list) == min(count, 50)
    assert response.context["prayed_count"] == count


# Praying


def test_praying_twice_records_two_events_and_counts_two(user, other_user, client_for):
    prayer = _submit(user)
    client = client_for(other_user)
    assertRedirects(client.post(_url(prayer, "pray")), _url(prayer))
    response = client.post(_url(prayer, "pray"), follow=True)
    assert _kinds(prayer) == ["prayed", "prayed"]
    assert set(prayer.activities.values_list("actor", flat=True)) == {other_user.pk}
    assert archive_files.read_bytes(prayer.archive_path).decode().count("Bob prayed this prayer") == 2
    assert "Thank you for praying." in _messages(response)
    assertContains(response, "Prayed for 2 times.")
    assert _wall_prayers(client.get(WALL))[0].prayed_count == 2


def test_praying_from_the_wall_returns_to_the_same_wall_page(user, other_user, client_for):
    prayer = _submit(user)
    next_url = f"/prayers/?page=1#prayer-{prayer.archive_id}"
    response = client_for(other_user).post(_url(prayer, "pray"), {"next": next_url})
    assertRedirects(response, next_url, fetch_redirect_response=False)
    assert _kinds(prayer) == ["prayed"]


def test_a_prayed_button_on_the_wall_carries_the_wall_page_as_next(user, client_for):
    prayer = PrayerFactory(author=user)
    PrayerFactory.create_batch(20, author=user)
    response = client_for(user).get(WALL, {"page": 2})
    assertContains(response, f'value="/prayers/?page=2#prayer-{prayer.archive_id}"')


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_an_unsafe_next_is_ignored(user, other_user, client_for, unsafe):
    prayer = _submit(user)
    response = client_for(other_user).post(_url(prayer, "pray"), {"next": unsafe})
    assertRedirects(response, _url(prayer))
    assert _kinds(prayer) == ["prayed"]


def test_praying_for_an_archived_request_shows_an_error_and_records_nothing(user, other_user, client_for):
    prayer = _submit(user)
    services.archive_prayer(acting_user=user, prayer=prayer)
    file_before = archive_files.read_bytes(prayer.archive_path)
    response = client_for(other_user).post(_url(prayer, "pray"), follow=True)
    assertRedirects(response, _url(prayer))
    assert _messages(response) == ["This request is archived; it can be prayed for again once it is restored."]
    assert _kinds(prayer) == ["archived"]
    assert archive_files.read_bytes(prayer.archive_path) == file_before


# Answering, archiving and restoring: the author only


def test_the_author_can_mark_a_request_answered_with_a_testimony(user, other_user, client_for):
    prayer = _submit(user)
    response = client_for(user).post(_url(prayer, "answer"), {"testimony": "She is home.\r\nThank you."}, follow=True)
    assertRedirects(response, _url(prayer))
    prayer.refresh_from_db()
    assert (prayer.is_answered, prayer.testimony) == (True, "She is home.\nThank you.")
    assert _kinds(prayer) == ["answered", "testimony"]
    assert "Marked as answered. Thank you for sharing it." in _messages(response)
    assertContains(response, "She is home.<br>Thank you.", count=2)  # the state, and the testimony event
    wall = client_for(other_user).get(WALL)
    assertContains(wall, "Answered")
    assertContains(wall, "She is home.<br>Thank you.")


def test_the_author_can_mark_a_request_answered_without_a_testimony(user, client_for):
    prayer = _submit(user)
    client_for(user).post(_url(prayer, "answer"), {"testimony": "  \r\n"})
    prayer.refresh_from_db()
    assert (prayer.is_answered, prayer.testimony) == (True, "")
    assert _kinds(prayer) == ["answered"]


def test_a_too_long_testimony_is_refused_and_changes_nothing(user, client_for):
    prayer = _submit(user)
    response = client_for(user).post(_url(prayer, "answer"), {"testimony": "x" * 5001}, follow=True)
    assertRedirects(response, _url(prayer))
    assert _messages(response) == ["Testimony: Ensure this value has at most 5000 characters (it has 5001)."]
    prayer.refresh_from_db()
    assert not prayer.is_answered
    assert not Activity.objects.exists()


@pytest.mark.parametrize("action", ["answer", "archive", "restore"])
def test_another_user_cannot_answer_archive_or_restore_a_request(user, other_user, client_for, action):
    prayer = _submit(user)
    if action == "restore":
        services.archive_prayer(acting_user=user, prayer=prayer)
    prayer.refresh_from_db()
    kinds_before, file_before = _kinds(prayer), archive_files.read_bytes(prayer.archive_path)
    response = client_for(other_user).post(_url(prayer, action), {"testimony": "Not mine to tell"})
    assert response.status_code == 403
    assert _kinds(prayer) == kinds_before
    assert archive_files.read_bytes(prayer.archive_path) == file_before
    refreshed = Prayer.objects.get(pk=prayer.pk)
    assert (refreshed.is_answered, refreshed.is_archived, refreshed.testimony) == (
        prayer.is_answered,
        prayer.is_archived,
        "",
    )


def test_archiving_takes_a_request_off_the_wall_into_the_authors_archived_list(user, other_user, client_for):
    prayer = _submit(user, "Archive me")
    client = client_for(user)
    response = client.post(_url(prayer, "archive"), follow=True)
    assertRedirects(response, _url(prayer))
    assert "Request archived: it is no longer on the wall." in _messages(response)
    prayer.refresh_from_db()
    assert prayer.is_archived
    assert _wall_prayers(client.get(WALL)) == []
    mine = client.get(MY_ARCHIVED)
    assert _wall_prayers(mine) == [prayer]
    assertContains(mine, "Archive me")
    assertContains(mine, f'action="{_url(prayer, "restore")}"')
    assertNotContains(mine, "Share a request")


def test_another_users_archived_list_does_not_show_someone_elses_archived_request(user, other_user, client_for):
    prayer = _submit(user, "Archive me")
    services.archive_prayer(acting_user=user, prayer=prayer)
    _submit(other_user, "Bob's open request")
    response = client_for(other_user).get(MY_ARCHIVED)
    assert _wall_prayers(response) == []
    assertNotContains(response, "Archive me")
    assertContains(response, "You have no archived requests.")


def test_archiving_an_archived_request_shows_an_error_and_records_nothing(user, client_for):
    prayer = _submit(user)
    services.archive_prayer(acting_user=user, prayer=prayer)
    response = client_for(user).post(_url(prayer, "archive"), follow=True)
    assert _messages(response) == ["This request is already archived."]
    assert _kinds(prayer) == ["archived"]


def test_restoring_brings_a_request_back_to_the_wall(user, other_user, client_for):
    prayer = _submit(user)
    services.archive_prayer(acting_user=user, prayer=prayer)
    client = client_for(user)
    response = client.post(_url(prayer, "restore"), {"next": MY_ARCHIVED}, follow=True)
    assertRedirects(response, MY_ARCHIVED)
    assert "Request restored: it is back on the wall." in _messages(response)
    assert _wall_prayers(response) == []
    assert _wall_prayers(client_for(other_user).get(WALL)) == [prayer]
    assert _kinds(prayer) == ["archived", "restored"]


def test_the_archived_list_keeps_its_filter_across_pages(user, client_for):
    PrayerFactory.create_batch(21, author=user, is_archived=True)
    response = client_for(user).get(MY_ARCHIVED)
    assertContains(response, 'href="?archived=mine&amp;page=2"')
    assert len(_wall_prayers(client_for(user).get(MY_ARCHIVED + "&page=2"))) == 1


# Flagging


def test_anyone_can_flag_a_request_and_staff_find_it_in_the_admin(user, other_user, client_for):
    prayer = _submit(user)
    response = client_for(other_user).post(_url(prayer, "flag"), follow=True)
    assertRedirects(response, _url(prayer))
    assert "Thank you. Staff will review this request." in _messages(response)
    flagged = Activity.objects.get(kind="flagged")
    assert (flagged.prayer, flagged.actor) == (prayer, other_user)
    assert "Bob flagged this prayer" in archive_files.read_bytes(prayer.archive_path).decode()

    ActivityFactory(prayer=prayer, actor=other_user)  # a "prayed" event, which the filter leaves out
    staff = UserFactory(is_staff=True, is_superuser=True)
    changelist = client_for(staff).get("/admin/archives/activity/", {"kind__exact": "flagged"})
    assert list(changelist.context["cl"].result_list) == [flagged]
