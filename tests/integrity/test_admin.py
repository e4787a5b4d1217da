"""The repair journal's pages: a journal shows its first changes and links to all of them, a page at a time."""

import pytest

from integrity.models import RepairChange, RepairJournal
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client_for):
    return client_for(UserFactory(username="Admin", is_staff=True, is_superuser=True))


def journal_with(changes: int) -> RepairJournal:
    journal = RepairJournal.objects.create(kind="heal", status=RepairJournal.Status.APPLIED, description="test")
    RepairChange.objects.bulk_create(
        RepairChange(
            journal=journal,
            check_name="test.check",
            model="accounts.user",
            object_pk=str(n),
            before={"username_key": f"old{n}"},
            after={"username_key": f"new{n}"},
        )
        for n in range(changes)
    )
    return journal


def test_a_journal_page_shows_its_first_changes_and_links_to_all_of_them(staff):
    journal = journal_with(150)
    text = staff.get(f"/admin/integrity/repairjournal/{journal.pk}/change/").content.decode()
    assert "accounts.user 19: {&#x27;username_key&#x27;: &#x27;new19&#x27;}" in text  # the 20th
    assert "new20" not in text
    assert f"All 150 change(s) of repair #{journal.pk}" in text
    assert f"/admin/integrity/repairchange/?journal__id__exact={journal.pk}" in text


def test_the_changes_of_one_journal_are_listed_a_hundred_to_a_page(staff):
    journal, other = journal_with(150), journal_with(3)
    url = f"/admin/integrity/repairchange/?journal__id__exact={journal.pk}"
    first = staff.get(url)
    assert first.status_code == 200
    assert first.context["cl"].result_count == 150
    assert len(first.context["cl"].result_list) == 100
    assert {change.journal_id for change in first.context["cl"].result_list} == {journal.pk}
    second = staff.get(url + "&p=2")
    assert len(second.context["cl"].result_list) == 50
    assert other.changes.count() == 3


def test_changes_cannot_be_edited_or_deleted_in_the_admin(staff):
    change = journal_with(1).changes.get()
    page = staff.get(f"/admin/integrity/repairchange/{change.pk}/change/")
    assert page.status_code == 200
    assert b'type="submit"' not in page.content.split(b'id="content-main"')[1]
    assert staff.post(f"/admin/integrity/repairchange/{change.pk}/delete/").status_code == 403
