"""legacy/alwrity.md Part B beyond the sample: every keying era, both kinds of h1 collision, blanked rows,
failed rows, the JSON candidate, keys, preferences, persona, completion and time zones."""

from datetime import UTC, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrity.models import Quarantine
from onboarding import alwrity
from onboarding.models import ApiKey, OnboardingSession, WebsiteAnalysis
from tests.onboarding.legacy import FULL, progress_file, write_db, write_json_dir

ALICE = "user_2abc123xyz"
# A genuine collision of the first kind: the same 32-bit prefix (legacy/alwrity.md A2).
SAME_PREFIX = ("user_31fNctR0dHoAANESqDYVoeti3Qc", "user_3GEGsIW6Mf2v5E4kMoaBqbvtyC0")
# And of the second kind: prefixes 3487735122 and 1340251475 differ by exactly 2^31 - 1.
WRAPPED = ("user_wrap30346", "user_wrap94725")
GEMINI_OLD = "AIza" + "O" * 31 + "old1"
GEMINI_NEW = "AIza" + "N" * 31 + "new1"
EXA = "fa4efa4e-e86a-4f31-85f4-1e1c6956af5d"


def session(id, user_id, step=1, progress=0.0, at="2025-10-20 10:00:00"):
    return {
        "id": id,
        "user_id": user_id,
        "current_step": step,
        "progress": progress,
        "started_at": at,
        "updated_at": at,
    }


def analysis(id, session_id, url, status="completed", at="2025-10-20 10:00:00", created=None, **fields):
    values = {f: fields.get(f, FULL[f]) for f in FULL} if status == "completed" else dict.fromkeys(FULL)
    return {"id": id, "session_id": session_id, "website_url": url, "status": status,
            "created_at": created or at, "updated_at": at, **values}  # fmt: skip


def plan(tmp_path, files=None, tz="UTC", **tables):
    tables = {t: tables.get(t, []) for t in alwrity.TABLES}
    tmp_path.mkdir(parents=True, exist_ok=True)
    write_db(tmp_path / "alwrity.db", **tables)
    write_json_dir(tmp_path / "json", files or {})
    read = alwrity.read_database(str(tmp_path / "alwrity.db"))
    found, quarantined = alwrity.read_json_dir(str(tmp_path / "json"))
    return alwrity.plan_import(tables=read, files=found, file_quarantine=quarantined, tz=ZoneInfo(tz))


def reasons(result) -> dict:
    return {(q.table, q.payload["legacy_id"]): q.reason for q in result.quarantine}


def test_the_hashes_are_the_documented_values():
    assert alwrity.h1("user_2abc123xyz") == 1077975320
    assert alwrity.h2("user_2abc123xyz") == 865827548708232800
    assert alwrity.h1(SAME_PREFIX[0]) == alwrity.h1(SAME_PREFIX[1]) == 767455717
    assert alwrity.h1(WRAPPED[0]) == alwrity.h1(WRAPPED[1]) == 1340251475


def test_every_keying_era_resolves_to_its_user_or_is_quarantined_with_its_reason(tmp_path):
    bob = "user_2Bob"
    result = plan(
        tmp_path,
        onboarding_sessions=[session(1, ALICE), session(5, bob)],
        website_analyses=[
            analysis(1, 1, "https://e0.example", created="2025-09-03 10:00:00"),  # E0 constant, before the cut-off
            analysis(2, 1, "https://alice-e3.example", created="2025-10-11 10:00:00"),  # session 1 after the cut-off
            analysis(3, 325853641, "https://e1.example"),  # salted hash(): not recomputable
            analysis(4, alwrity.h1(ALICE), "https://alice-h1.example"),
            analysis(5, alwrity.h2(bob), "https://bob-h2.example"),
            analysis(6, 5, "https://bob-session.example"),
            analysis(7, 99, "https://deleted-session.example"),
        ],
    )
    assert reasons(result) == {
        ("website_analyses", 1): "shared_legacy_key",
        ("website_analyses", 3): "orphan",
        ("website_analyses", 7): "orphan",
    }
    assert sorted(result.users[ALICE].analyses) == ["https://alice-e3.example", "https://alice-h1.example"]
    assert sorted(result.users[bob].analyses) == ["https://bob-h2.example", "https://bob-session.example"]


