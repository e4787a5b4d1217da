"""Benchmark `manage.py import_alwrity` on a generated ALwrity database with every keying era.

    .venv/bin/python bench/onboarding_import.py --users 2000                   # SQLite, a new temp file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/onboarding_import.py --users 2000               # PostgreSQL: scratch database

The legacy data is generated from a seeded random.Random: per user one or two sessions, three keys (some
rotated, some duplicated), analyses keyed h1, h2, by session id and a few by the shared key 1 and by
salted hashes, failed and blanked rows, placeholder and real preferences, personas, and a JSON progress
file for half of the users (one in fifty truncated). Measured: reading + planning alone, the dry run,
the first --execute, a second one (which must change nothing) and undo_repair of the first (which must
leave no row), as seconds, users/s and SQL statements (counted with connection.execute_wrapper). Nothing
is asserted about times.
"""

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCRATCH_DATABASE = "cairn_bench_onboarding"


def h1(u):
    return int(hashlib.sha256(u.encode()).hexdigest()[:8], 16) % 2147483647


def h2(u):
    return int(hashlib.sha256(u.encode()).hexdigest()[:15], 16)


def generate(folder: Path, users: int, seed: int) -> tuple[Path, Path]:
    from tests.onboarding.legacy import FULL, progress_file, write_db, write_json_dir

    rng = random.Random(seed)
    tables = {t: [] for t in ["onboarding_sessions", "api_keys", "website_analyses", "research_preferences",
                              "persona_data"]}  # fmt: skip
    ids = dict.fromkeys(tables, 0)
    files = {}

    def add(table, **row):
        ids[table] += 1
        tables[table].append({"id": ids[table], **row})
        return ids[table]

    for n in range(users):
        user = f"user_bench{n:06d}{rng.choice('ABCDEFGH')}"
        day = 10 + n % 18
        at = f"2025-10-{day:02d} 10:{n % 60:02d}:00"
        sessions = [add("onboarding_sessions", user_id=user, current_step=rng.randint(1, 6), progress=50.0,
                        started_at=at, updated_at=at) for _ in range(1 + (rng.random() < 0.1))]  # fmt: skip
        for provider in ["gemini", "exa", "copilotkit"]:
            for _ in range(1 + (rng.random() < 0.2)):
                key = "AIza" + "".join(rng.choices("abcdefghijklmnop0123456789", k=35))
                add("api_keys", session_id=rng.choice(sessions), provider=provider, key=key, created_at=at,
                    updated_at=at)  # fmt: skip
        site = f"https://site{n}.example"
        for key in [h1(user), h2(user), sessions[0]]:
            add("website_analyses", session_id=key, website_url=site + rng.choice(["", "/"]), status="completed",
                created_at=at, updated_at=at, **FULL)  # fmt: skip
        if rng.random() < 0.3:
            add("website_analyses", session_id=h1(user), website_url=site, status="failed", created_at=at,
                updated_at=at, **dict.fromkeys(FULL))  # fmt: skip
        if rng.random() < 0.1:
            add("website_analyses", session_id=sessions[0], website_url="", status="completed", created_at=at,
                updated_at=at, **dict.fromkeys(FULL))  # fmt: skip
        if rng.random() < 0.05:
            add("website_analyses", session_id=rng.randint(10**6, 10**9), website_url=site, status="completed",
                created_at=at, updated_at=at, **FULL)  # fmt: skip
        add("research_preferences", session_id=sessions[0], research_depth="standard", content_types=[],
            created_at=at, updated_at=at)  # fmt: skip
        if rng.random() < 0.5:
            add("research_preferences", session_id=h1(user), research_depth="Deep", content_types=["Blog Posts"],
                auto_research=1, factual_content=1, created_at=at, updated_at=at)  # fmt: skip
        add("persona_data", session_id=sessions[0], core_persona={"identity": user}, platform_personas={},
            quality_metrics={}, selected_platforms=["blog"], created_at=at, updated_at=at)  # fmt: skip
        if n % 2 == 0:
            done = f"2025-10-{day:02d}T11:00:00"
            text = progress_file(steps={6: ("completed", done, {})}, current_step=6, last_updated=done)
            files[f".onboarding_progress_{user}.json"] = text[: len(text) // 2] if n % 100 == 0 else text
    for k in range(users // 100):
        add("website_analyses", session_id=1, website_url=f"https://e0-{k}.example", status="completed",
            created_at="2025-09-03 10:00:00", updated_at="2025-09-03 10:00:00", **FULL)  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    db = write_db(folder / "alwrity.db", **tables)
    write_json_dir(folder / "json", files)
    return db, folder / "json"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="cairn-bench-onboarding-"))
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    if not postgres:
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'cairn.sqlite3'}"
    os.environ["CAIRN_ARCHIVE_ROOT"] = str(work / "archives")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")
            cursor.execute(f"CREATE DATABASE {SCRATCH_DATABASE}")
        connections.close_all()
        connection.settings_dict["NAME"] = SCRATCH_DATABASE
    call_command("migrate", verbosity=0)

    started = time.perf_counter()
    db, json_dir = generate(work / "legacy", args.users, args.seed)
    print(f"generated {args.users} users in {time.perf_counter() - started:.1f}s ({db.stat().st_size >> 10} KiB)")

    from zoneinfo import ZoneInfo

    from onboarding import alwrity

    started = time.perf_counter()
    tables = alwrity.read_database(str(db))
    files, quarantined = alwrity.read_json_dir(str(json_dir))
    plan = alwrity.plan_import(tables=tables, files=files, file_quarantine=quarantined, tz=ZoneInfo("UTC"))
    elapsed = time.perf_counter() - started
    rows = sum(len(r) for r in tables.values())
    print(f"read + plan: {elapsed:.2f}s for {rows} rows, {len(files)} files -> {len(plan.users)} users, "
          f"{len(plan.quarantine)} quarantined ({args.users / elapsed:,.0f} users/s)")  # fmt: skip

    def timed(label, command, *arguments):
        statements = []

        def count(execute, sql, *rest):
            statements.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            started = time.perf_counter()
            out = StringIO()
            call_command(command, *arguments, stdout=out)
            elapsed = time.perf_counter() - started
        last = out.getvalue().strip().splitlines()[-1]
        print(f"{label}: {elapsed:.2f}s, {args.users / elapsed:,.0f} users/s, {len(statements)} statements "
              f"({len(statements) / args.users:.1f} per user); {last}")  # fmt: skip

    for label, extra in [("dry run", []), ("first --execute", ["--execute"]), ("second --execute", ["--execute"])]:
        timed(label, "import_alwrity", "--db", str(db), "--json-dir", str(json_dir), *extra)

    from accounts.models import User
    from integrity.models import Quarantine, RepairJournal
    from onboarding.models import ApiKey, OnboardingSession, WebsiteAnalysis

    journal = RepairJournal.objects.filter(kind="import").order_by("pk").first()
    timed("undo of the first --execute", "undo_repair", str(journal.pk))
    left = {model.__name__: model.objects.count() for model in (User, OnboardingSession, ApiKey, WebsiteAnalysis)}
    left["Quarantine"] = Quarantine.objects.count()
    print(f"  rows left after the undo: {left}")
    if postgres:
        connections.close_all()
        connection.settings_dict["NAME"] = url.rsplit("/", 1)[1]
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}")


if __name__ == "__main__":
    main()
