"""Benchmark `manage.py import_archives` on a generated ThyWill archive against the cost of just reading it.

    .venv/bin/python bench/import_archives.py --prayers 100000                  # SQLite, a temp file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/import_archives.py --prayers 100000              # PostgreSQL
    bench/with_postgres.sh --prayers 100000                                     # a throwaway PostgreSQL 15

With a PostgreSQL URL the script creates a scratch database `cairn_bench` on that server (dropping one left
over from an earlier run), migrates it, and drops it at the end; the database named in the URL is only used
to connect. Without DATABASE_URL, or with a sqlite URL, it uses a new SQLite file in a temp folder.
CAIRN_ARCHIVE_ROOT is always a new temp folder. The archive is generated once per size and seed into /tmp
(`bench/thywill_archive.py`) and reused.

Measured, each as seconds and lines/s over the same number of lines (every line of every data file):
  (a) floor: `os.walk` over the archive folder, and for every file `open(path, 'rb').read().decode('utf-8')
      .split('\\n')`; nothing else. Warm page cache (one untimed pass first); best of --floor-runs.
  (b) `archives.thywill.read_thywill_archive(folder)` alone.
  (c) the whole import: `call_command("import_archives", folder, "--execute")` on the empty database (read,
      copy into the archive root, database writes), with the time of each phase.
  (d) the same command again: idempotent, it must create nothing.
Then (b)/(a) and (c)/(a) as percentages of the floor's throughput, the SQL statements of (c) and (d) (counted
with `connection.execute_wrapper`; COPY operations counted separately by wrapping psycopg's `Cursor.copy`),
the statements per batch of prayers, and the rows created. Nothing is asserted about times.
"""

import argparse
import contextlib
import cProfile
import inspect
import io
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.thywill_archive import cached_archive  # noqa: E402

SCRATCH_DATABASE = "cairn_bench"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prayers", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--activity-per-prayer", type=float, default=10.0)
    parser.add_argument("--timezone", default="UTC", help="passed to import_archives --timezone (default UTC)")
    parser.add_argument("--batch-size", type=int, default=None, help="import_archives --batch-size (its default)")
    parser.add_argument("--floor-runs", type=int, default=3)
    parser.add_argument("--skip-reader", action="store_true", help="skip (b), the reader alone")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the first import into FILE and print its top")
    parser.add_argument("--cache", default=tempfile.gettempdir(), help="where generated archives are kept")
    parser.add_argument(
        "--root-parent",
        default=tempfile.gettempdir(),
        help="where the temporary CAIRN_ARCHIVE_ROOT (and the file-creation reference) go (default: the temp dir)",
    )
    return parser.parse_args(argv)


# --- databases ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(url: str | None):
    """A DATABASE_URL of an empty database for this run, removed afterwards."""
    if not url or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="cairn-bench-db-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    conninfo = urlunsplit(parts._replace(scheme="postgresql"))
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SCRATCH_DATABASE))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(SCRATCH_DATABASE))
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(create)
    try:
        yield urlunsplit(parts._replace(path=f"/{SCRATCH_DATABASE}"))
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(drop)


