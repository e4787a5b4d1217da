"""Benchmark merging two users with N related rows: Cairn's merge engine against the bare bulk UPDATEs (the floor)
and against django-extensions' `merge_model_instances` on the same data.

    .venv/bin/python bench/merge_users.py --rows 100000                    # SQLite, a temp file
    BENCH_SCRIPT=bench/merge_users.py bench/with_postgres.sh --rows 100000  # a throwaway PostgreSQL 15
    bench/merge_with_extensions.sh --rows 100000                           # also django-extensions (own venv)

Two data sets, each with N related rows of the loser plus one group membership that collides with the survivor's:
"prayers" (N prayers it wrote: a relation every tool sees) and "mixed" (N/10 prayers, the rest "prayed" events
through `Activity.actor`, a relation with related_name="+"). Each method runs on freshly made data:
  (a) floor: one `UPDATE … SET author/actor = survivor WHERE … = loser` per relation, the membership collapsed,
      the loser marked merged; nothing else.
  (b) Cairn: `integrity.merge.plan_merge` then `execute_merge` (re-plan, conflicts, bulk re-point, tombstone,
      journal, text archive event).
  (c) django-extensions 4.1 `merge_model_instances` (only if it is importable: it is not a Cairn dependency).
(a) and (b) run --runs times (default 2), each on fresh data, and the best run counts: the first statements
after a bulk load pay for the load (PostgreSQL's checkpoints and hint bits), whichever method comes first.
Printed: seconds, SQL statements (an executemany counts once), and each method's ratio to the floor; a method
that fails says how. Nothing is asserted about times; the script fails only if (a) or (b) did not move every row.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_archives import scratch_database, setup_django  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="related rows of the loser (default 100,000)")
    parser.add_argument("--runs", type=int, default=2, help="runs of (a) and (b) on fresh data; the best counts")
    return parser.parse_args(argv)


def make_pair(rows: int, data: str):
    from datetime import UTC, datetime, timedelta

    from django.contrib.auth.models import Group

    from accounts.models import User
    from archives.models import Activity, Prayer

    survivor = User.objects.create(username="Grace Lee", username_key="grace lee", external_id="bench:survivor")
    loser = User.objects.create(username="GraceLee", username_key="gracelee", external_id="bench:loser")
    group, _ = Group.objects.get_or_create(name="moderators")
    survivor.groups.add(group)
    loser.groups.add(group)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    prayers = Prayer.objects.bulk_create(
        [
            Prayer(
                archive_id=f"{i:032x}", author=loser, request=f"Request {i}", submitted_at=start + timedelta(minutes=i)
            )
            for i in range(rows if data == "prayers" else rows // 10)
        ],
        batch_size=5000,
    )
    if prayers[0].pk is None:  # a backend that does not return pks from bulk inserts
        prayers = list(Prayer.objects.order_by("pk"))
    events = rows - len(prayers)  # none for "prayers"
    Activity.objects.bulk_create(
        [
            Activity(prayer=prayers[i % len(prayers)], actor=loser, kind="prayed", at=start + timedelta(minutes=i))
            for i in range(events)
        ],
        batch_size=5000,
    )
    return survivor, loser


def wipe():
    from django.contrib.auth.models import Group

    from accounts.models import User
    from archives.models import Activity, Prayer
    from integrity.models import RepairJournal

    Activity.objects.all().delete()
    Prayer.objects.all().delete()
    RepairJournal.objects.all().delete()
    User.objects.update(merged_into=None, invited_by=None)
    User.objects.all().delete()
    Group.objects.all().delete()


def floor(survivor, loser):
    from django.db import transaction

    from accounts.models import User
    from archives.models import Activity, Prayer

    with transaction.atomic():
        Prayer.objects.filter(author=loser).update(author=survivor)
        Activity.objects.filter(actor=loser).update(actor=survivor)
        User.groups.through.objects.filter(user=loser).delete()
        User.objects.filter(pk=loser.pk).update(merged_into=survivor, is_active=False)


def cairn(survivor, loser):
    from integrity import merge

    merge.execute_merge(plan=merge.plan_merge(survivor=survivor, losers=[loser]))


def extensions(survivor, loser):
    from django.db import transaction
    from django_extensions.management.commands.merge_model_instances import Command

    with transaction.atomic():
        Command().merge_model_instances(survivor, [loser])


def run(name, method, rows, data):
    from django.db import connection

    from archives.models import Activity, Prayer

    wipe()
    survivor, loser = make_pair(rows, data)
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    start = time.perf_counter()
    failure = ""
    with connection.execute_wrapper(count):
        try:
            method(survivor, loser)
        except Exception as error:  # django-extensions' own failures are part of what is measured
            if method is not extensions:
                raise
            failure = f"failed after that: {type(error).__name__}, everything rolled back"
    seconds = time.perf_counter() - start
    moved = Prayer.objects.filter(author=survivor).count() + Activity.objects.filter(actor=survivor).count()
    if moved != rows and method is not extensions:
        raise SystemExit(f"{name}: moved {moved} of {rows} rows")
    if moved != rows and not failure:
        failure = f"moved {moved:,} of {rows:,} rows"
    return seconds, statements, failure


def main(argv=None) -> int:
    args = parse_args(argv)
    with (
        scratch_database(os.environ.get("DATABASE_URL")) as database_url,
        tempfile.TemporaryDirectory(prefix="cairn-bench-root-") as archive_root,
    ):
        setup_django(database_url, archive_root)
        from django.db import connection

        print(f"database: {connection.vendor}; python {sys.version.split()[0]}; {os.cpu_count()} CPUs")
        methods = [("(a) floor: bare bulk UPDATEs", floor), ("(b) Cairn plan + execute", cairn)]
        try:
            import django_extensions  # noqa: F401

            methods.append(("(c) django-extensions merge_model_instances", extensions))
        except ImportError:
            print("(c) skipped: django-extensions is not installed here (bench/merge_with_extensions.sh installs it)")
        results = {}
        try:
            for data in ("prayers", "mixed"):
                results[data] = [
                    min(
                        (name, *run(name, method, args.rows, data))
                        for _ in range(1 if method is extensions else max(1, args.runs))
                    )
                    for name, method in methods
                ]
        finally:
            wipe()
            connection.close()
    for data, rows in results.items():
        what = (
            "prayers" if data == "prayers" else f"{args.rows // 10:,} prayers + {args.rows - args.rows // 10:,} events"
        )
        print(f"\n{args.rows:,} related rows, {data}: {what}")
        floor_seconds, floor_statements = rows[0][1], rows[0][2]
        print(f"  {'method':<46}{'seconds':>10}{'statements':>12}{'× floor time':>14}{'× floor SQL':>13}")
        for name, seconds, statements, failure in rows:
            print(
                f"  {name:<46}{seconds:>10.3f}{statements:>12,}{seconds / floor_seconds:>14.1f}"
                f"{statements / floor_statements:>13.1f}"
            )
            if failure:
                print(f"  {'':<46}{failure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
