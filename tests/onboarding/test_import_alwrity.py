"""The sample (tests/fixtures/alwrity, a copy of shared/samples/alwrity) imports to exactly expected.json."""

import hashlib
import json
import shutil
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import STORED_USERNAME_MAX_LENGTH, User
from integrity.models import Quarantine, RepairJournal
from onboarding.importer import _username
from onboarding.models import ApiKey, OnboardingSession, PersonaData, ResearchPreferences, WebsiteAnalysis

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "alwrity"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
FIELDS = [
    "writing_style", "content_characteristics", "target_audience", "content_type", "recommended_settings",
    "crawl_result", "style_patterns", "style_guidelines",
]  # fmt: skip
MODELS = [User, OnboardingSession, ApiKey, WebsiteAnalysis, ResearchPreferences, PersonaData, Quarantine]


def sha(value) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()[:16]


def run(*args, db=SAMPLE / "alwrity.db", json_dir=SAMPLE / "json") -> str:
    out, err = StringIO(), StringIO()
    call_command("import_alwrity", "--db", str(db), "--json-dir", str(json_dir), *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def snapshot() -> dict:
    return {model.__name__: sorted(model.objects.values_list(), key=lambda row: row[0]) for model in MODELS}


def assert_matches_expected():
    expected_users = EXPECTED["users"]
    onboarded = User.objects.filter(onboarding__isnull=False)
    assert sorted(onboarded.values_list("external_id", flat=True)) == sorted(expected_users)
    assert not User.objects.filter(external_id__in=EXPECTED["not_users"]).exists()
    for external_id, expected in expected_users.items():
        session = OnboardingSession.objects.get(user__external_id=external_id)
        assert session.current_step == expected["current_step"], external_id
        assert session.is_completed == expected["completed"], external_id
        if expected["completed_at"]:
            want = datetime.fromisoformat(expected["completed_at"])
            assert abs((session.completed_at - want).total_seconds()) < 1, external_id
        else:
            assert session.completed_at is None
        assert {k.provider: k.reveal() for k in session.api_keys.all()} == expected["api_keys"], external_id
        analyses = {a.url_key: a for a in session.analyses.live()}
        assert sorted(analyses) == sorted(expected["website_analyses"]), external_id
        for key, want in expected["website_analyses"].items():
            analysis = analyses[key]
            assert (analysis.url, analysis.status) == (want["url"], want["status"]), key
            assert [f for f in FIELDS if getattr(analysis, f) is not None] == want["non_null"], key
            assert {f: sha(getattr(analysis, f)) for f in want["non_null"]} == want["sha256"], key
        persona = PersonaData.objects.filter(session=session).first()
        if expected["persona"] is None:
            assert persona is None, external_id
        else:
            assert sha(persona.core_persona) == expected["persona"]["core_persona_sha256"]
            assert sha(persona.platform_personas) == expected["persona"]["platform_personas_sha256"]
            assert sha(persona.quality_metrics) == expected["persona"]["quality_metrics_sha256"]
            assert persona.selected_platforms == expected["persona"]["selected_platforms"]
        preferences = ResearchPreferences.objects.filter(session=session).first()
        if expected["research_preferences"] is None:
            assert preferences is None, external_id
        else:
            for name in ["research_depth", "content_types", "auto_research", "factual_content"]:
                assert getattr(preferences, name) == expected["research_preferences"][name], (external_id, name)
    quarantine = EXPECTED["quarantine"]
    assert Quarantine.objects.count() == quarantine["total"]
    got = {}
    for record in Quarantine.objects.all():
        got.setdefault(f"{record.source}|{record.reason}", set()).add(record.payload["legacy_id"])
    want = {}
    for item in quarantine["items"]:
        want.setdefault(f"{item['source']}|{item['reason']}", set()).add(item["legacy_id"])
    assert got == want
    assert {k: len(v) for k, v in got.items()} == quarantine["by_source_reason"]


def database_text() -> bytes:
    """Every byte the database holds: the SQLite file and its WAL, or every PostgreSQL table as text."""
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        return b"".join(p.read_bytes() for p in [name, Path(f"{name}-wal")] if p.exists())
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            chunks.extend(row[0].encode() for row in cursor.fetchall())
    return b"\n".join(chunks)


# Committed data is needed to read the database file's bytes.
@pytest.mark.django_db(transaction=True)
def test_the_sample_imports_to_exactly_the_expected_result_twice_and_no_secret_is_stored_or_printed():
    output = run("--execute")
    assert_matches_expected()
    before = snapshot()

    output += run("--execute")

    assert snapshot() == before  # nothing created, deleted or changed, the same primary keys
    assert "Nothing new" in output
    assert RepairJournal.objects.filter(kind="import").count() == 1
    stored = database_text()
    assert b"user_2abc123xyz" in stored  # the check can see imported text at all
    for secret in EXPECTED["secrets"]:
        assert secret.encode() not in stored, secret[:4]
        assert secret not in output, secret[:4]


@pytest.mark.django_db
def test_the_dry_run_prints_the_plan_with_masked_keys_and_writes_nothing():
    output = run()
    assert "Dry run: nothing changed" in output
    assert "user_2abc123xyz: step 6" in output
    assert "gemini AIza…S7Iv" in output
    assert "alwrity:website_analyses orphan 3" in output
    assert all(not model.objects.exists() for model in MODELS)
    assert not RepairJournal.objects.exists()
    for secret in EXPECTED["secrets"]:
        assert secret not in output


@pytest.mark.django_db
def test_the_import_leaves_its_inputs_untouched(tmp_path):
    copy = tmp_path / "sample"
    shutil.copytree(SAMPLE, copy)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in copy.rglob("*") if p.is_file()}
    run("--execute", db=copy / "alwrity.db", json_dir=copy / "json")
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in copy.rglob("*") if p.is_file()} == digest


