#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on 127.0.0.1:${PGPORT:-55432} for the tests and prints
#   export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/incidentflow_test
# Usage: eval "$(bash scripts/ci-postgres.sh)". Idempotent: reuses a server already running there.
set -euo pipefail
port=${PGPORT:-55432}
data=${PGDATA_DIR:-/tmp/incidentflow-pg-$port}
url="postgres://postgres@127.0.0.1:$port/incidentflow_test"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "ci-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
fi
psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='incidentflow_test'" | grep -q 1 ||
  psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE incidentflow_test" >/dev/null
echo "export TEST_DATABASE_URL=$url"
