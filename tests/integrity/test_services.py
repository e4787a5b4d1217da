import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from integrity import services
from integrity.models import Quarantine, RepairJournal
from integrity.registry import Change, Plan
from lib import archive_files
from lib.archive_files import Appended
from onboarding.models import OnboardingSession, WebsiteAnalysis
from tests.accounts.factories import UserFactory
from tests.mergeapp.models import Doc, Workspace
from tests.onboarding.factories import WebsiteAnalysisFactory

pytestmark = pytest.mark.django_db


def rename_key(user, old, new):
    return Change(model=User, pk=user.pk, before={"username_key": old}, after={"username_key": new})


def test_a_change_to_a_row_that_moved_on_since_planning_is_skipped_not_forced():
    a, b = UserFactory(username="A1"), UserFactory(username="B1")
    plan = Plan(changes=[rename_key(a, "a1", "x"), rename_key(b, "something else", "y")])

    journal = services.apply_plans(plans={"test.check": plan})

    assert journal.summary == {"test.check": {"changed": 1, "skipped": 1}}
    assert list(journal.changes.values_list("object_pk", flat=True)) == [str(a.pk)]
    b.refresh_from_db()
    assert b.username_key == "b1"


def test_a_failing_batch_marks_the_journal_failed_and_keeps_earlier_batches():
    a, b, c = UserFactory(username="A1"), UserFactory(username="B1"), UserFactory(username="C1")
    # The second batch collides with a's new key on the unique constraint.
    plan = Plan(changes=[rename_key(a, "a1", "x"), rename_key(b, "b1", "y"), rename_key(c, "c1", "x")])

    with pytest.raises(Exception):  # noqa: B017, PT011 - the database's IntegrityError
        services.apply_plans(plans={"test.check": plan}, batch_size=2)

    journal = RepairJournal.objects.get()
    assert journal.status == RepairJournal.Status.FAILED
    assert journal.changes.count() == 2
    assert sorted(User.objects.values_list("username_key", flat=True)) == ["c1", "x", "y"]
    services.undo_repair(journal_id=journal.pk)
    assert sorted(User.objects.values_list("username_key", flat=True)) == ["a1", "b1", "c1"]


def test_quarantining_the_same_record_twice_stores_it_once():
    first, created = services.quarantine(source="thywill:a.txt:3", reason="unknown_line", payload={"line": "x"})
    again, created_again = services.quarantine(source="thywill:a.txt:3", reason="unknown_line", payload={"line": "x"})
    other, _ = services.quarantine(source="thywill:a.txt:4", reason="unknown_line", payload={"line": "x"})
    assert (created, created_again) == (True, False)
    assert first == again != other
    assert Quarantine.objects.count() == 2
    assert first.status == Quarantine.Status.OPEN


def test_only_heals_imports_and_merges_can_be_undone():
    journal = RepairJournal.objects.create(kind="export", status=RepairJournal.Status.APPLIED)
    with pytest.raises(
        ValidationError, match=r"\(export\) cannot be undone: only heals, imports, merges and reviews can"
    ):
        services.undo_repair(journal_id=journal.pk)
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED


@pytest.mark.parametrize(
    ("pks", "ranges"),
    [([], []), ([7], [[7, 7]]), ([1, 2, 3, 5, 6, 9], [[1, 3], [5, 6], [9, 9]])],
)
def test_pk_ranges_are_runs_of_consecutive_pks(pks, ranges):
    assert services.pk_ranges(pks) == ranges


def test_a_journal_that_kept_counts_only_is_not_undone_as_if_it_had_restored_something():
    journal = RepairJournal.objects.create(
        kind="import", status=RepairJournal.Status.APPLIED, description="import_alwrity x.db", summary={"created": 3}
    )
    with pytest.raises(ValidationError, match="recorded counts \\(import_alwrity x.db\\), not the rows it changed"):
        services.undo_repair(journal_id=journal.pk)
    journal.refresh_from_db()
    assert journal.status == RepairJournal.Status.APPLIED


def appends_journal(appends):
    journal = RepairJournal.objects.create(kind="import", status=RepairJournal.Status.APPLIED)
    services.record(services.appended_files(journal=journal, label="test", appends=appends))
    return journal


def test_appends_are_journaled_as_one_row_per_unbroken_run_of_a_file():
    journal = appends_journal(
        [Appended("a.txt", None, 10), Appended("a.txt", 10, 15), Appended("b.txt", 3, 5), Appended("a.txt", 20, 25)]
    )
    rows = [(c.object_pk, c.before["size"], c.after["size"]) for c in journal.changes.order_by("pk")]
    assert rows == [("a.txt", None, 15), ("a.txt", 20, 25), ("b.txt", 3, 5)]