def test_key_1_is_shared_when_no_session_has_id_1_whatever_the_date(tmp_path):
    result = plan(
        tmp_path,
        onboarding_sessions=[session(2, ALICE)],
        api_keys=[{"id": 1, "session_id": 1, "provider": "gemini", "key": GEMINI_NEW, "created_at": "2025-11-01"}],
    )
    assert reasons(result) == {("api_keys", 1): "shared_legacy_key"}
    assert result.users[ALICE].api_keys == {}
    assert GEMINI_NEW not in str(result.quarantine)  # the payload carries the key masked


@pytest.mark.parametrize("pair", [SAME_PREFIX, WRAPPED], ids=["same prefix", "prefixes 2^31-1 apart"])
def test_an_h1_shared_by_two_known_users_is_ambiguous_and_never_guessed(tmp_path, pair):
    first, second = pair
    result = plan(
        tmp_path,
        onboarding_sessions=[session(1, first, at="2025-10-11 10:00:00"), session(2, second)],
        website_analyses=[
            analysis(1, alwrity.h1(first), "https://who.example"),
            analysis(2, alwrity.h2(first), "x.org"),
        ],
        research_preferences=[
            {"id": 1, "session_id": alwrity.h1(first), "research_depth": "Deep", "content_types": ["Blog"]}
        ],
    )
    ambiguous = [q for q in result.quarantine if q.reason == "ambiguous_hash"]
    assert [(q.table, q.payload["candidates"]) for q in ambiguous] == [
        ("website_analyses", sorted(pair)),
        ("research_preferences", sorted(pair)),
    ]
    assert list(result.users[first].analyses) == ["https://x.org"]  # h2 still resolves uniquely
    assert result.users[second].analyses == {}
    assert result.users[first].preferences is None


def test_a_hash_of_a_user_known_only_from_a_json_file_resolves(tmp_path):
    carol = "user_2Carol"
    result = plan(
        tmp_path,
        files={f".onboarding_progress_{carol}.json": progress_file(steps={})},
        website_analyses=[analysis(1, alwrity.h1(carol), "https://carol.example")],
    )
    assert list(result.users[carol].analyses) == ["https://carol.example"]


def test_numeric_users_are_not_users_and_their_rows_are_quarantined(tmp_path):
    result = plan(
        tmp_path,
        files={".onboarding_progress_7.json": progress_file(steps={}), ".onboarding_progress.json": "{}"},
        onboarding_sessions=[session(3, "7"), session(4, " ")],
        api_keys=[{"id": 1, "session_id": 3, "provider": "gemini", "key": GEMINI_NEW}],
    )
    assert result.users == {}
    assert reasons(result) == {
        ("json", ".onboarding_progress.json"): "global_progress_file",
        ("json", ".onboarding_progress_7.json"): "numeric_user_id",
        ("onboarding_sessions", 3): "numeric_user_id",
        ("onboarding_sessions", 4): "numeric_user_id",
        ("api_keys", 1): "numeric_user_id",
    }


def test_an_unreadable_file_is_quarantined_and_its_user_still_imported(tmp_path):
    name = f".onboarding_progress_{ALICE}.json"
    result = plan(tmp_path, files={name: '{"steps": [{"step_number": 1, "data": {"api_keys": {"gemini": "AIza'})
    assert reasons(result) == {("json", name): "unreadable_json"}
    assert result.users[ALICE].current_step == 1
    payload = result.quarantine[0].payload
    assert "AIza" not in str(payload)
    assert payload["size"] > 0


