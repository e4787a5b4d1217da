"""Read the legacy conversations database and compute what Cairn should hold (legacy/conversations.md).

Pure: `read_legacy(path)` opens the file read-only and returns rows; `plan_import(legacy, now=…)`
applies rules U1–U2, C1–C5 and S1–S5 in memory and returns the final state. Nothing here touches
Cairn's database: conversations.importer writes the plan.
"""

import json
import os
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from django.utils.dateparse import parse_datetime

from lib.text import without_nul

INACTIVITY = timedelta(minutes=30)
# Column sizes in Cairn: a longer legacy value is rejected with a reason, never truncated.
MAX_NAME, MAX_EXTERNAL_ID, MAX_SESSION_ID, MAX_PROVIDER_ID, MAX_LEGACY_ID = 500, 255, 255, 64, 64
TABLES = {
    "conversations": [
        "id",
        "session_id",
        "user_id",
        "transcript",
        "analysis",
        "audio_filename",
        "created_at",
        "updated_at",
    ],
    "subcontractors": ["id", "phone_number", "name"],
    "conversation_sessions": [
        "id",
        "subcontractor_id",
        "status",
        "created_at",
        "last_message_at",
        "ended_at",
        "end_reason",
    ],
    "messages": ["id", "session_id", "direction", "content", "message_sid", "tool_outputs", "created_at"],
}
DIRECTIONS = {"inbound": "in", "outbound": "out"}
STATUSES = {"active", "ended", "escalated"}


class LegacyError(ValueError):
    """The file cannot be read as a legacy conversations database; the message says why."""


@dataclass(frozen=True)
class Rejected:
    """A legacy record that cannot be attached: quarantined with `reason`, the rest goes on."""

    table: str
    legacy_id: str
    reason: str
    why: str
    payload: dict


# --- reading -----------------------------------------------------------------------------------------------


def source_path(db: str) -> str:
    """The file behind --db: a path, or a sqlite:/// URL."""
    if db.startswith("sqlite:///"):
        path = unquote(db.removeprefix("sqlite:///"))  # sqlite:///relative.db, sqlite:////absolute.db
    elif "://" in db:
        raise LegacyError(f"{db}: only a file path or a sqlite:/// URL can be read.")
    else:
        path = db
    if not os.path.isfile(path):
        raise LegacyError(f"{path}: no such file.")
    return path


def read_legacy(db: str) -> dict[str, list[dict]]:
    """Every row of the four legacy tables, as dicts; the file is opened read-only and left unchanged."""
    path = source_path(db)
    try:
        connection = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise LegacyError(f"{path}: cannot open it as SQLite ({error}).") from None
    try:
        connection.row_factory = sqlite3.Row
        try:
            present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as error:
            raise LegacyError(f"{path}: not a SQLite database ({error}).") from None
        missing = sorted(set(TABLES) - present)
        if missing:
            raise LegacyError(f"{path}: not a legacy conversations database (missing table(s): {', '.join(missing)}).")
        rows = {}
        for table, columns in TABLES.items():
            try:
                cursor = connection.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608 (fixed names)
            except sqlite3.Error as error:
                raise LegacyError(f"{path}: table {table} does not have the legacy columns ({error}).") from None
            rows[table] = [without_nul(dict(row)) for row in cursor]  # (PostgreSQL cannot store NUL)
        return rows
    finally:
        connection.close()


# --- values ------------------------------------------------------------------------------------------------


