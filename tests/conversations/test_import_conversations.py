"""import_conversations: the sample imports to exactly expected.json, twice with no change, and the rules
of legacy/conversations.md hold on cases the sample does not have."""

import hashlib
import json
from datetime import UTC
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from conversations.models import ChatSession, Conversation, FieldRevision, ImportedRecord, Message
from integrity.models import Quarantine, RepairJournal
from tests.accounts.factories import UserFactory
from tests.conversations import legacy_db
from tests.conversations.factories import ChatSessionFactory, MessageFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conversations"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def run(db, *args):
    out, err = StringIO(), StringIO()
    call_command("import_conversations", "--db", str(db), *args, stdout=out, stderr=err)
    return out.getvalue()


def ms(value):
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def snapshot():
    """Every row of every model the import writes, primary keys included."""
    models = [User, Conversation, FieldRevision, ChatSession, Message, Quarantine, ImportedRecord]
    return {m.__name__: sorted(map(repr, m.objects.order_by("pk").values())) for m in models}


def actual_state():
    users = []
    for user in User.objects.order_by("external_id"):
        sessions = []
        for s in ChatSession.objects.filter(user=user).order_by("started_at"):
            messages = [
                {
                    "created_at": ms(m.created_at),
                    "direction": m.direction,
                    "external_id": m.external_id,
                    "body": m.body,
                    "tool_outputs": m.tool_outputs,
                }
                for m in s.messages.order_by("created_at")
            ]
            sessions.append(
                {
                    "started_at": ms(s.started_at),
                    "status": s.status,
                    "merged_into": ms(s.merged_into.started_at) if s.merged_into else None,
                    "last_activity_at": None if s.status == "merged" else ms(s.last_activity_at),
                    "messages": messages,
                }
            )
        users.append({"external_id": user.external_id, "username": user.username, "sessions": sessions})
    conversations = [
        {"owner": c.owner.external_id, "session_id": c.session_id, "transcript": c.transcript, "analysis": c.analysis}
        for c in Conversation.objects.select_related("owner").order_by("owner__external_id", "session_id")
    ]
    return users, conversations


def expected_state():
    users = [
        {
            "external_id": u["external_id"],
            "username": u["username"],
            "sessions": [
                {
                    "started_at": s["started_at"],
                    "status": s["status"],
                    "merged_into": s["merged_into"],
                    "last_activity_at": None if s["status"] == "merged" else s["last_activity_at"],
                    "messages": [
                        {k: m[k] for k in ("created_at", "direction", "external_id", "body", "tool_outputs")}
                        for m in s["messages"]
                    ],
                }
                for s in u["sessions"]
            ],
        }
        for u in sorted(EXPECTED["users"], key=lambda u: u["external_id"])
    ]
    conversations = [
        {k: c[k] for k in ("owner", "session_id", "transcript", "analysis")}
        for c in sorted(EXPECTED["conversations"], key=lambda c: (c["owner"], c["session_id"]))
    ]
    return users, conversations


def test_the_sample_imports_to_exactly_the_expected_state(sample):
    run(sample, "--execute")
    users, conversations = actual_state()
    want_users, want_conversations = expected_state()
    assert conversations == want_conversations
    assert users == want_users
    assert Quarantine.objects.filter(source="conversations", reason="replaced_value").count() == 6
    assert Quarantine.objects.count() == 6


def test_the_second_import_changes_nothing(sample):
    run(sample, "--execute")
    before = snapshot()
    journals = RepairJournal.objects.count()
    out = run(sample, "--execute")
    assert snapshot() == before
    assert RepairJournal.objects.count() == journals
    assert "already imported" in out


def test_the_dry_run_writes_nothing_and_the_source_is_untouched(sample):
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    out = run(sample)
    assert "Dry run" in out
    assert "10 conversation(s)" in out
    assert "3 retry cop(ies) dropped" in out
    assert snapshot() == {name: [] for name in snapshot()}
    assert not RepairJournal.objects.exists()
    run(sample, "--execute")
    assert hashlib.sha256(sample.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in sample.parent.iterdir()) == ["legacy.db"]  # no -wal/-shm left behind


def test_a_sqlite_url_is_accepted(sample, monkeypatch):
    run(f"sqlite:///{sample}", "--execute")  # sqlite:////absolute/path
    assert Conversation.objects.count() == 10
    monkeypatch.chdir(sample.parent)
    assert "already imported" in run("sqlite:///legacy.db", "--execute")  # sqlite:///relative/path


def test_the_import_is_journaled(sample):
    run(sample, "--execute")
    journal = RepairJournal.objects.get(kind="import")
    assert journal.summary["conversations_created"] == 10
    assert journal.summary["retry_copies_dropped"] == 3


