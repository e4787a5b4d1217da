"""Plan the import of ALwrity's data exactly as legacy/alwrity.md Part B says: users (B2), the resolution of
each child row (B4), url_key groups and the field merge (B5, B6), keys (B7), preferences, persona,
completion and step (B8), and the records that cannot be attached (B9). Pure: touches no Cairn table.
Plaintext API keys live only in UserPlan.api_keys; every printable form masks them.
"""

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from onboarding.alwrity.read import (
    TABLES,
    ProgressFile,
    Quarantined,
    as_int,
    is_numeric,
    parse_time,
)
from onboarding.crypto import mask
from onboarding.normalize import url_key

ANALYSIS_FIELDS = [
    "writing_style", "content_characteristics", "target_audience", "content_type", "recommended_settings",
    "crawl_result", "style_patterns", "style_guidelines",
]  # fmt: skip
JSON_STYLE_FIELDS = ["writing_style", "content_characteristics", "target_audience", "content_type",
                     "recommended_settings", "style_patterns"]  # fmt: skip
GUIDELINE_KEYS = [
    "guidelines",
    "best_practices",
    "avoid_elements",
    "content_strategy",
    "ai_generation_tips",
    "competitive_advantages",
    "content_calendar_suggestions",
]  # fmt: skip
SHARED_KEY_CUTOFF = datetime(2025, 10, 2)  # B4: key 1 before this is the E0 constant


# --- keys of the five eras (A2) -------------------------------------------------------------------------------


def h1(user_id: str) -> int:
    return int(hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:8], 16) % 2147483647


def h2(user_id: str) -> int:
    return int(hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:15], 16)


@dataclass
class AnalysisPlan:
    url_key: str
    url: str
    status: str
    fields: dict
    legacy_rows: list[int]
    sources: dict


@dataclass
class UserPlan:
    external_id: str
    legacy_sessions: list[int] = field(default_factory=list)
    json_file: str | None = None
    current_step: int = 1
    completed_at: datetime | None = None
    evidence: list[str] = field(default_factory=list)
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)  # provider -> plaintext: never print this
    api_key_sources: dict[str, str] = field(default_factory=dict)
    analyses: dict[str, AnalysisPlan] = field(default_factory=dict)
    preferences: dict | None = None
    persona: dict | None = None

    def describe(self) -> str:
        """One line for the dry run: counts and masked keys."""
        keys = ", ".join(f"{p} {mask(k)}" for p, k in sorted(self.api_keys.items())) or "none"
        analyses = ", ".join(f"{a.url_key} ({a.status})" for a in self.analyses.values()) or "none"
        done = f"completed {self.completed_at.isoformat()}" if self.completed_at else "not completed"
        return (
            f"{self.external_id}: step {self.current_step}, {done}; keys: {keys}; analyses: {analyses}; "
            f"preferences: {'yes' if self.preferences else 'no'}; persona: {'yes' if self.persona else 'no'}"
        )


@dataclass
class ImportPlan:
    users: dict[str, UserPlan]
    quarantine: list[Quarantined]
    merged: Counter  # merged-away legacy records, by kind (B9: reported, not quarantined)
    not_users: list[str]


def _newest_key(row: dict, tz: ZoneInfo):
    """Sort key for "newest": (updated_at, else created_at; a missing time first, then id)."""
    moment = row.get("updated_at") or row.get("created_at")
    return (moment is not None, _naive(moment, tz) if moment else datetime.min, row["id"] or 0)


