import re

import pytest

from archives import integrity, services
from archives.models import Prayer
from tests.archives.factories import ActivityFactory, PrayerFactory

pytestmark = pytest.mark.django_db


def test_state_that_disagrees_with_the_events_is_found_and_recomputed(user):
    fine = services.submit_prayer(acting_user=user, request="Fine")
    services.mark_answered(acting_user=user, prayer=fine, testimony="Yes")
    wrong = services.submit_prayer(acting_user=user, request="Wrong")
    services.mark_answered(acting_user=user, prayer=wrong, testimony="Home now")
    services.archive_prayer(acting_user=user, prayer=wrong)
    Prayer.objects.filter(pk=wrong.pk).update(is_answered=False, is_archived=False, testimony="")
    never_archived = PrayerFactory(is_archived=True)  # no events at all

    finding = integrity.stale_prayer_states.find()
    assert (finding.count, finding.sample) == (2, [wrong.pk, never_archived.pk])

    plan = integrity.stale_prayer_states.plan_fix()
    assert [(c.pk, c.before, c.after) for c in plan.changes] == [
        (
            wrong.pk,
            {"is_answered": False, "is_archived": False, "testimony": ""},
            {"is_answered": True, "is_archived": True, "testimony": "Home now"},
        ),
        (never_archived.pk, {"is_archived": True}, {"is_archived": False}),
    ]


def test_the_latest_of_archive_and_restore_decides(user):
    prayer = PrayerFactory(is_archived=True)
    ActivityFactory(prayer=prayer, kind="archived", at=prayer.submitted_at.replace(hour=1))
    ActivityFactory(prayer=prayer, kind="restored", at=prayer.submitted_at.replace(hour=2))
    assert integrity.stale_prayer_states.find().sample == [prayer.pk]
    Prayer.objects.filter(pk=prayer.pk).update(is_archived=False)
    assert integrity.stale_prayer_states.find().count == 0


def test_a_prayer_whose_file_is_missing_or_outside_the_root_is_found(user, archive_root):
    present = services.submit_prayer(acting_user=user, request="Here")
    gone = services.submit_prayer(acting_user=user, request="Gone")
    (archive_root / gone.archive_path).unlink()
    escaped = PrayerFactory(archive_path="../../etc/passwd")
    absolute = PrayerFactory(archive_path="/tmp/thywill-import-xyz/prayers/a.txt")
    finding = integrity.missing_archive_files.find()
    assert finding.sample == [gone.pk, escaped.pk, absolute.pk]
    assert present.pk not in finding.sample


@pytest.mark.parametrize("check", [integrity.stale_prayer_states, integrity.missing_archive_files], ids=str)
def test_a_checks_query_count_does_not_grow_with_the_number_of_prayers(check, django_assert_max_num_queries):
    def make(count):
        for prayer in PrayerFactory.create_batch(count, is_answered=True, archive_path="prayers/missing.txt"):
            ActivityFactory(prayer=prayer, kind="archived")

    make(3)
    with django_assert_max_num_queries(2) as small:
        assert check.find().count == 3
    make(30)
    with django_assert_max_num_queries(2) as large:
        assert check.find().count == 33
    assert len(large.captured_queries) == len(small.captured_queries)