def test_only_regular_dot_files_directly_in_the_folder_count(tmp_path):
    files = {"onboarding_progress_user_x.json": "{}", "notes.txt": "", ".onboarding_progress_user_y.json.bak": ""}
    (tmp_path / "json" / "sub").mkdir(parents=True)
    (tmp_path / "json" / "sub" / ".onboarding_progress_user_z.json").write_text(progress_file(steps={}))
    assert plan(tmp_path, files=files).users == {}


def test_a_blanked_row_never_wins_even_when_newest(tmp_path):
    result = plan(
        tmp_path,
        onboarding_sessions=[session(1, ALICE, at="2025-10-11 10:00:00")],
        website_analyses=[
            analysis(1, alwrity.h1(ALICE), "https://shop.example", at="2025-10-12 10:00:00"),
            {**analysis(2, 1, "", at="2025-10-30 10:00:00"), **dict.fromkeys(FULL)},
            analysis(3, 1, "  ", at="2025-10-31 10:00:00"),
            analysis(4, 1, "text_sample", status="failed"),
        ],
    )
    assert reasons(result) == {
        ("website_analyses", 2): "blanked_row",
        ("website_analyses", 3): "blanked_row",
        ("website_analyses", 4): "text_sample",
    }
    only = result.users[ALICE].analyses["https://shop.example"]
    assert (only.status, only.fields["writing_style"]) == ("completed", FULL["writing_style"])
    assert all(q.payload["user"] == ALICE for q in result.quarantine)


def test_completed_beats_newer_failures_and_fields_come_from_the_newest_row_that_has_them(tmp_path):
    result = plan(
        tmp_path,
        onboarding_sessions=[session(1, ALICE, at="2025-10-11 10:00:00")],
        website_analyses=[
            analysis(1, alwrity.h1(ALICE), "https://Shop.example/", at="2025-10-12 10:00:00"),
            analysis(2, 1, "https://shop.example", at="2025-10-13 10:00:00", crawl_result=None, style_guidelines=None),
            analysis(3, 1, "https://shop.example/", status="failed", at="2025-11-01 10:00:00"),
            analysis(4, 1, "https://down.example", status="failed", at="2025-10-01 10:00:00"),
            analysis(5, 1, "https://down.example/", status="failed", at="2025-10-02 10:00:00"),
        ],
    )
    shop = result.users[ALICE].analyses["https://shop.example"]
    assert (shop.url, shop.status) == ("https://shop.example", "completed")
    assert shop.sources["writing_style"] == "website_analyses#2"
    assert shop.sources["crawl_result"] == shop.sources["style_guidelines"] == "website_analyses#1"
    down = result.users[ALICE].analyses["https://down.example"]
    assert (down.url, down.status, set(down.fields.values())) == ("https://down.example/", "failed", {None})


def test_a_completed_json_step_2_makes_a_failed_group_completed_with_rebuilt_guidelines(tmp_path):
    data = {
        "website": "https://Fixit.example/",
        "analysis": {"writing_style": {"tone": "plain"}, "guidelines": ["g"], "avoid_elements": None, "meta": {}},
    }
    result = plan(
        tmp_path,
        files={f".onboarding_progress_{ALICE}.json": progress_file(steps={2: ("completed", None, data)})},
        website_analyses=[analysis(1, alwrity.h1(ALICE), "https://fixit.example", status="failed")],
    )
    fixit = result.users[ALICE].analyses["https://fixit.example"]
    assert (fixit.status, fixit.url) == ("completed", "https://Fixit.example/")  # C is empty: the JSON string
    assert fixit.fields["writing_style"] == {"tone": "plain"}
    assert fixit.fields["style_guidelines"] == {"guidelines": ["g"]}
    assert fixit.fields["crawl_result"] is None


def test_a_marker_in_step_2_contributes_nothing(tmp_path):
    files = {f".onboarding_progress_{ALICE}.json": progress_file(steps={2: ("completed", None, {"source": "x"})})}
    assert plan(tmp_path, files=files).users[ALICE].analyses == {}