def _naive(moment: datetime, tz: ZoneInfo) -> datetime:
    """Legacy times compare as naive server-clock values (B10); an aware one is first put on that clock."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment.tzinfo else moment


def _to_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _empty(value) -> bool:
    return value is None or value in ("", [], {})


def plan_import(*, tables: dict[str, list[dict]], files: list[ProgressFile], file_quarantine: list, tz) -> ImportPlan:
    quarantine = list(file_quarantine)
    merged: Counter = Counter()
    sessions = {row["id"]: row for row in tables["onboarding_sessions"]}
    for row in tables["onboarding_sessions"]:
        if is_numeric(row["user_id"]):
            payload = {"legacy_id": row["id"], "table": "onboarding_sessions", "user_id": str(row["user_id"])}
            quarantine.append(Quarantined("onboarding_sessions", "numeric_user_id", payload))
    known = sorted(
        {str(r["user_id"]) for r in tables["onboarding_sessions"] if not is_numeric(r["user_id"])}
        | {f.user_id for f in files}
    )
    by_hash = defaultdict(set)
    for user_id in known:
        by_hash[h1(user_id)].add(user_id)
        by_hash[h2(user_id)].add(user_id)

    def resolve(table: str, row: dict) -> str | None:
        """B4: the user a child row belongs to, or None after quarantining it with the reason."""
        raw = row["session_id"]
        value = as_int(raw)
        payload = {"legacy_id": row["id"], "table": table, "session_id": raw}
        reason = None
        if raw is None or value is None:
            reason = "orphan"
        elif value == 1 and (
            1 not in sessions or row["created_at"] is None or row["created_at"].replace(tzinfo=None) < SHARED_KEY_CUTOFF
        ):
            reason = "shared_legacy_key"
        elif value in sessions:
            owner = sessions[value]["user_id"]
            if not is_numeric(owner):
                return str(owner)
            reason = "numeric_user_id"
        else:
            candidates = sorted(by_hash.get(value, ()))
            if len(candidates) == 1:
                return candidates[0]
            if candidates:
                reason = "ambiguous_hash"
                payload["candidates"] = candidates
            else:
                reason = "orphan"
        quarantine.append(Quarantined(table, reason, {**payload, **_extra(table, row)}))
        return None

    resolved = {table: defaultdict(list) for table in TABLES if table != "onboarding_sessions"}
    for table in resolved:
        for row in tables[table]:
            user_id = resolve(table, row)
            if user_id is not None:
                resolved[table][user_id].append(row)

    files_by_user = {f.user_id: f for f in files}
    sessions_by_user = defaultdict(list)
    for row in tables["onboarding_sessions"]:
        sessions_by_user[str(row["user_id"])].append(row)
    users = {}
    for user_id in known:
        plan = UserPlan(external_id=user_id)
        file = files_by_user.get(user_id)
        progress = file if file is not None and file.data is not None else None
        plan.json_file = file.name if file else None
        user_sessions = sessions_by_user[user_id]
        plan.legacy_sessions = [r["id"] for r in user_sessions]
        merged["duplicate sessions"] += max(len(user_sessions) - 1, 0)
        _plan_keys(plan, resolved["api_keys"][user_id], progress, tz, merged)
        _plan_analyses(plan, resolved["website_analyses"][user_id], progress, tz, merged, quarantine)
        _plan_preferences(plan, resolved["research_preferences"][user_id], tz, merged)
        _plan_persona(plan, resolved["persona_data"][user_id], progress, tz, merged)
        _plan_completion(plan, user_sessions, progress, tz)
        users[user_id] = plan
    not_users = sorted({str(r["user_id"]) for r in tables["onboarding_sessions"] if is_numeric(r["user_id"])})
    return ImportPlan(users=users, quarantine=quarantine, merged=merged, not_users=not_users)


def _extra(table: str, row: dict) -> dict:
    """The row's identifying columns for a quarantine payload: no JSON blobs, and a key only masked."""
    if table == "api_keys":
        key = row["key"] if isinstance(row["key"], str) else ""
        return {"provider": row["provider"], "key": mask(key) if key else "", **_times(row)}
    if table == "website_analyses":
        return {"website_url": row["website_url"], "status": row["status"], **_times(row)}
    if table == "research_preferences":
        return {"research_depth": row["research_depth"], "content_types": row["content_types"], **_times(row)}
    return _times(row)


def _times(row: dict) -> dict:
    return {c: row[c].isoformat() if row.get(c) else None for c in ("created_at", "updated_at")}


