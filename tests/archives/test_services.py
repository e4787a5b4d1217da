import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from archives import services
from archives.archive_format import parse_event_line, parse_prayer_file
from archives.models import Activity, Prayer
from lib import archive_files
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def archived_file(prayer):
    return archive_files.read_bytes(prayer.archive_path).decode().split("\n")


def test_submitting_writes_the_archive_file_then_the_row(user, archive_root):
    prayer = services.submit_prayer(
        acting_user=user, request="\r\nPlease pray for my mother.\r\n\r\nShe is ill.\r\n", generated_prayer="Amen."
    )
    assert prayer.request == "Please pray for my mother.\n\nShe is ill."
    assert prayer.archive_path.startswith("prayers/")
    assert not prayer.archive_path.startswith("/")
    parsed = parse_prayer_file(archived_file(prayer))
    assert (parsed.archive_id, parsed.author_id, parsed.request, parsed.generated_prayer) == (
        prayer.archive_id,
        user.external_id,
        prayer.request,
        "Amen.",
    )
    assert parsed.submitted_at == prayer.submitted_at


def test_two_prayers_in_the_same_minute_get_two_files(user, other_user, time_machine):
    time_machine.move_to("2025-06-05 09:07:10Z")
    first = services.submit_prayer(acting_user=user, request="One")
    second = services.submit_prayer(acting_user=other_user, request="Two")
    assert first.archive_path == "prayers/2025/06/2025_06_05_prayer_at_0907.txt"
    assert second.archive_path == "prayers/2025/06/2025_06_05_prayer_at_0907_2.txt"
    assert parse_prayer_file(archived_file(first)).request == "One"
    assert parse_prayer_file(archived_file(second)).request == "Two"


def test_an_archive_write_failure_fails_the_request_and_changes_nothing(user, archive_root):
    (archive_root / "prayers").write_text("a file where the prayers folder should be")
    with pytest.raises(archive_files.ArchiveWriteError, match="prayers/"):
        services.submit_prayer(acting_user=user, request="Hello")
    assert not Prayer.objects.exists()


def test_each_prayed_mark_is_an_event_in_the_file_and_the_table(user, other_user):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    services.mark_prayed(acting_user=other_user, prayer=prayer)
    services.mark_prayed(acting_user=other_user, prayer=prayer)
    lines = parse_prayer_file(archived_file(prayer)).activity
    assert [parse_event_line(line).kind for line in lines] == ["prayed", "prayed"]
    assert {parse_event_line(line).actor_id for line in lines} == {other_user.external_id}
    assert Activity.objects.filter(prayer=prayer, kind="prayed", actor=other_user).count() == 2


def test_answered_with_testimony_then_archive_and_restore_derive_the_state(user):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    services.mark_answered(acting_user=user, prayer=prayer, testimony="She is home.\nThank you all.")
    prayer.refresh_from_db()
    assert (prayer.is_answered, prayer.testimony, prayer.is_archived) == (True, "She is home.\nThank you all.", False)
    services.archive_prayer(acting_user=user, prayer=prayer)
    prayer.refresh_from_db()
    assert prayer.is_archived
    services.restore_prayer(acting_user=user, prayer=prayer)
    prayer.refresh_from_db()
    assert not prayer.is_archived
    kinds = [parse_event_line(line).kind for line in parse_prayer_file(archived_file(prayer)).activity]
    assert kinds == ["answered", "testimony", "archived", "restored"]


@pytest.mark.parametrize("action", [services.mark_answered, services.archive_prayer, services.restore_prayer])
def test_only_the_author_may_answer_archive_or_restore(user, other_user, action):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    with pytest.raises(PermissionDenied):
        action(acting_user=other_user, prayer=prayer)
    assert not Activity.objects.exists()


def test_anyone_may_flag_and_an_archived_request_cannot_be_prayed_for(user, other_user):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    services.flag_prayer(acting_user=other_user, prayer=prayer)
    services.archive_prayer(acting_user=user, prayer=prayer)
    with pytest.raises(ValidationError, match="archived"):
        services.mark_prayed(acting_user=UserFactory(), prayer=prayer)
    assert list(prayer.activities.values_list("kind", flat=True)) == ["flagged", "archived"]


def test_an_empty_request_is_refused(user):
    with pytest.raises(ValidationError):
        services.submit_prayer(acting_user=user, request=" \r\n ")
    assert not Prayer.objects.exists()
