"""A staff member merges two users in the admin and undoes it, in headless Chromium (Debian's; no download)."""

import pytest

from accounts.models import User
from archives.models import Prayer
from integrity.models import RepairJournal
from tests.accounts.factories import UserFactory
from tests.archives.factories import ActivityFactory, PrayerFactory
from tests.conftest import needs_chromium

PASSWORD = "a long browser passphrase"

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]  # live_server needs committed data


@pytest.fixture
def people():
    # Made before Playwright starts its event loop in this thread (see tests/onboarding/test_browser.py).
    staff = UserFactory(username="Staff", password=PASSWORD, is_staff=True, is_superuser=True)
    grace, loser = UserFactory(username="Grace Lee"), UserFactory(username="GraceLee")
    ActivityFactory(prayer=PrayerFactory(author=loser), actor=loser)
    return staff, grace, loser


def test_staff_merge_two_users_confirm_and_undo_in_a_browser(people, browser, live_server):
    staff, grace, loser = people
    page = browser.new_context().new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/admin/login/?next=/admin/accounts/user/%3Fduplicates%3Dyes")
    page.fill("input[name=username]", "Staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")

    # The possible-duplicates queue lists the pair; select both and choose the action.
    page.wait_for_url("**/admin/accounts/user/?duplicates=yes")
    for user in (grace, loser):
        page.check(f"input[name=_selected_action][value='{user.pk}']")
    page.select_option("select[name=action]", "merge_selected")
    page.click("button[name=index]")

    # The plan page: pick the survivor, read the plan, confirm.
    page.wait_for_selector("text=Which user stays?")
    page.check(f"input[name=survivor][value='{grace.pk}']")
    page.click("input[name=replan]")
    assert "merge GraceLee into Grace Lee" in page.inner_text("#content")
    assert "archives.prayer.author" in page.inner_text("#content table")
    page.click("button[name=confirm]")

    message = page.inner_text(".messagelist")
    assert "Merged GraceLee into Grace Lee" in message
    loser.refresh_from_db()
    assert loser.merged_into_id == grace.pk
    assert Prayer.objects.get().author_id == grace.pk

    # The message links the journal entry; undo it from there.
    page.click(".messagelist a")
    journal = RepairJournal.objects.get(kind="merge")
    page.wait_for_url(f"**/admin/integrity/repairjournal/{journal.pk}/change/")
    page.goto(f"{live_server.url}/admin/integrity/repairjournal/")
    page.check(f"input[name=_selected_action][value='{journal.pk}']")
    page.select_option("select[name=action]", "undo_selected")
    page.click("button[name=index]")
    assert "point 1 archives.prayer row(s) back" in page.inner_text("#content")
    page.click("button[name=confirm]")

    assert f"Undid repair #{journal.pk}" in page.inner_text(".messagelist")
    loser.refresh_from_db()
    assert loser.merged_into_id is None
    assert Prayer.objects.get().author_id == loser.pk
    assert User.objects.filter(merged_into__isnull=False).count() == 0