def _plan_keys(plan: UserPlan, rows: list[dict], progress: ProgressFile | None, tz, merged: Counter) -> None:
    """B7: the newest DB row per provider; JSON step 1 only for a provider the DB has no usable row for."""
    for row in sorted(rows, key=lambda r: _newest_key(r, tz), reverse=True):
        key = row["key"]
        provider = (row["provider"] or "").strip().lower()  # (an empty provider is a provider: kept, not guessed)
        if not isinstance(key, str) or key == "":  # B7: "a non-empty key"; whitespace is not empty
            merged["key rows without a key"] += 1
        elif provider in plan.api_keys:
            merged["older key rows"] += 1
        else:
            plan.api_keys[provider] = key
            plan.api_key_sources[provider] = f"api_keys#{row['id']}"
    step = progress.completed_step(1) if progress else None
    data = step.get("data") if step else None
    json_keys = data.get("api_keys") if isinstance(data, dict) else None
    if isinstance(json_keys, dict):
        for name, key in json_keys.items():
            provider = str(name).strip().lower()
            if isinstance(key, str) and key and provider not in plan.api_keys:
                plan.api_keys[provider] = key
                plan.api_key_sources[provider] = "json step 1"


def _json_candidate(progress: ProgressFile | None) -> tuple[str, dict] | None:
    """B6.3: (website as written, analysis) from a completed step 2, else None."""
    step = progress.completed_step(2) if progress else None
    data = step.get("data") if step else None
    if not isinstance(data, dict) or not isinstance(data.get("analysis"), dict):
        return None
    website = data.get("website")
    if not (isinstance(website, str) and website):
        website = data.get("website_url")
    if not (isinstance(website, str) and website):  # B6.3: "a non-empty string"
        return None
    return website, data["analysis"]


def _plan_analyses(plan, rows, progress, tz, merged: Counter, quarantine: list) -> None:
    groups = defaultdict(list)
    for row in rows:
        url = row["website_url"] if isinstance(row["website_url"], str) else ""
        if url.strip() in ("", "text_sample"):
            reason = "blanked_row" if not url.strip() else "text_sample"
            payload = {"legacy_id": row["id"], "table": "website_analyses", "session_id": row["session_id"]}
            payload.update({"user": plan.external_id, **_extra("website_analyses", row)})
            quarantine.append(Quarantined("website_analyses", reason, payload))
            continue
        groups[url_key(url)].append(row)
    candidate = _json_candidate(progress)
    if candidate is not None:
        groups.setdefault(url_key(candidate[0]), [])
    for key, group in groups.items():
        json_analysis = candidate[1] if candidate is not None and url_key(candidate[0]) == key else None
        newest_first = sorted(group, key=lambda r: _newest_key(r, tz), reverse=True)
        # B6.4: 'completed' or null ("Null" is SQL NULL or the JSON text null, Part B's terms)
        completed = [r for r in newest_first if r["status"] in ("completed", None, "null")]
        failed = [r for r in newest_first if r["status"] not in ("completed", None, "null")]
        legacy_rows = sorted(r["id"] for r in group)
        if completed or json_analysis is not None:
            fields, sources = {}, {}
            for name in ANALYSIS_FIELDS:
                winner = next((r for r in completed if r[name] is not None), None)
                if winner is not None:
                    fields[name], sources[name] = winner[name], f"website_analyses#{winner['id']}"
                elif json_analysis is not None and name in JSON_STYLE_FIELDS:
                    fields[name], sources[name] = json_analysis.get(name), "json step 2"
                elif json_analysis is not None and name == "style_guidelines":
                    rebuilt = {k: json_analysis[k] for k in GUIDELINE_KEYS if json_analysis.get(k) is not None}
                    fields[name], sources[name] = rebuilt or None, "json step 2 (rebuilt from flattened keys)"
                else:
                    fields[name] = None
            url = completed[0]["website_url"] if completed else candidate[0]
            sources["url"] = f"website_analyses#{completed[0]['id']}" if completed else "json step 2"
            merged["superseded failed analyses"] += len(failed)
            supplying = set(sources.values())
            merged["older analysis rows"] += sum(1 for r in completed if f"website_analyses#{r['id']}" not in supplying)
            plan.analyses[key] = AnalysisPlan(key, url, "completed", fields, legacy_rows, sources)
        else:
            merged["superseded failed analyses"] += len(failed) - 1
            fields = dict.fromkeys(ANALYSIS_FIELDS)
            plan.analyses[key] = AnalysisPlan(key, failed[0]["website_url"], "failed", fields, legacy_rows, {})