def test_replaced_values_are_also_in_the_conversation_history(sample):
    run(sample, "--execute")
    conversation = Conversation.objects.get(
        owner__external_id="user_2Pq8sLr5Vx1Kc3Mn6Jb0Tg4Wy7", session_id__startswith="18293a4b"
    )
    assert [r.value["summary"] for r in conversation.revisions.all()] == ["Budget review."]


@pytest.mark.parametrize(
    ("db", "message"),
    [("/no/such/file.db", "no such file"), ("postgres://x/y", "only a file path")],
)
def test_a_bad_source_is_a_clear_error(db, message):
    with pytest.raises(CommandError, match=message):
        run(db)


def test_a_file_that_is_not_a_legacy_database_is_a_clear_error(tmp_path):
    path = tmp_path / "x.db"
    path.write_text("not sqlite at all, just text")
    with pytest.raises(CommandError, match="not a SQLite database|cannot open"):
        run(path)


def test_a_bad_now_is_a_clear_error(sample):
    with pytest.raises(CommandError, match="--now"):
        run(sample, "--now", "yesterday")


# --- rules beyond the sample ---

SUB = "11111111-1111-4111-8111-111111111111"


def _session(sid, status, created, last=None):
    return (sid, SUB, status, created, last, None, None)


def _message(mid, session, created, sid=None, direction="inbound", content="x", tools=None):
    return (mid, session, direction, content, sid, tools, created)


def test_an_existing_user_is_reused_and_not_renamed(tmp_path):
    UserFactory(external_id=f"wa:{SUB}", username="Renamed In Cairn")
    db = legacy_db.build(tmp_path / "l.db", subcontractors=[(SUB, "+1", "Legacy Name")])
    out = run(db, "--execute")
    assert User.objects.get(external_id=f"wa:{SUB}").username == "Renamed In Cairn"
    assert "1 already here" in out


def test_names_and_owner_ids_are_usernames_exactly_as_stored(tmp_path):
    other = "22222222-2222-4222-8222-222222222222"
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Ana  Souza "), (other, "+2", "\tBongani\u00a0Dlamini")],
        conversations=[(1, "s", " user_pad ", "t", None, None, "2024-01-01 10:00:00.000000", None)],
    )
    run(db, "--execute")
    names = dict(User.objects.values_list("external_id", "username"))
    assert names == {
        f"wa:{SUB}": "Ana  Souza ",  # U1: exactly as stored
        f"wa:{other}": "\tBongani\u00a0Dlamini",
        " user_pad ": " user_pad ",  # U2: username = user_id
    }
    assert User.objects.get(external_id=f"wa:{SUB}").username_key == "ana souza"


def test_phone_numbers_are_kept_and_never_overwrite_one_already_here(tmp_path):
    other, third = "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
    UserFactory(external_id=f"wa:{other}", username="Here Without Phone")
    UserFactory(external_id=f"wa:{third}", username="Here With Phone", phone_number="+44 20 7946 0000")
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+27720000001", "New"), (other, "+27720000002", "B"), (third, "+27720000003", "C")],
    )
    out = run(db, "--execute")
    phones = dict(User.objects.values_list("external_id", "phone_number"))
    assert phones == {
        f"wa:{SUB}": "+27720000001",  # U1: kept on the user
        f"wa:{other}": "+27720000002",  # filled in where there was none
        f"wa:{third}": "+44 20 7946 0000",  # never overwritten
    }
    assert "2 already here, 1 given their phone number" in out
    assert "0 given their phone number" in run(db, "--execute")  # I1


def test_analyses_equal_as_parsed_json_are_not_replaced_values(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        conversations=[
            (1, "s", "u", None, '{"score": 4, "tags": ["a"]}', None, "2024-01-01 10:00:00.000000", None),
            (2, "s", "u", None, '{"tags": ["a"], "score": 4.0}', None, "2024-01-01 10:00:05.000000", None),
            (3, "s", "u", None, '{"score": 5}', None, "2024-01-01 10:00:01.000000", None),
        ],
    )
    run(db, "--execute")
    assert Conversation.objects.get().analysis == {"tags": ["a"], "score": 4.0}
    # C4/C5: row 1 equals the winner (4 == 4.0, key order aside); only row 3 was replaced.
    assert list(Quarantine.objects.values_list("payload__legacy_row_id", flat=True)) == [3]


