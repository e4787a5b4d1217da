"""Properties of import_conversations on generated legacy databases (hypothesis): whatever the rows, the
rules' invariants hold, a second run changes nothing, row order does not matter, and undo takes it back."""

import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import ChatSession, Conversation, Message
from integrity.models import Quarantine, RepairJournal
from integrity.services import undo_repair
from tests.conversations import legacy_db
from tests.conversations.test_import_conversations import snapshot

pytestmark = pytest.mark.django_db

START = datetime(2024, 5, 1, tzinfo=UTC)
SUBS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]


def pg(offset_ms: int) -> str:
    value = START + timedelta(milliseconds=offset_ms)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".") + "+00"


@st.composite
def legacy_rows(draw):
    sessions, messages = [], []
    for s in range(draw(st.integers(1, 6))):
        sub = draw(st.sampled_from(SUBS))
        started = draw(st.integers(0, 4 * 3600 * 1000)) + s  # ms; distinct per session
        status = draw(st.sampled_from(["active", "active", "ended", "escalated"]))
        sessions.append((f"s{s}", sub, status, pg(started), None, None, None))
        for m in range(draw(st.integers(0, 4))):
            at = started + draw(st.integers(1, 40 * 60 * 1000)) * 7 + m
            sid = draw(st.sampled_from([None, "", "SMa", "SMb", "SMc", f"SMu{s}{m}"]))
            direction = draw(st.sampled_from(["inbound", "outbound"]))
            messages.append((f"m{s}-{m}", f"s{s}", direction, "x", sid, None, pg(at)))
    # No two messages of one subcontractor share a millisecond (the export guarantees it).
    seen, unique = set(), []
    owner = {sid: sub for sid, sub, *_ in sessions}
    for message in messages:
        key = (owner[message[1]], message[6])
        if key not in seen:
            seen.add(key)
            unique.append(message)
    # last_message_at is the newest message of the session (as in the legacy data).
    newest = {}
    for message in unique:
        newest[message[1]] = max(newest.get(message[1], ""), message[6])
    sessions = [(sid, sub, st_, created, newest.get(sid), e, r) for sid, sub, st_, created, _, e, r in sessions]
    return {
        "subcontractors": [(sub, "+1", f"Sub {n}") for n, sub in enumerate(SUBS)],
        "sessions": sessions,
        "messages": unique,
    }


def state():
    sessions = {
        s.legacy_id: (s.status, s.merged_into.legacy_id if s.merged_into else None, s.last_activity_at)
        for s in ChatSession.objects.select_related("merged_into")
    }
    messages = {m.legacy_id: (m.session.legacy_id, m.external_id) for m in Message.objects.select_related("session")}
    return sessions, messages, Quarantine.objects.count(), Conversation.objects.count()


def import_(rows) -> tuple:
    with tempfile.TemporaryDirectory() as folder:
        path = legacy_db.build(Path(folder) / "legacy.db", **rows)
        with transaction.atomic():
            call_command("import_conversations", "--db", path, "--execute", stdout=StringIO(), stderr=StringIO())
            first = state()
            call_command("import_conversations", "--db", path, "--execute", stdout=StringIO(), stderr=StringIO())
            second = state()
            transaction.set_rollback(True)
    return first, second


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=legacy_rows())
def test_the_rules_invariants_hold_and_a_second_run_changes_nothing(rows):
    (sessions, messages, _, _), second = import_(rows)
    assert second[:2] == (sessions, messages)

    by_user_active = Counter(sub for sid, sub, *_ in rows["sessions"] if sessions[sid][0] == "active")
    assert all(n <= 1 for n in by_user_active.values())  # S3 + S5
    for legacy_id, (status, target, _) in sessions.items():
        if status == "merged":
            assert sessions[target][0] != "merged"  # never along a chain
            assert all(session != legacy_id for session, _ in messages.values())  # no messages left behind
    owner = {sid: sub for sid, sub, *_ in rows["sessions"]}
    provider_ids = Counter((owner[session], sid) for session, sid in messages.values() if sid)
    assert all(n == 1 for n in provider_ids.values())  # S4
    legacy_ids = {(owner[m[1]], m[4]) for m in rows["messages"] if m[4]}
    assert set(provider_ids) == legacy_ids  # every provider id kept once
    blank = sum(1 for m in rows["messages"] if not m[4])
    assert sum(1 for _, sid in messages.values() if not sid) == blank  # blank ids are never deduplicated


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=legacy_rows())
def test_row_order_does_not_matter(rows):
    forward, _ = import_(rows)
    backward, _ = import_({table: list(reversed(values)) for table, values in rows.items()})
    assert forward[:2] == backward[:2]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=legacy_rows())
def test_undoing_an_import_gives_back_the_database_and_archive_it_found(
    rows, archive_files, django_capture_on_commit_callbacks
):
    with tempfile.TemporaryDirectory() as folder:
        path = legacy_db.build(Path(folder) / "legacy.db", **rows)
        with transaction.atomic():
            database, files = snapshot(), archive_files()
            call_command("import_conversations", "--db", path, "--execute", stdout=StringIO(), stderr=StringIO())
            with django_capture_on_commit_callbacks(execute=True):  # the archive lines go once undo commits
                undo_repair(journal_id=RepairJournal.objects.get(kind="import").pk)
            assert snapshot() == database
            assert archive_files() == files
            transaction.set_rollback(True)