def _plan_preferences(plan: UserPlan, rows: list[dict], tz, merged: Counter) -> None:
    real = []
    for row in rows:
        if row["research_depth"] == "standard" and row["content_types"] == []:
            merged["placeholder preferences"] += 1
        else:
            real.append(row)
    if not real:
        return
    merged["older preferences"] += len(real) - 1
    row = max(real, key=lambda r: _newest_key(r, tz))
    plan.preferences = {
        "research_depth": row["research_depth"],
        "content_types": row["content_types"] if row["content_types"] is not None else [],
        "auto_research": None if row["auto_research"] is None else bool(row["auto_research"]),
        "factual_content": None if row["factual_content"] is None else bool(row["factual_content"]),
        "source": f"research_preferences#{row['id']}",
    }


def _plan_persona(plan: UserPlan, rows: list[dict], progress, tz, merged: Counter) -> None:
    with_core = [r for r in rows if not _empty(r["core_persona"])]
    db_row = max(with_core, key=lambda r: _newest_key(r, tz)) if with_core else None
    step = progress.completed_step(4) if progress else None
    data = step.get("data") if step else None
    json_core = data.get("corePersona") if isinstance(data, dict) else None
    json_time = None
    if isinstance(json_core, dict) and json_core:
        json_time = parse_time(step.get("completed_at")) or parse_time(progress.data.get("last_updated"))
    else:
        data = None
    use_json = data is not None and (
        db_row is None
        or (
            json_time is not None
            and (
                (db_row.get("updated_at") or db_row.get("created_at")) is None
                or _naive(json_time, tz) > _naive(db_row.get("updated_at") or db_row.get("created_at"), tz)
            )
        )
    )
    merged["losing persona rows"] += len(rows) - (1 if db_row is not None and not use_json else 0)
    if use_json:
        plan.persona = {
            "core_persona": data.get("corePersona"),
            "platform_personas": data.get("platformPersonas"),
            "quality_metrics": data.get("qualityMetrics"),
            "selected_platforms": _platforms(data.get("selectedPlatforms")),
            "source": "json step 4",
        }
    elif db_row is not None:
        plan.persona = {
            "core_persona": db_row["core_persona"],
            "platform_personas": db_row["platform_personas"],
            "quality_metrics": db_row["quality_metrics"],
            "selected_platforms": _platforms(db_row["selected_platforms"]),
            "source": f"persona_data#{db_row['id']}",
        }


def _plan_completion(plan: UserPlan, user_sessions: list[dict], progress, tz) -> None:
    evidence = []  # (time, label)
    if progress is not None:
        step6 = progress.completed_step(6)
        last_updated = parse_time(progress.data.get("last_updated"))
        if step6 is not None:
            evidence.append((parse_time(step6.get("completed_at")) or last_updated, "json step 6"))
        if progress.data.get("is_completed") is True:
            evidence.append((parse_time(progress.data.get("completed_at")) or last_updated, "json is_completed"))
    for row in user_sessions:
        step, done = as_int(row["current_step"]), row["progress"]
        if (step is not None and step >= 6) or (isinstance(done, int | float) and done >= 100):
            label = f"session {row['id']} current_step={row['current_step']} progress={row['progress']}"
            evidence.append((row["updated_at"] or row["started_at"], label))
    evidence = [(t, label) for t, label in evidence if t is not None]
    if evidence:
        earliest = min(evidence, key=lambda e: _naive(e[0], tz))[0]
        plan.completed_at = _to_utc(earliest, tz)
        plan.evidence = [f"{_to_utc(t, tz).isoformat()} {label}" for t, label in evidence]
        plan.current_step = 6
        return
    steps = []
    if progress is not None:
        value = progress.data.get("current_step")
        if isinstance(value, int) and not isinstance(value, bool):
            steps.append(value)
    for row in user_sessions:
        value = as_int(row["current_step"])
        steps.append(1 if value is None else value)
    plan.current_step = max((min(max(s, 1), 6) for s in steps), default=1)


def _platforms(value):
    """B8: `selected_platforms`, null or missing → [] (any other value as it is)."""
    return [] if value is None else value