def setup_django(database_url: str, archive_root: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CAIRN_ARCHIVE_ROOT"] = archive_root
    os.environ["DEBUG"] = "false"  # no query log in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- measurements ---------------------------------------------------------------------------------------


def read_and_split(folder: Path) -> tuple[int, int]:
    """The floor: walk, read, decode and split every file. Returns (files, lines)."""
    files = lines = 0
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as file:
                split = file.read().decode("utf-8").split("\n")
            files += 1
            lines += len(split) - (split[-1] == "")  # a final newline ends a line; it does not start one
    return files, lines


def create_copies(folder: Path, target: Path) -> int:
    """A reference for the copy step: write every file into a fresh folder (open 'xb', write; no sync)."""
    made, files = set(), 0
    for dirpath, _dirnames, filenames in os.walk(folder):
        out = target / os.path.relpath(dirpath, folder)
        if out not in made:
            out.mkdir(parents=True, exist_ok=True)
            made.add(out)
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as source, open(out / name, "xb") as copy:
                copy.write(source.read())
            files += 1
    return files


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


class QueryCounter:
    """Counts the SQL statements Django sends (an executemany is one), by first word, and psycopg COPYs."""

    def __init__(self):
        self.statements = 0
        self.by_verb = Counter()
        self.copies = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        self.by_verb[sql.lstrip().split(None, 1)[0].upper()] += 1
        if many:
            self.by_verb["(executemany)"] += 1
        return execute(sql, params, many, context)

    @contextlib.contextmanager
    def counting(self):
        from django.db import connection

        with connection.execute_wrapper(self), self._counting_copies():
            yield self

    @contextlib.contextmanager
    def _counting_copies(self):
        try:
            import psycopg
        except ImportError:
            yield
            return
        original = psycopg.Cursor.copy
        counter = self

        def copy(cursor, statement, *args, **kwargs):
            counter.copies += 1
            return original(cursor, statement, *args, **kwargs)

        psycopg.Cursor.copy = copy
        try:
            yield
        finally:
            psycopg.Cursor.copy = original

    def total(self) -> int:
        return self.statements + self.copies


@contextlib.contextmanager
def phase_timers(phases: dict, batch_marks: list, counter: QueryCounter):
    """Time the command's phases (read, copy, database) and note the statement count after each batch."""
    from archives import importer
    from archives.management.commands import import_archives as command

    originals = (command.read_thywill_archive, importer.copy_into_archive_root, importer.import_archive)

    def timing(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    def import_archive(*args, on_prayers=None, **kwargs):
        batch_marks.append(counter.total())

        def on_batch(n):
            batch_marks.append(counter.total())
            if on_prayers:
                on_prayers(n)

        try:
            return originals[2](*args, on_prayers=on_batch, **kwargs)
        finally:
            batch_marks.append(counter.total())

    # The users are written before the first batch: mark their end too (a private helper of the importer).
    import_users = getattr(importer, "_import_users", None)

    def users_marked(*args, **kwargs):
        try:
            return import_users(*args, **kwargs)
        finally:
            batch_marks.append(counter.total())

    if import_users:
        importer._import_users = users_marked
    command.read_thywill_archive = timing("read", originals[0])
    importer.copy_into_archive_root = timing("copy", originals[1])
    importer.import_archive = timing("database", import_archive)
    try:
        yield
    finally:
        command.read_thywill_archive, importer.copy_into_archive_root, importer.import_archive = originals
        if import_users:
            importer._import_users = import_users


def run_import(folder: Path, args, profile: str | None = None) -> dict:
    from django.core.management import call_command

    phases, marks, counter = {}, [], QueryCounter()
    command_args = [str(folder), "--execute", "--timezone", args.timezone]
    if args.batch_size:
        command_args += ["--batch-size", str(args.batch_size)]
    out = io.StringIO()
    profiler = cProfile.Profile() if profile else None
    with counter.counting(), phase_timers(phases, marks, counter):
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        call_command("import_archives", *command_args, stdout=out, stderr=io.StringIO(), verbosity=0)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    if profiler:
        profiler.dump_stats(profile)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        print(text.getvalue())
    # marks: at the start, after the users, after each batch, at the end (quarantine and journal).
    per_batch = [b - a for a, b in zip(marks[1:-2], marks[2:-1], strict=True)]
    return {
        "seconds": seconds,
        "phases": phases,
        "output": out.getvalue(),
        "statements": counter.statements,
        "copies": counter.copies,
        "by_verb": dict(counter.by_verb),
        "before_batches": marks[1] - marks[0],
        "per_batch": per_batch,
        "after_batches": marks[-1] - marks[-2],
    }


def table_counts() -> dict:
    from accounts.models import User
    from archives.models import Activity, Prayer
    from integrity.models import Quarantine, RepairJournal

    return {
        "users": User.objects.count(),
        "prayers": Prayer.objects.count(),
        "activities": Activity.objects.count(),
        "quarantine": Quarantine.objects.count(),
        "journal": RepairJournal.objects.count(),
    }


# --- the report -----------------------------------------------------------------------------------------


def rate(lines: int, seconds: float) -> str:
    return f"{lines / seconds:>12,.0f} lines/s"


def describe_import(label: str, result: dict, lines: int, floor_seconds: float) -> None:
    seconds = result["seconds"]
    print(f"{label:<34} {seconds:8.2f} s {rate(lines, seconds)}   {100 * floor_seconds / seconds:5.1f}% of floor")
    phases = dict(result["phases"])
    phases["other (command steps)"] = seconds - sum(phases.values())
    for name in ("read", "copy", "database", "other (command steps)"):
        if name in phases:
            part = phases[name]
            print(f"    {name:<30} {part:8.2f} s   ({100 * part / seconds:4.1f}% of this import)")
    per_batch = result["per_batch"]
    spread = f"{min(per_batch)}–{max(per_batch)}" if per_batch else "-"
    print(
        f"    SQL: {result['statements']} statements + {result['copies']} COPY; "
        f"{result['before_batches']} before the batches (users), {spread} per batch (COPYs included) over "
        f"{len(per_batch)} batches, {result['after_batches']} after (quarantine, journal)"
    )
    print(f"    by verb: {', '.join(f'{verb} {n}' for verb, n in sorted(result['by_verb'].items()))}")


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    folder = cached_archive(
        prayers=args.prayers,
        users=args.users,
        seed=args.seed,
        activity_per_prayer=args.activity_per_prayer,
        cache=args.cache,
    )
    print(f"archive: {folder} (ready in {time.perf_counter() - start:.1f} s)")
    with (
        scratch_database(os.environ.get("DATABASE_URL")) as database_url,
        tempfile.TemporaryDirectory(prefix="cairn-bench-root-", dir=args.root_parent) as archive_root,
    ):
        setup_django(database_url, archive_root)
        from django.db import connection

        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; archive root: {archive_root}")
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, timezone {args.timezone}")
        try:
            return measure(folder, args)
        finally:
            connection.close()


def measure(folder: Path, args) -> int:
    from archives.thywill import read_thywill_archive

    read_and_split(folder)  # warm the page cache
    floor_runs = [timed(read_and_split, folder) for _ in range(max(1, args.floor_runs))]
    floor_seconds, (files, lines) = min(floor_runs, key=lambda run: run[0])

    # The reader takes the time zone itself in newer versions (R11), as the command then passes it.
    reader_kwargs = {}
    if "tz" in inspect.signature(read_thywill_archive).parameters:
        reader_kwargs["tz"] = ZoneInfo(args.timezone)
    if args.skip_reader:
        reader_seconds = None
        archive = read_thywill_archive(folder, **reader_kwargs)
    else:
        reader_seconds, archive = timed(read_thywill_archive, folder, **reader_kwargs)
    events = sum(len(prayer.events) for prayer in archive.prayers)
    activity_lines = count_activity_lines(folder)
    print(
        f"archive: {files} files, {lines:,} lines ({activity_lines:,} activity lines); read: "
        f"{len(archive.users)} users, {len(archive.prayers)} prayers, {events:,} events, "
        f"{len(archive.quarantine)} quarantine records"
    )
    if archive.lines_read != lines:
        print(f"!! the reader counted {archive.lines_read} lines, the floor {lines}")
    del archive

    # The same disk's cost of creating that many files right now (it varies a lot on some file systems, e.g.
    # ext4 mounted with `discard` is several times slower for minutes after many files were deleted).
    with tempfile.TemporaryDirectory(prefix="cairn-bench-create-", dir=args.root_parent) as scratch:
        create_seconds, _ = timed(create_copies, folder, Path(scratch))
        first = run_import(folder, args, profile=args.profile)
    created = table_counts()
    second = run_import(folder, args)
    after = table_counts()

    print()
    print(f"{'measurement':<34} {'time':>10} {'throughput':>18}   ratio")
    print(f"{'(a) floor: walk+read+decode+split':<34} {floor_seconds:8.2f} s {rate(lines, floor_seconds)}")
    print("    = min over runs of: for each file under os.walk(folder): open(p,'rb').read().decode().split('\\n')")
    if reader_seconds is not None:
        print(
            f"{'(b) read_thywill_archive':<34} {reader_seconds:8.2f} s {rate(lines, reader_seconds)}"
            f"   {100 * floor_seconds / reader_seconds:5.1f}% of floor"
        )
    describe_import("(c) import --execute (empty db)", first, lines, floor_seconds)
    print(
        f"    (for the copy: plain open('xb').write of every file into a fresh folder took {create_seconds:.2f} s "
        f"just before, {files / create_seconds:,.0f} files/s)"
    )
    describe_import("(d) import --execute again", second, lines, floor_seconds)
    print()
    print(f"rows after (c): {created}")
    print(f"(c) said: {first['output'].strip().splitlines()[0]}")
    print(f"(d) said: {second['output'].strip().splitlines()[-1]}")
    if after != created:
        print(f"!! the second import changed the row counts: {after}")
        return 1
    if created["activities"] != events:
        print(f"!! {created['activities']} activity rows for {events} events")
        return 1
    return 0


def count_activity_lines(folder: Path) -> int:
    """Lines after the last `Activity:` line of each prayer file (blank ones not counted)."""
    total = 0
    prayers = folder / "prayers"
    for dirpath, _dirnames, filenames in os.walk(prayers):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as file:
                data = file.read()
            cut = data.rfind(b"\nActivity:\n")
            if cut >= 0:
                total += sum(1 for line in data[cut + 11 :].split(b"\n") if line.strip())
    return total


if __name__ == "__main__":
    sys.exit(main())