def test_the_newest_db_key_wins_and_json_fills_only_missing_providers(tmp_path):
    step1 = {"api_keys": {"gemini": GEMINI_NEW, "exa": EXA, "serper": ""}}
    result = plan(
        tmp_path,
        files={
            f".onboarding_progress_{ALICE}.json": progress_file(steps={1: ("completed", "2025-12-01T00:00:00", step1)})
        },
        onboarding_sessions=[session(1, ALICE, at="2025-10-11 10:00:00"), session(2, ALICE)],
        api_keys=[
            {"id": 1, "session_id": 1, "provider": "gemini", "key": GEMINI_OLD, "updated_at": "2025-10-11 10:00:00"},
            {"id": 2, "session_id": 2, "provider": " Gemini", "key": GEMINI_OLD[:-1] + "2", "updated_at": "2025-10-12"},
            {"id": 3, "session_id": 2, "provider": "gemini", "key": "", "updated_at": "2025-10-13"},
        ],
    )
    assert result.users[ALICE].api_keys == {"gemini": GEMINI_OLD[:-1] + "2", "exa": EXA}


def test_placeholder_preferences_are_not_preferences(tmp_path):
    placeholder = {"research_depth": "standard", "content_types": [], "auto_research": 1, "factual_content": 1}
    result = plan(
        tmp_path,
        onboarding_sessions=[session(2, ALICE, at="2025-10-11 10:00:00")],
        research_preferences=[
            {
                "id": 1,
                "session_id": alwrity.h1(ALICE),
                "research_depth": "Deep",
                "content_types": ["News"],
                "auto_research": 0,
                "factual_content": 1,
                "updated_at": "2025-10-12",
            },
            {"id": 2, "session_id": 2, **placeholder, "updated_at": "2025-10-20"},
        ],  # fmt: skip
    )
    assert result.users[ALICE].preferences == {
        "research_depth": "Deep",
        "content_types": ["News"],
        "auto_research": False,
        "factual_content": True,
        "source": "research_preferences#1",
    }
    assert result.merged["placeholder preferences"] == 1


@pytest.mark.parametrize(
    ("json_time", "winner"), [("2025-10-20T10:00:01", "json step 4"), ("2025-10-20T10:00:00", "db")]
)
def test_a_json_persona_wins_only_when_strictly_newer(tmp_path, json_time, winner):
    step4 = {"corePersona": {"name": "json"}, "platformPersonas": {}, "qualityMetrics": {}, "selectedPlatforms": None}
    result = plan(
        tmp_path,
        files={f".onboarding_progress_{ALICE}.json": progress_file(steps={4: ("completed", json_time, step4)})},
        onboarding_sessions=[session(2, ALICE, at="2025-10-11 10:00:00")],
        persona_data=[{"id": 1, "session_id": 2, "core_persona": {"name": "db"}, "updated_at": "2025-10-20 10:00:00"}],
    )
    persona = result.users[ALICE].persona
    assert persona["core_persona"] == {"name": "json" if winner != "db" else "db"}
    assert persona["selected_platforms"] == []


def test_completion_is_the_earliest_evidence_and_converted_from_the_given_time_zone(tmp_path):
    files = {
        f".onboarding_progress_{ALICE}.json": progress_file(
            steps={6: ("completed", "2025-10-12T12:00:00", {})}, current_step=6, is_completed=False
        )
    }
    result = plan(
        tmp_path,
        files=files,
        tz="Europe/Berlin",
        onboarding_sessions=[session(1, ALICE, step=6, progress=83.3, at="2025-10-13 09:00:00")],
    )
    user = result.users[ALICE]
    assert user.completed_at == datetime(2025, 10, 12, 10, 0, tzinfo=UTC)  # CEST is UTC+2
    assert user.current_step == 6


def test_without_evidence_the_step_is_the_highest_clamped_step(tmp_path):
    files = {f".onboarding_progress_{ALICE}.json": progress_file(steps={}, current_step=9)}
    result = plan(tmp_path, files=files, onboarding_sessions=[session(1, ALICE, step=None, at="2025-10-11")])
    assert (result.users[ALICE].current_step, result.users[ALICE].completed_at) == (6, None)
    only_db = plan(tmp_path / "b", onboarding_sessions=[session(1, "user_Zed", step=3, progress=50)])
    assert only_db.users["user_Zed"].current_step == 3


