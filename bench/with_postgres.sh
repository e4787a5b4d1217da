#!/usr/bin/env bash
# Run bench/import_archives.py (or $BENCH_SCRIPT with $BENCH_PYTHON) against a throwaway PostgreSQL 15 cluster, started like scripts/test starts
# its own (initdb in a temp dir, a free port, trust auth) and removed at the end, whatever happens.
#
#   bench/with_postgres.sh [bench/import_archives.py args...]     e.g. bench/with_postgres.sh --prayers 100000
#
# Unlike scripts/test, the cluster keeps PostgreSQL's default durability settings (fsync, synchronous_commit,
# full_page_writes on), as a production server would.
#
# Environment: PG_BIN (default /usr/lib/postgresql/15/bin).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=""
PG_RUNNING=0
IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

as_postgres() {
    if [[ $IS_ROOT -eq 1 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

in_pg_dir() {
    (cd "$PG_DIR" && "$@")
}

cleanup() {
    set +e
    if [[ $PG_RUNNING -eq 1 ]]; then
        in_pg_dir as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
        local pid
        pid=$(head -n1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
        if [[ -n $pid ]] && ps -o args= -p "$pid" 2>/dev/null | grep -qF -- "$PG_DIR/data"; then
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    [[ -n $PG_DIR ]] && rm -rf "$PG_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl ]]; then
    echo "no initdb/pg_ctl in $PG_BIN (set PG_BIN)" >&2
    exit 1
fi

PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-pg.XXXXXX")
[[ $IS_ROOT -eq 1 ]] && chown postgres: "$PG_DIR"
in_pg_dir as_postgres "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2
    exit 1
}
PG_PORT=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PG_RUNNING=1
in_pg_dir as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null || {
    cat "$PG_DIR/postgres.log" >&2
    exit 1
}
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $PG_PORT ($PG_DIR)"
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" "${BENCH_PYTHON:-.venv/bin/python}" "${BENCH_SCRIPT:-bench/import_archives.py}" "$@"