def parse_time(value) -> datetime | None:
    """A legacy timestamp as an aware UTC datetime (naive values are UTC); None when absent or unreadable."""
    if value is None or not str(value).strip():
        return None
    try:
        parsed = parse_datetime(str(value).strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_NO_JSON = object()


def parse_json(value):
    """The JSON value of a text column; None for NULL or blank; _NO_JSON when it is not JSON."""
    if value is None or not str(value).strip():
        return None
    try:
        return without_nul(json.loads(value))  # a "\u0000" escape is a NUL too
    except (TypeError, ValueError, RecursionError):
        return _NO_JSON


def transcript_is_empty(value) -> bool:
    return value is None or not str(value).strip()


def analysis_is_empty(parsed) -> bool:
    return parsed is None or parsed == {} or parsed == []


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- the plan ----------------------------------------------------------------------------------------------


@dataclass
class UserPlan:
    external_id: str
    username: str
    source: str  # subcontractor | conversation_owner
    phone_number: str = ""


@dataclass
class ReplacedValue:
    field: str
    value: object
    legacy_row_id: int
    legacy_updated_at: str
    kept_legacy_row_id: int


@dataclass
class ConversationPlan:
    owner: str  # external id
    session_id: str
    legacy_row_ids: list[int]
    transcript: str
    analysis: object
    audio_filename: str
    created_at: datetime
    updated_at: datetime
    replaced: list[ReplacedValue] = field(default_factory=list)


@dataclass
class SessionPlan:
    legacy_id: str
    user: str  # external id
    status: str
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None
    end_reason: str
    merged_into: str | None = None  # legacy id of the survivor


@dataclass
class MessagePlan:
    legacy_id: str
    session: str  # legacy id of the session it ends up in (after S3)
    user: str
    direction: str
    body: str
    external_id: str | None
    tool_outputs: object
    created_at: datetime


@dataclass
class ImportPlan:
    now: datetime
    users: list[UserPlan] = field(default_factory=list)
    conversations: list[ConversationPlan] = field(default_factory=list)
    sessions: list[SessionPlan] = field(default_factory=list)
    messages: list[MessagePlan] = field(default_factory=list)
    dropped_retries: list[tuple[str, str]] = field(default_factory=list)  # (legacy message id, kept copy's id)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def replaced_values(self) -> int:
        return sum(len(c.replaced) for c in self.conversations)


def default_now(legacy: dict[str, list[dict]]) -> datetime:
    """The newest message, else the newest session start (legacy/conversations.md §3), else now."""
    for table in ("messages", "conversation_sessions"):
        times = [t for t in (parse_time(row["created_at"]) for row in legacy[table]) if t]
        if times:
            return max(times)
    return datetime.now(UTC)


def plan_import(legacy: dict[str, list[dict]], *, now: datetime | None = None) -> ImportPlan:
    plan = ImportPlan(now=now or default_now(legacy))
    _plan_users(legacy, plan)
    _plan_conversations(legacy, plan)
    _plan_sessions(legacy, plan)
    return plan


def _reject(plan: ImportPlan, table: str, row: dict, reason: str, why: str) -> None:
    legacy_id = str(row.get("id"))
    plan.rejected.append(Rejected(table=table, legacy_id=legacy_id, reason=reason, why=why, payload=dict(row)))


def _plan_users(legacy, plan: ImportPlan) -> None:
    for row in sorted(legacy["subcontractors"], key=lambda r: str(r["id"])):
        if not str(row["id"] or "").strip() or not str(row["name"] or "").strip():
            _reject(plan, "subcontractors", row, "subcontractor_without_id_or_name", "it has no id or no name")
            continue
        if len(row["name"]) > MAX_NAME or len(f"wa:{row['id']}") > MAX_EXTERNAL_ID:
            _reject(plan, "subcontractors", row, "value_too_long", "its name or id is longer than Cairn keeps")
            continue
        plan.users.append(UserPlan(f"wa:{row['id']}", row["name"], "subcontractor", row["phone_number"] or ""))  # U1
    owners = sorted(
        {
            row["user_id"]
            for row in legacy["conversations"]
            if _has_text(row["user_id"]) and len(row["user_id"]) <= MAX_EXTERNAL_ID
        }
    )
    plan.users.extend(UserPlan(owner, owner, "conversation_owner") for owner in owners)  # U2


def _has_text(value) -> bool:
    return value is not None and bool(str(value).strip())


def _plan_conversations(legacy, plan: ImportPlan) -> None:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in legacy["conversations"]:
        if not _has_text(row["user_id"]):
            _reject(plan, "conversations", row, "conversation_without_user", "it has no user_id")  # I3
            continue
        if not _has_text(row["session_id"]):
            _reject(plan, "conversations", row, "conversation_without_session_id", "it has no session_id")
            continue
        if len(row["session_id"]) > MAX_SESSION_ID or len(row["user_id"]) > MAX_EXTERNAL_ID:
            _reject(plan, "conversations", row, "value_too_long", "its session_id or user_id is too long")
            continue
        created = parse_time(row["created_at"])
        if created is None:
            _reject(plan, "conversations", row, "bad_timestamp", f"created_at {row['created_at']!r} is not a time")
            continue
        analysis = parse_json(row["analysis"])
        if analysis is _NO_JSON:
            _reject(plan, "conversations", row, "analysis_not_json", "its analysis is not JSON text")
            continue
        updated = parse_time(row["updated_at"]) or created
        groups[(row["user_id"], row["session_id"])].append(
            {**row, "_created": created, "_effective": updated, "_analysis": analysis}
        )  # C1: exact strings
    for (owner, session_id), rows in sorted(groups.items()):
        rows.sort(key=lambda r: r["id"])
        transcript, replaced_t = _surviving(rows, "transcript", lambda r: r["transcript"], transcript_is_empty, _same)
        analysis, replaced_a = _surviving(rows, "analysis", lambda r: r["_analysis"], analysis_is_empty, same_json)
        audio, _ = _surviving(rows, "audio_filename", lambda r: r["audio_filename"], lambda v: not v, _same)
        plan.conversations.append(
            ConversationPlan(
                owner=owner,
                session_id=session_id,
                legacy_row_ids=[r["id"] for r in rows],
                transcript=transcript if transcript is not None else "",
                analysis=analysis,
                audio_filename=audio or "",
                created_at=min(r["_created"] for r in rows),
                updated_at=max(r["_effective"] for r in rows),
                replaced=replaced_t + replaced_a,
            )
        )


def _same(a, b) -> bool:
    return a == b


def same_json(a, b) -> bool:
    """C4: parsed JSON values are equal (so 4 equals 4.0 and key order does not matter); NaN equals NaN."""
    return a == b or canonical(a) == canonical(b)


def _surviving(rows, name, value_of, is_empty, same):
    """C3 + C5: the value of the newest non-empty candidate (tie: higher id), and the values it replaces."""
    candidates = [r for r in rows if not is_empty(value_of(r))]
    if not candidates:
        return None, []
    winner = max(candidates, key=lambda r: (r["_effective"], r["id"]))
    kept = value_of(winner)
    replaced = [
        ReplacedValue(name, value_of(r), r["id"], iso(r["_effective"]), winner["id"])
        for r in candidates
        if r is not winner and not same(value_of(r), kept)
    ]
    return value_of(winner), replaced


def _plan_sessions(legacy, plan: ImportPlan) -> None:
    users = {u.external_id for u in plan.users if u.source == "subcontractor"}
    sessions: dict[str, dict] = {}
    for row in legacy["conversation_sessions"]:
        user = f"wa:{row['subcontractor_id']}"
        started = parse_time(row["created_at"])
        if user not in users:
            _reject(plan, "conversation_sessions", row, "session_without_subcontractor", "its subcontractor is missing")
        elif started is None:
            _reject(plan, "conversation_sessions", row, "bad_timestamp", f"created_at {row['created_at']!r}")
        elif len(str(row["id"])) > MAX_LEGACY_ID:
            _reject(plan, "conversation_sessions", row, "value_too_long", "its id is too long")
        elif row["status"] not in STATUSES:
            _reject(plan, "conversation_sessions", row, "unknown_status", f"status {row['status']!r}")
        else:
            last = [t for t in (started, parse_time(row["last_message_at"])) if t]
            sessions[str(row["id"])] = {**row, "_user": user, "_started": started, "_last": max(last)}
    messages: list[dict] = []
    for row in legacy["messages"]:
        created = parse_time(row["created_at"])
        tool_outputs = parse_json(row["tool_outputs"])
        if str(row["session_id"]) not in sessions:
            _reject(plan, "messages", row, "message_without_session", "its session is missing or was rejected")
        elif created is None:
            _reject(plan, "messages", row, "bad_timestamp", f"created_at {row['created_at']!r}")
        elif row["direction"] not in DIRECTIONS:
            _reject(plan, "messages", row, "unknown_direction", f"direction {row['direction']!r}")
        elif len(str(row["id"])) > MAX_LEGACY_ID or len(row["message_sid"] or "") > MAX_PROVIDER_ID:
            _reject(plan, "messages", row, "value_too_long", "its id or message_sid is too long")
        elif tool_outputs is _NO_JSON:
            _reject(plan, "messages", row, "tool_outputs_not_json", "its tool_outputs is not JSON text")
        else:
            session = sessions[str(row["session_id"])]
            session["_last"] = max(session["_last"], created)  # S2: every message that points to it
            messages.append(
                {**row, "_created": created, "_tool_outputs": tool_outputs, "_session": str(row["session_id"])}
            )

    survivor_of = _merge_active_sessions(sessions, plan)  # S3
    for message in messages:
        message["_session"] = survivor_of.get(message["_session"], message["_session"])
    kept = _drop_retries(messages, sessions, plan)  # S4
    for session_plan in plan.sessions:  # S5
        if session_plan.status == "active" and session_plan.last_activity_at < plan.now - INACTIVITY:
            session_plan.status = "ended"
            session_plan.ended_at = session_plan.last_activity_at + INACTIVITY
            session_plan.end_reason = "inactivity"
    for message in sorted(kept, key=lambda m: (m["_created"], str(m["id"]))):
        plan.messages.append(
            MessagePlan(
                legacy_id=str(message["id"]),
                session=message["_session"],
                user=sessions[message["_session"]]["_user"],
                direction=DIRECTIONS[message["direction"]],
                body=message["content"] if message["content"] is not None else "",
                external_id=message["message_sid"] or None,
                tool_outputs=message["_tool_outputs"],
                created_at=message["_created"],
            )
        )


def _merge_active_sessions(sessions: dict[str, dict], plan: ImportPlan) -> dict[str, str]:
    """S3: sweep each user's active sessions into clusters; returns merged legacy id → survivor legacy id."""
    survivor_of: dict[str, str] = {}
    by_user: dict[str, list[dict]] = defaultdict(list)
    for session in sessions.values():
        by_user[session["_user"]].append(session)
    planned: dict[str, SessionPlan] = {}
    for user_sessions in by_user.values():
        for s in user_sessions:
            planned[str(s["id"])] = SessionPlan(
                legacy_id=str(s["id"]),
                user=s["_user"],
                status=s["status"],
                started_at=s["_started"],
                last_activity_at=s["_last"],
                ended_at=parse_time(s["ended_at"]),
                end_reason=s["end_reason"] or "",
            )
        active = sorted(
            (s for s in user_sessions if s["status"] == "active"), key=lambda s: (s["_started"], str(s["id"]))
        )
        cluster: list[dict] = []
        cluster_end = None
        for s in active:
            if cluster and s["_started"] - cluster_end <= INACTIVITY:
                cluster.append(s)
                cluster_end = max(cluster_end, s["_last"])
                continue
            _close(cluster, cluster_end, planned, survivor_of)
            cluster, cluster_end = [s], s["_last"]
        _close(cluster, cluster_end, planned, survivor_of)
    plan.sessions = sorted(planned.values(), key=lambda p: (p.user, p.started_at, p.legacy_id))
    return survivor_of


def _close(cluster: list[dict], cluster_end, planned: dict[str, SessionPlan], survivor_of: dict[str, str]) -> None:
    if len(cluster) < 2:
        return
    survivor = str(cluster[0]["id"])
    planned[survivor].last_activity_at = cluster_end
    for s in cluster[1:]:
        merged = planned[str(s["id"])]
        merged.status, merged.merged_into = "merged", survivor
        merged.ended_at, merged.end_reason = None, "merged"
        survivor_of[merged.legacy_id] = survivor


def _drop_retries(messages: list[dict], sessions: dict[str, dict], plan: ImportPlan) -> list[dict]:
    """S4: one message per (user, non-empty message_sid): the earliest copy (tie: smallest id)."""
    copies: dict[tuple[str, str], list[dict]] = defaultdict(list)
    kept = []
    for message in messages:
        if message["message_sid"]:
            copies[(sessions[message["_session"]]["_user"], message["message_sid"])].append(message)
        else:
            kept.append(message)
    for group in copies.values():
        group.sort(key=lambda m: (m["_created"], str(m["id"])))
        kept.append(group[0])
        plan.dropped_retries.extend((str(m["id"]), str(group[0]["id"])) for m in group[1:])
    return kept