def test_a_database_with_extra_columns_and_tables_is_read_by_column_name(tmp_path):
    write_db(tmp_path / "a.db", onboarding_sessions=[session(1, ALICE)])
    import sqlite3

    with sqlite3.connect(tmp_path / "a.db") as db:
        db.execute("ALTER TABLE persona_data ADD COLUMN research_persona JSON")
        db.execute("CREATE TABLE competitor_analyses (id INTEGER)")
    assert alwrity.read_database(str(tmp_path / "a.db"))["onboarding_sessions"][0]["user_id"] == ALICE


def test_a_missing_table_is_a_clear_error(tmp_path):
    import sqlite3

    sqlite3.connect(tmp_path / "x.db").execute("CREATE TABLE onboarding_sessions (id INTEGER)").connection.commit()
    with pytest.raises(alwrity.LegacyInputError, match="onboarding_sessions has no column user_id"):
        alwrity.read_database(str(tmp_path / "x.db"))


@pytest.mark.django_db
def test_a_reimport_after_more_data_arrived_updates_in_place_and_keeps_quarantine_single(tmp_path):
    db = write_db(
        tmp_path / "one.db",
        onboarding_sessions=[session(2, ALICE, at="2025-10-11 10:00:00")],
        api_keys=[{"id": 1, "session_id": 2, "provider": "gemini", "key": GEMINI_OLD}],
        website_analyses=[analysis(1, 99, "https://orphan.example")],
    )
    write_json_dir(tmp_path / "json", {})
    args = ["--db", str(db), "--json-dir", str(tmp_path / "json"), "--execute"]
    call_command("import_alwrity", *args, stdout=StringIO())
    key = ApiKey.objects.get()
    write_db(
        tmp_path / "two.db",
        onboarding_sessions=[session(2, ALICE, at="2025-10-11 10:00:00")],
        api_keys=[{"id": 1, "session_id": 2, "provider": "gemini", "key": GEMINI_NEW}],
        website_analyses=[analysis(1, 99, "https://orphan.example", at="2025-10-21 10:00:00")],
    )
    args[1] = str(tmp_path / "two.db")
    call_command("import_alwrity", *args, stdout=StringIO())
    assert ApiKey.objects.get().pk == key.pk
    assert ApiKey.objects.get().reveal() == GEMINI_NEW
    assert Quarantine.objects.count() == 1
    assert OnboardingSession.objects.count() == 1
    assert WebsiteAnalysis.objects.count() == 0


@pytest.mark.django_db
def test_two_ids_differing_only_in_case_become_two_users(tmp_path):
    db = write_db(tmp_path / "a.db", onboarding_sessions=[session(1, "user_AbC"), session(2, "user_abc")])
    write_json_dir(tmp_path / "json", {})
    call_command(
        "import_alwrity", "--db", str(db), "--json-dir", str(tmp_path / "json"), "--execute", stdout=StringIO()
    )
    assert sorted(OnboardingSession.objects.values_list("user__external_id", flat=True)) == ["user_AbC", "user_abc"]


@pytest.mark.django_db
def test_an_unreadable_database_is_a_command_error(tmp_path):
    (tmp_path / "bad.db").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CommandError, match="not a SQLite database"):
        call_command("import_alwrity", "--db", str(tmp_path / "bad.db"), "--json-dir", str(tmp_path), stdout=StringIO())


def test_a_database_that_cannot_be_opened_read_only_is_read_as_immutable(tmp_path, monkeypatch):
    import sqlite3

    write_db(tmp_path / "a.db", onboarding_sessions=[session(1, ALICE)])
    real_connect = sqlite3.connect

    def connect(database, *args, **kwargs):
        if "mode=ro" in str(database):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    assert alwrity.read_database(str(tmp_path / "a.db"))["onboarding_sessions"][0]["user_id"] == ALICE


