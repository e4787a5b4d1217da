#!/usr/bin/env bash
# Run bench/merge_users.py with django-extensions installed, in a venv of its own (it is not a Cairn
# dependency): /tmp/cairn-bench-venv, made once from requirements.txt plus django-extensions.
#
#   bench/merge_with_extensions.sh [--rows N]                      SQLite
#   POSTGRES=1 bench/merge_with_extensions.sh [--rows N]           a throwaway PostgreSQL 15 (bench/with_postgres.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${BENCH_VENV:-/tmp/cairn-bench-venv}
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
# Reinstalled whenever requirements.txt changes (a stamp of its hash, as scripts/_venv.sh does).
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ $(cat "$VENV/.requirements.sha256" 2>/dev/null) != "$want" ]]; then
    "$VENV/bin/pip" install -q -r requirements.txt django-extensions==4.1
    echo "$want" >"$VENV/.requirements.sha256"
fi
if [[ ${POSTGRES:-} == 1 ]]; then
    BENCH_PYTHON=$VENV/bin/python BENCH_SCRIPT=bench/merge_users.py exec bench/with_postgres.sh "$@"
fi
exec "$VENV/bin/python" bench/merge_users.py "$@"