def test_three_rows_with_conflicting_values_keep_the_newest_and_record_both_others(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        conversations=[
            (1, "s", "u", "one", '{"v": 1}', None, "2024-01-01 10:00:00.000000", "2024-01-01 10:00:03.000000"),
            (2, "s", "u", "two", '{"v": 2}', None, "2024-01-01 10:00:01.000000", None),
            (3, "s", "u", " ", "null", None, "2024-01-01 10:00:02.000000", "2024-01-01 10:00:09.000000"),
        ],
    )
    run(db, "--execute")
    conversation = Conversation.objects.get()
    # effective updated_at: row 1 10:00:03, row 2 10:00:01 (created_at), row 3 empty everywhere
    assert (conversation.transcript, conversation.analysis) == ("one", {"v": 1})
    assert Quarantine.objects.filter(reason="replaced_value").count() == 2


def test_a_group_without_any_value_is_empty(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        conversations=[
            (1, "s", "u", None, "[]", None, "2024-01-01 10:00:00.000000", None),
            (2, "s", "u", "\n", "{}", "", "2024-01-01 10:00:01.000000", None),
        ],
    )
    run(db, "--execute")
    conversation = Conversation.objects.get()
    assert (conversation.transcript, conversation.analysis) == ("", None)
    assert not Quarantine.objects.exists()


def test_a_conversation_row_without_user_is_quarantined_and_the_rest_imported(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        conversations=[
            (1, "s", None, "t", None, None, "2024-01-01 10:00:00.000000", None),
            (2, "s", "u", "t", None, None, "2024-01-01 10:00:00.000000", None),
        ],
    )
    with pytest.raises(CommandError, match="1 legacy record"):
        run(db, "--execute")
    assert Conversation.objects.count() == 1
    assert Quarantine.objects.get().reason == "conversation_without_user"
    with pytest.raises(CommandError):
        run(db, "--execute")
    assert Quarantine.objects.count() == 1  # the second run adds nothing


def test_orphan_sessions_and_messages_are_quarantined(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Sub")],
        sessions=[
            ("gone-sub", "22222222-2222-4222-8222-222222222222", "ended", "2024-01-01 10:00:00+00", None, None, None)
        ],
        messages=[_message("m1", "gone-session", "2024-01-01 10:00:00+00", "SM1")],
    )
    with pytest.raises(CommandError, match="2 legacy record"):
        run(db, "--execute")
    assert sorted(Quarantine.objects.values_list("reason", flat=True)) == [
        "message_without_session",
        "session_without_subcontractor",
    ]
    assert not ChatSession.objects.exists()


def test_a_chain_of_sessions_each_within_30_minutes_is_one_cluster(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Sub")],
        sessions=[
            _session("a", "active", "2024-01-01 10:00:00+00", "2024-01-01 10:20:00+00"),
            _session("b", "active", "2024-01-01 10:45:00+00", "2024-01-01 11:00:00+00"),
            _session("c", "active", "2024-01-01 11:29:59+00", None),
            _session("d", "active", "2024-01-01 12:00:01+00", None),
        ],
        messages=[_message("m", "d", "2024-01-01 12:00:01+00", "SM1")],
    )
    run(db, "--execute")
    by_legacy = {s.legacy_id: s for s in ChatSession.objects.all()}
    assert by_legacy["b"].merged_into == by_legacy["a"]
    assert by_legacy["c"].merged_into == by_legacy["a"]  # never along a chain
    assert by_legacy["a"].status == "ended"  # S5: its cluster ended 11:29:59, now is 12:00:01
    assert by_legacy["a"].last_activity_at.isoformat() == "2024-01-01T11:29:59+00:00"
    assert by_legacy["d"].status == "active"
    assert ChatSession.objects.filter(status="active").count() == 1


def test_retries_are_one_message_across_merged_sessions_and_blank_ids_are_never_deduplicated(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Sub")],
        sessions=[
            _session("a", "active", "2024-01-01 10:00:00+00"),
            _session("b", "active", "2024-01-01 10:00:00.1+00"),
        ],
        messages=[
            _message("m2", "b", "2024-01-01 10:00:01+00", "SMx"),
            _message("m1", "a", "2024-01-01 10:00:02+00", "SMx"),
            _message("m3", "a", "2024-01-01 10:00:03+00", "", "outbound"),
            _message("m4", "b", "2024-01-01 10:00:04+00", None, "outbound"),
            _message("m5", "a", "2024-01-01 10:00:05+00", "", "outbound"),
        ],
    )
    out = run(db, "--execute")
    survivor = ChatSession.objects.get(legacy_id="a")
    assert list(survivor.messages.values_list("legacy_id", "external_id")) == [
        ("m2", "SMx"),  # the earliest copy, re-pointed from the merged session
        ("m3", None),
        ("m4", None),
        ("m5", None),
    ]
    assert "1 retry cop(ies) dropped" in out
    assert ImportedRecord.objects.get(legacy_id="m1").outcome == "dropped_retry"