def test_heal_rewrites_a_missing_file_in_place_from_the_database_and_undo_removes_it(
    user, other_user, archive_root, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    from archives.archive_format import parse_event_line, parse_prayer_file
    from integrity.models import RepairJournal

    prayer = services.submit_prayer(acting_user=user, request="Line one\n\nActivity:\nline four")
    services.mark_prayed(acting_user=other_user, prayer=prayer)
    services.mark_answered(acting_user=user, prayer=prayer, testimony="Home\nnow")
    original = (archive_root / prayer.archive_path).read_text()
    (archive_root / prayer.archive_path).unlink()
    escaped = PrayerFactory(archive_path="/tmp/thywill-xyz/a.txt")

    out = StringIO()
    call_command("heal", "--execute", "--only", "archives.missing_archive_file", stdout=out)

    assert f"skipped: archives.prayer {escaped.pk}: its stored path is outside the archive root" in out.getvalue()
    rewritten = (archive_root / prayer.archive_path).read_text()
    assert rewritten == original
    parsed = parse_prayer_file(rewritten.split("\n"))
    assert parsed.request == prayer.request
    assert [parse_event_line(line).kind for line in parsed.activity] == ["prayed", "answered", "testimony"]
    assert sorted(p.name for p in (archive_root / prayer.archive_path).parent.iterdir()) == [
        prayer.archive_path.rsplit("/", 1)[1]
    ]
    assert integrity.missing_archive_files.find().sample == [escaped.pk]

    journal = RepairJournal.objects.get()
    with django_capture_on_commit_callbacks(execute=True):  # files go once the database part has committed
        call_command("undo_repair", str(journal.pk), stdout=StringIO())
    assert not (archive_root / prayer.archive_path).exists()


def test_undo_refuses_to_delete_a_rewritten_file_that_has_grown_since(user, other_user, archive_root):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from integrity.models import RepairJournal

    prayer = services.submit_prayer(acting_user=user, request="Hello")
    (archive_root / prayer.archive_path).unlink()
    call_command("heal", "--execute", "--only", "archives.missing_archive_file", stdout=StringIO())
    services.mark_prayed(acting_user=other_user, prayer=prayer)

    journal = RepairJournal.objects.get()
    with pytest.raises(CommandError, match="has changed since the repair wrote it"):
        call_command("undo_repair", str(journal.pk), stdout=StringIO())
    assert (archive_root / prayer.archive_path).exists()


def test_the_archive_check_runs_three_queries_whatever_the_number_of_prayers(
    user, other_user, django_assert_max_num_queries
):
    def make(count):
        for n in range(count):
            prayer = services.submit_prayer(acting_user=user, request=f"Request {n}")
            services.mark_prayed(acting_user=other_user, prayer=prayer)

    make(2)
    with django_assert_max_num_queries(3) as small:
        assert integrity.archive_disagreements.find().count == 0
    make(20)
    with django_assert_max_num_queries(3) as large:
        assert integrity.archive_disagreements.find().count == 0
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_path_outside_the_root_is_re_pointed_to_the_file_with_the_prayers_id(user, archive_root):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    good_path = prayer.archive_path
    Prayer.objects.filter(pk=prayer.pk).update(archive_path="/tmp/thywill-import-abc/prayers/x.txt")
    moved = services.submit_prayer(acting_user=user, request="Moved")
    elsewhere = re.sub(r"(_\d+)?\.txt$", "_7.txt", moved.archive_path)  # e.g. restored under another name
    (archive_root / moved.archive_path).rename(archive_root / elsewhere)

    plan = integrity.missing_archive_files.plan_fix()

    assert sorted((c.pk, c.after["archive_path"]) for c in plan.changes) == [
        (prayer.pk, good_path),
        (moved.pk, elsewhere),
    ]


def test_null_authors_and_actors_are_re_linked_by_the_archives_ids(user, other_user):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    services.mark_prayed(acting_user=other_user, prayer=prayer)
    services.mark_prayed(acting_user=user, prayer=prayer)
    Prayer.objects.filter(pk=prayer.pk).update(author=None)
    prayed = prayer.activities.order_by("pk")
    prayed.update(actor=None)

    finding = integrity.unlinked_people.find()
    assert finding.count == 3

    plan = integrity.unlinked_people.plan_fix()
    assert sorted((c.model.__name__, c.pk, c.after) for c in plan.changes) == sorted(
        [
            ("Prayer", prayer.pk, {"author_id": user.pk}),
            ("Activity", prayed[0].pk, {"actor_id": other_user.pk}),
            ("Activity", prayed[1].pk, {"actor_id": user.pk}),
        ]
    )


def test_a_placeholder_actor_the_archive_cannot_name_is_left_alone(user):
    prayer = services.submit_prayer(acting_user=user, request="Hello")
    ActivityFactory(prayer=prayer, actor=None, kind="prayed")
    assert integrity.unlinked_people.find().count == 0