# --- edge cases of the rules' wording (found by a rule-by-rule review) ---


@pytest.mark.parametrize(
    "content",
    ['{"steps": [], "x": ' + "9" * 5000 + "}", "[" * 100_000 + "]" * 100_000],
    ids=["a number too long for Python", "nested deeper than the parser goes"],
)
def test_json_that_python_cannot_read_is_unreadable_not_a_crash(tmp_path, content):
    name = f".onboarding_progress_{ALICE}.json"
    result = plan(tmp_path, files={name: content})
    assert reasons(result) == {("json", name): "unreadable_json"}
    assert ALICE in result.users


def test_a_whitespace_key_is_non_empty_and_the_database_still_wins(tmp_path):
    step1 = {"api_keys": {"gemini": GEMINI_NEW}}
    result = plan(
        tmp_path,
        files={f".onboarding_progress_{ALICE}.json": progress_file(steps={1: ("completed", None, step1)})},
        onboarding_sessions=[session(2, ALICE)],  # (session 1 would be the shared key 1)
        api_keys=[
            {"id": 1, "session_id": 2, "provider": "gemini", "key": "   ", "updated_at": "2025-10-13"},
            {"id": 2, "session_id": 2, "provider": " ", "key": EXA, "updated_at": "2025-10-13"},
        ],
    )
    assert result.users[ALICE].api_keys == {"gemini": "   ", "": EXA}  # B7: non-empty, per provider.strip().lower()


def test_a_whitespace_website_in_json_step_2_is_still_the_candidate(tmp_path):
    data = {"website": "   ", "website_url": "https://x.example", "analysis": {"writing_style": {"tone": "calm"}}}
    result = plan(
        tmp_path,
        files={f".onboarding_progress_{ALICE}.json": progress_file(steps={2: ("completed", None, data)})},
    )
    (analysis,) = result.users[ALICE].analyses.values()
    assert analysis.url == "   "  # B6.3: "a non-empty string website (else website_url)", as written
    assert analysis.status == "completed"


def test_a_status_of_json_null_text_is_null_so_completed(tmp_path):
    result = plan(
        tmp_path,
        onboarding_sessions=[session(2, ALICE)],  # (session 1 would be the shared key 1)
        website_analyses=[{**analysis(1, 2, "https://x.example"), "status": "null"}],
    )
    (found,) = result.users[ALICE].analyses.values()
    assert found.status == "completed"
    assert found.fields["writing_style"] == FULL["writing_style"]


def test_selected_platforms_only_null_becomes_an_empty_list(tmp_path):
    result = plan(
        tmp_path,
        onboarding_sessions=[session(2, ALICE)],  # (session 1 would be the shared key 1)
        persona_data=[{"id": 1, "session_id": 2, "core_persona": {"name": "db"}, "selected_platforms": {}}],
    )
    assert result.users[ALICE].persona["selected_platforms"] == {}


def test_a_user_plan_never_shows_its_plaintext_keys_in_its_repr(tmp_path):
    result = plan(
        tmp_path,
        onboarding_sessions=[session(2, ALICE)],
        api_keys=[{"id": 1, "session_id": 2, "provider": "gemini", "key": GEMINI_NEW, "updated_at": "2025-10-13"}],
    )
    assert result.users[ALICE].api_keys == {"gemini": GEMINI_NEW}
    assert GEMINI_NEW not in repr(result.users[ALICE])


def test_nul_characters_in_json_are_read_as_the_replacement_character(tmp_path):
    result = plan(
        tmp_path,
        onboarding_sessions=[session(2, ALICE)],
        website_analyses=[analysis(1, 2, "https://x.example", writing_style={"tone": "calm\u0000"})],
    )
    (found,) = result.users[ALICE].analyses.values()
    assert found.fields["writing_style"] == {"tone": "calm\ufffd"}  # PostgreSQL jsonb cannot hold NUL