def test_undo_cuts_appended_files_back_and_deletes_the_ones_the_repair_created(
    archive_root, django_capture_on_commit_callbacks
):
    (archive_root / "old.txt").write_bytes(b"before\n")
    with archive_files.recording_appends() as appended:
        archive_files.append("old.txt", "first\n")
        archive_files.append_creating("new.txt", header="H\n", text="x\n")
    first = appends_journal(appended)
    with archive_files.recording_appends() as appended:
        archive_files.append("old.txt", "second\n")
    second = appends_journal(appended)

    with django_capture_on_commit_callbacks(execute=True):
        services.undo_repair(journal_id=second.pk)
    assert (archive_root / "old.txt").read_bytes() == b"before\nfirst\n"
    with django_capture_on_commit_callbacks(execute=True):
        services.undo_repair(journal_id=first.pk)
    assert (archive_root / "old.txt").read_bytes() == b"before\n"
    assert not (archive_root / "new.txt").exists()


def test_undo_refuses_to_cut_away_lines_someone_appended_between_two_of_the_repairs_appends(archive_root):
    (archive_root / "log.txt").write_bytes(b"")
    with archive_files.recording_appends() as ours:
        archive_files.append("log.txt", "ours 1\n")
    archive_files.append("log.txt", "someone else's\n")
    with archive_files.recording_appends() as more:
        archive_files.append("log.txt", "ours 2\n")
    journal = appends_journal(ours + more)

    with pytest.raises(ValidationError, match="log.txt has changed since"):
        services.undo_repair(journal_id=journal.pk)
    assert (archive_root / "log.txt").read_bytes() == b"ours 1\nsomeone else's\nours 2\n"


def test_delete_alone_deletes_a_row_a_set_null_relation_could_point_at_but_does_not():
    analysis = WebsiteAnalysisFactory()  # OnboardingSession.website is SET_NULL: nobody chose it
    assert services.delete_alone(WebsiteAnalysis.objects.filter(pk=analysis.pk), refused="No") == 1
    assert not WebsiteAnalysis.objects.filter(pk=analysis.pk).exists()


def test_delete_alone_refuses_a_row_that_a_set_null_relation_points_at():
    analysis = WebsiteAnalysisFactory()
    OnboardingSession.objects.filter(pk=analysis.session_id).update(website=analysis)
    with pytest.raises(ValidationError, match="No: .*would also delete or change onboarding.onboardingsession"):
        services.delete_alone(WebsiteAnalysis.objects.filter(pk=analysis.pk), refused="No")
    assert WebsiteAnalysis.objects.filter(pk=analysis.pk).exists()


def journal_of_small_imports(groups: int) -> RepairJournal:
    """A journal as an import with one transaction per user writes it: user, workspace, doc, user, …"""
    journal = RepairJournal.objects.create(kind="import", status=RepairJournal.Status.APPLIED)
    for n in range(groups):
        user = UserFactory()
        workspace = Workspace.objects.create(owner=user)
        doc = Doc.objects.create(workspace=workspace, slug=f"doc-{n}")
        services.record(
            [
                row
                for model, pk in ((User, user.pk), (Workspace, workspace.pk), (Doc, doc.pk))
                for row in services.created_rows(journal=journal, label="test", model=model, pks=[pk])
            ]
        )
    return journal


def test_undo_deletes_many_small_creations_a_model_at_a_time_children_first():
    UserFactory(username="Bystander")
    counts = []
    for groups in (3, 30):
        journal = journal_of_small_imports(groups)
        with CaptureQueriesContext(connection) as queries:
            services.undo_repair(journal_id=journal.pk)
        counts.append(len(queries))
        assert not Workspace.objects.exists()
        assert not Doc.objects.exists()
        assert list(User.objects.values_list("username", flat=True)) == ["Bystander"]
    assert counts[0] == counts[1]  # one DELETE per model, not one per journaled change


class Report:
    def __init__(self, changed):
        self.changed_anything, self.journal_id = changed, None

    def as_dict(self):
        return {"changed": self.changed_anything}


def test_an_import_journal_is_failed_when_the_import_stops_part_way():
    report = Report(changed=True)
    with pytest.raises(RuntimeError), services.import_journal(report=report, execute=True, description="x") as journal:
        raise RuntimeError("disk full")
    journal.refresh_from_db()
    assert (journal.status, journal.summary) == (RepairJournal.Status.FAILED, {"changed": True})


@pytest.mark.parametrize("changed", [True, False])
def test_an_import_journal_is_kept_when_the_import_changed_something_and_removed_otherwise(changed):
    report = Report(changed=changed)
    with services.import_journal(report=report, execute=True, description="x") as journal:
        assert journal.status == RepairJournal.Status.RUNNING
    assert RepairJournal.objects.filter(status=RepairJournal.Status.APPLIED).exists() == changed
    assert (report.journal_id is not None) == changed


def test_a_dry_run_has_no_import_journal():
    with services.import_journal(report=Report(changed=True), execute=False) as journal:
        assert journal is None
    assert not RepairJournal.objects.exists()