@pytest.mark.django_db
def test_an_sqlalchemy_url_is_accepted(tmp_path):
    shutil.copy(SAMPLE / "alwrity.db", tmp_path / "alwrity.db")
    output = run("--execute", db=f"sqlite:///{tmp_path / 'alwrity.db'}")
    assert "Done." in output
    assert OnboardingSession.objects.count() == 8


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "/nonexistent/alwrity.db", "--json-dir", str(SAMPLE / "json")], "no such file"),
        (["--db", str(SAMPLE / "expected.json"), "--json-dir", str(SAMPLE / "json")], "not a SQLite database"),
        (["--db", str(SAMPLE / "alwrity.db"), "--json-dir", "/nonexistent"], "no such folder"),
        (["--db", str(SAMPLE / "alwrity.db"), "--json-dir", str(SAMPLE / "json"), "--timezone", "Mars/Base"], "IANA"),
    ],
)
def test_bad_arguments_are_a_command_error_naming_the_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_alwrity", *args, stdout=StringIO())


# Creates and drops a second database, which needs autocommit.
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads the legacy data from a PostgreSQL database")
def test_the_sample_imports_the_same_from_a_postgresql_database():
    import sqlite3

    import psycopg

    from tests.onboarding.legacy import DDL

    settings = connection.settings_dict
    name = "alwrity_legacy_sample"
    url = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        source = sqlite3.connect(SAMPLE / "alwrity.db")
        with psycopg.connect(url) as target:
            # BIGINT: the sample keeps its h2-keyed rows, which a real PostgreSQL ALwrity could not hold.
            target.execute(DDL.replace("DATETIME", "TIMESTAMP").replace("session_id INTEGER", "session_id BIGINT"))
            for table in [
                "onboarding_sessions",
                "api_keys",
                "website_analyses",
                "research_preferences",
                "persona_data",
            ]:
                cursor = source.execute(f"SELECT * FROM {table}")
                columns = [d[0] for d in cursor.description]
                types = dict(
                    target.execute(
                        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", [table]
                    ).fetchall()
                )
                for row in cursor.fetchall():
                    values = [_pg_value(v, types.get(c)) for c, v in zip(columns, row, strict=True)]
                    present = [c for c in columns if c in types]
                    values = [v for c, v in zip(columns, values, strict=True) if c in types]
                    target.execute(
                        f"INSERT INTO {table} ({', '.join(chr(34) + c + chr(34) for c in present)}) "
                        f"VALUES ({', '.join(['%s'] * len(present))})",
                        values,
                    )
        source.close()
        run("--execute", db=url)
        assert_matches_expected()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _pg_value(value, data_type):
    from psycopg.types.json import Json

    if value is None:
        return None
    if data_type == "json":
        return Json(json.loads(value))
    if data_type == "boolean":
        return bool(value)
    return value


def test_a_username_is_the_id_itself_unless_it_does_not_fit_the_column():
    fits = "user_" + "x" * (STORED_USERNAME_MAX_LENGTH - 5)
    assert _username(fits, 0) == fits
    too_long = fits + "y"
    variant = _username(too_long, 0)
    assert len(variant) <= STORED_USERNAME_MAX_LENGTH
    assert variant.startswith(too_long[:100])
    assert variant == _username(too_long, 1)  # stable: the same variant on every run