def test_an_earlier_now_that_leaves_two_sessions_active_keeps_one(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Sub")],
        sessions=[
            _session("a", "active", "2024-01-01 10:00:00+00", "2024-01-01 10:01:00+00"),
            _session("b", "active", "2024-01-01 12:00:00+00", "2024-01-01 12:01:00+00"),
        ],
    )
    run(db, "--execute", "--now", "2024-01-01T09:00:00Z")
    assert ChatSession.objects.filter(status="active").get().legacy_id == "b"
    assert ChatSession.objects.get(legacy_id="a").end_reason == "superseded"


def test_an_active_session_already_in_cairn_stays_the_only_active_one(tmp_path):
    user = UserFactory(external_id=f"wa:{SUB}")
    live = ChatSessionFactory(user=user)
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Sub")],
        sessions=[_session("a", "active", "2024-01-01 10:00:00+00")],
    )
    run(db, "--execute")
    assert ChatSession.objects.filter(status="active").get() == live


def test_a_provider_id_already_stored_live_is_quarantined_not_duplicated(tmp_path):
    user = UserFactory(external_id=f"wa:{SUB}")
    MessageFactory(session=ChatSessionFactory(user=user, status="ended"), external_id="SMlive")
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Sub")],
        sessions=[_session("a", "ended", "2024-01-01 10:00:00+00")],
        messages=[_message("m1", "a", "2024-01-01 10:00:01+00", "SMlive")],
    )
    with pytest.raises(CommandError):
        run(db, "--execute")
    assert Message.objects.filter(external_id="SMlive").count() == 1
    assert Quarantine.objects.get().reason == "duplicate_provider_id"


def test_a_subcontractor_whose_name_is_taken_is_rejected_with_its_data(tmp_path):
    UserFactory(username="Sub", external_id="someone-else")
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "sub")],
        sessions=[_session("a", "ended", "2024-01-01 10:00:00+00")],
    )
    with pytest.raises(CommandError, match="username_taken|rejected"):
        run(db, "--execute")
    assert not ChatSession.objects.exists()
    assert set(Quarantine.objects.values_list("reason", flat=True)) == {"username_taken", "user_not_imported"}


def test_the_result_does_not_depend_on_row_order(tmp_path):
    rows = {
        "subcontractors": [(SUB, "+1", "Sub")],
        "sessions": [
            _session("a", "active", "2024-01-01 10:00:00+00"),
            _session("b", "active", "2024-01-01 10:00:00.5+00"),
        ],
        "messages": [
            _message("m1", "a", "2024-01-01 10:00:01+00", "SM1"),
            _message("m2", "b", "2024-01-01 10:00:02+00", "SM1"),
        ],
    }
    reversed_rows = {k: list(reversed(v)) for k, v in rows.items()}
    run(legacy_db.build(tmp_path / "one.db", **reversed_rows), "--execute")
    assert list(Message.objects.values_list("legacy_id", flat=True)) == ["m1"]
    assert ChatSession.objects.get(legacy_id="b").status == "merged"


def test_values_longer_than_cairn_keeps_are_rejected_not_truncated(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        conversations=[(1, "s" * 256, "u", "t", None, None, "2024-01-01 10:00:00.000000", None)],
        subcontractors=[(SUB, "+1", "Sub")],
        sessions=[_session("a", "ended", "2024-01-01 10:00:00+00")],
        messages=[_message("m1", "a", "2024-01-01 10:00:01+00", "SM" + "f" * 63)],
    )
    with pytest.raises(CommandError, match="2 legacy record"):
        run(db, "--execute")
    assert list(Quarantine.objects.values_list("reason", flat=True)) == ["value_too_long"] * 2
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_nul_characters_are_stored_as_the_replacement_character_on_every_database(tmp_path):
    db = legacy_db.build(
        tmp_path / "l.db",
        subcontractors=[(SUB, "+1", "Sub\x00")],
        conversations=[(1, "s", "u", "said\x00so", '{"k\\u0000": "v\\u0000"}', None, "2024-01-01 10:00:00", None)],
        sessions=[_session("a", "ended", "2024-01-01 10:00:00+00")],
        messages=[_message("m1", "a", "2024-01-01 10:00:01+00", "SM1", content="hi\x00")],
    )
    run(db, "--execute")
    conversation = Conversation.objects.get()
    assert conversation.transcript == "said\ufffdso"  # PostgreSQL text and jsonb cannot hold NUL
    assert conversation.analysis == {"k\ufffd": "v\ufffd"}
    assert Message.objects.get().body == "hi\ufffd"
    assert User.objects.get(external_id=f"wa:{SUB}").username == "Sub\ufffd"
    before = snapshot()
    assert "already imported" in run(db, "--execute")
    assert snapshot() == before
