#!/usr/bin/env bash
# The dashboard's end-to-end test against the real `testmesh api`: seeds a fresh database (and
# the running run's live events in Redis) with the scenario of dashboard/e2e/fixtures, serves
# dashboard/out with `testmesh api` on a free port, and runs `npm run e2e` against it.
# Needs TESTMESH_TEST_DATABASE_URL and TESTMESH_TEST_REDIS_URL (scripts/services.sh), a built
# binary (target/debug/testmesh) and a built dashboard (dashboard/out).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${TESTMESH_TEST_DATABASE_URL:?start the services first (scripts/services.sh)}"
: "${TESTMESH_TEST_REDIS_URL:?start the services first (scripts/services.sh)}"
[ -f dashboard/out/index.html ] || { echo "dashboard/out is missing: run npm run build in dashboard/" >&2; exit 1; }

name="tm_e2e_$(date +%s)_$$"
psql -q -v ON_ERROR_STOP=1 "$TESTMESH_TEST_DATABASE_URL" -c "CREATE DATABASE \"$name\"" >/dev/null
database_url="${TESTMESH_TEST_DATABASE_URL%/*}/$name"
redis_url="$TESTMESH_TEST_REDIS_URL"

"${CARGO_TARGET_DIR:-target}/debug/testmesh" migrate --database-url "$database_url" --log-format text 2>/dev/null
python3 scripts/e2e_seed.py sql dashboard/e2e/fixtures | psql -q -v ON_ERROR_STOP=1 "$database_url" >/dev/null
python3 scripts/e2e_seed.py redis dashboard/e2e/fixtures "$redis_url"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp)
"${CARGO_TARGET_DIR:-target}/debug/testmesh" api --listen "127.0.0.1:$port" --dashboard-dir dashboard/out \
  --database-url "$database_url" --redis-url "$redis_url" --log-format text 2>"$log" &
api_pid=$!
stop_api() { kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; rm -f "$log"; }
trap stop_api EXIT

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$api_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "testmesh api did not get ready" >&2; cat "$log" >&2; exit 1; }

echo "testmesh api on 127.0.0.1:$port over database $name"
(cd dashboard && E2E_BASE_URL="http://127.0.0.1:$port" npm run e2e)
