"""Time import_conversations on a generated legacy database: a dry run, --execute twice, undo_repair of the first.

    .venv/bin/python bench/conversations_import.py --subcontractors 400 --owners 100

Prints rows and seconds per phase on a new SQLite file (or DATABASE_URL's server, into the database
it names: use a scratch one). The legacy database is generated from a seeded random.Random: the same
arguments give the same file. It has split active sessions within milliseconds, webhook retries
across them, long-idle active sessions, and conversations saved two or three times with blank or
conflicting fields.
"""

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pg_time(value: datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "+00"


def generate(path: Path, *, subcontractors: int, owners: int, seed: int) -> dict:
    rng = random.Random(seed)
    ns = uuid.UUID(int=seed)
    db = sqlite3.connect(path)
    db.executescript(
        (ROOT / "tests" / "conversations" / "legacy_db.py").read_text().split('SCHEMA = """')[1].split('"""')[0]
    )
    start = datetime(2024, 5, 1, tzinfo=UTC)
    counts = {"subcontractors": 0, "conversation_sessions": 0, "messages": 0, "conversations": 0}
    for s in range(subcontractors):
        sub = str(uuid.uuid5(ns, f"sub{s}"))
        db.execute("INSERT INTO subcontractors VALUES (?, ?, ?)", (sub, f"+2772{s:07d}", f"Subcontractor {s}"))
        counts["subcontractors"] += 1
        at = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 3))
        for n in range(rng.randrange(1, 8)):
            at += timedelta(minutes=rng.choice([5, 20, 29, 31, 45, 180, 1440]))
            split = rng.random() < 0.3
            sessions = [str(uuid.uuid5(ns, f"sess{s}-{n}-{k}")) for k in range(2 if split else 1)]
            status = rng.choice(["active", "active", "ended", "escalated"])
            msgs, t = [], at + timedelta(milliseconds=40)
            for m in range(rng.randrange(0, 12)):
                sid = f"SM{uuid.uuid5(ns, f'm{s}-{n}-{m}').hex}"
                direction = "inbound" if m % 2 == 0 else "outbound"
                tools = (
                    '{"tool": "list_projects_tool", "items": [1, 2]}'
                    if direction == "outbound" and m % 4 == 1
                    else None
                )
                msgs.append(
                    (
                        str(uuid.uuid5(ns, f"msg{s}-{n}-{m}")),
                        rng.choice(sessions),
                        direction,
                        f"message {m}",
                        sid if direction == "inbound" or rng.random() < 0.5 else rng.choice([None, ""]),
                        tools,
                        t,
                    )
                )
                if direction == "inbound" and rng.random() < 0.1:  # a webhook retry, maybe in the other session
                    msgs.append(
                        (
                            str(uuid.uuid5(ns, f"retry{s}-{n}-{m}")),
                            rng.choice(sessions),
                            direction,
                            f"message {m}",
                            sid,
                            None,
                            t + timedelta(seconds=rng.randrange(5, 30)),
                        )
                    )
                t += timedelta(seconds=rng.randrange(2, 120), milliseconds=rng.randrange(1, 999))
            last = max([m[6] for m in msgs], default=None)
            for k, session in enumerate(sessions):
                created = at + timedelta(milliseconds=100 * k)
                mine = [m[6] for m in msgs if m[1] == session]
                db.execute(
                    "INSERT INTO conversation_sessions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        session,
                        sub,
                        status if k == 0 else "active",
                        pg_time(created),
                        pg_time(max(mine)) if mine else None,
                        None,
                        None,
                    ),
                )
                counts["conversation_sessions"] += 1
            for m in msgs:
                db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", (*m[:6], pg_time(m[6])))
                counts["messages"] += 1
            at = last or at
    row = 0
    for o in range(owners):
        owner = f"user_{uuid.uuid5(ns, f'owner{o}').hex[:27]}"
        for c in range(rng.randrange(1, 10)):
            session_id = str(uuid.uuid5(ns, f"conv{o}-{c}"))
            created = start + timedelta(hours=rng.randrange(0, 500))
            for copy in range(rng.choice([1, 1, 2, 3])):
                row += 1
                transcript = rng.choice([f"Speaker 1: talk {c} take {copy}", "", None, "  "])
                analysis = rng.choice([f'{{"summary": "s{c}", "take": {copy}}}', "null", "{}", "", None])
                updated = created + timedelta(seconds=copy * 5 + rng.randrange(0, 3))
                db.execute(
                    "INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row,
                        session_id,
                        owner,
                        transcript,
                        analysis,
                        None,
                        (created + timedelta(seconds=copy)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                        rng.choice([None, updated.strftime("%Y-%m-%d %H:%M:%S.%f")]),
                    ),
                )
                counts["conversations"] += 1
    db.commit()
    db.close()
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subcontractors", type=int, default=400)
    parser.add_argument("--owners", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cairn-bench-conversations-"))
    legacy = folder / "legacy.db"
    counts = generate(legacy, subcontractors=args.subcontractors, owners=args.owners, seed=args.seed)
    print("legacy rows:", counts)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'cairn.sqlite3'}")
    os.environ.setdefault("CAIRN_ARCHIVE_ROOT", str(folder / "archives"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from io import StringIO

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    for label, extra in (("dry run", []), ("execute", ["--execute"]), ("execute again", ["--execute"])):
        out = StringIO()
        began = time.perf_counter()
        try:
            call_command("import_conversations", "--db", str(legacy), *extra, stdout=out, stderr=StringIO())
        except Exception as error:  # a rejected record: still print the timing
            print(f"  ({error})")
        print(f"{label:>14}: {time.perf_counter() - began:6.2f} s  {out.getvalue().splitlines()[1][:150]}")
    from conversations.models import ChatSession, Conversation, Message
    from integrity.models import RepairJournal

    journal = RepairJournal.objects.filter(kind="import").order_by("pk").first()
    out = StringIO()
    began = time.perf_counter()
    call_command("undo_repair", str(journal.pk), stdout=out)
    left = {model.__name__: model.objects.count() for model in (Conversation, ChatSession, Message)}
    print(f"{'undo':>14}: {time.perf_counter() - began:6.2f} s  {out.getvalue().strip()} Left: {left}")
    print("files in", folder)


if __name__ == "__main__":
    main()
