#!/usr/bin/env bash
# The flow editor's end-to-end test (dashboard/e2e/editor.e2e.mjs): a fresh database, `testmesh
# mock` serving the orders API of dashboard/e2e/fixtures/editor-mock.yaml, a real executor and
# `testmesh api --allow-draft-runs` on free ports, all on Redis keys of their own, then
# `npm run e2e:editor` against them. Screenshots land in dashboard/test-output/editor-*.png.
# Needs TESTMESH_TEST_DATABASE_URL and TESTMESH_TEST_REDIS_URL (scripts/services.sh), a built
# binary (target/debug/testmesh) and a built dashboard (dashboard/out).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${TESTMESH_TEST_DATABASE_URL:?start the services first (scripts/services.sh)}"
: "${TESTMESH_TEST_REDIS_URL:?start the services first (scripts/services.sh)}"
[ -f dashboard/out/index.html ] || { echo "dashboard/out is missing: run npm run build in dashboard/" >&2; exit 1; }
testmesh="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/testmesh"

name="tm_editor_$(date +%s)_$$"
psql -q -v ON_ERROR_STOP=1 "$TESTMESH_TEST_DATABASE_URL" -c "CREATE DATABASE \"$name\"" >/dev/null
database_url="${TESTMESH_TEST_DATABASE_URL%/*}/$name"
redis_url="$TESTMESH_TEST_REDIS_URL"
prefix="e2e-editor:$$:"
"$testmesh" migrate --database-url "$database_url" --log-format text 2>/dev/null
# A flow that ran once (the store's catalog lists it) and whose second step names no action, to
# open with "Edit a copy".
psql -q -v ON_ERROR_STOP=1 "$database_url" >/dev/null <<'SQL'
INSERT INTO executions.runs (run_id, namespace, flow_name, generation, spec, trigger, status, queued_at)
VALUES ('seed-orders-1', 'default', 'orders-check', 1,
  '{"name": "Orders check", "steps": [{"id": "ping", "action": "http_request", "config": {"url": "http://127.0.0.1:1/"}}, {"id": "bad", "action": "htp"}]}',
  'manual', 'passed', now() - interval '1 hour');
SQL

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
logs=$(mktemp -d)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$logs"
}
trap stop_all EXIT
wait_for() { # url pid log
  for _ in $(seq 1 150); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; return 1; }
    sleep 0.2
  done
  echo "$1 did not answer" >&2; cat "$3" >&2; return 1
}

mock_port=$(free_port)
"$testmesh" mock dashboard/e2e/fixtures/editor-mock.yaml --port "$mock_port" >"$logs/mock" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$mock_port/orders/1" "${pids[-1]}" "$logs/mock"

"$testmesh" executor --database-url "$database_url" --redis-url "$redis_url" --redis-prefix "$prefix" \
  --metrics-addr "127.0.0.1:$(free_port)" --executor-id e2e-editor --log-format text >"$logs/executor" 2>&1 &
pids+=($!)

api_port=$(free_port)
"$testmesh" api --listen "127.0.0.1:$api_port" --dashboard-dir dashboard/out --database-url "$database_url" \
  --redis-url "$redis_url" --redis-prefix "$prefix" --allow-draft-runs --log-format text >"$logs/api" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$api_port/readyz" "${pids[-1]}" "$logs/api"

echo "testmesh api (draft runs on) on 127.0.0.1:$api_port, executor and mock on 127.0.0.1:$mock_port, database $name"
(cd dashboard && E2E_BASE_URL="http://127.0.0.1:$api_port" E2E_MOCK_URL="http://127.0.0.1:$mock_port" \
  TESTMESH_BIN="$testmesh" npm run e2e:editor) || { echo "== executor log" >&2; tail -40 "$logs/executor" >&2; echo "== api log" >&2; tail -40 "$logs/api" >&2; exit 1; }
