#!/usr/bin/env bash
# What Kubernetes sign-in costs the read API: seeds RUNS executions in ten namespaces, starts two
# `testmesh api` (release) processes over the same database on free loopback ports, one with
# `--auth none` and one with `--auth kubernetes` against scripts/mock_kube_auth.py (a stand-in API
# server that lets the bench user read each of the ten namespaces, so the API asks per
# namespace and every answer holds the same rows), and measures requests per second and p99 of
# /api/v1/executions on both in alternating rounds, with a warm cache (the review happens once:
# the cache lives an hour here, so no round waits for a review).
# Prints the overhead ratio. Numbers only: nothing here fails on a timing.
#   bash bench/api_auth.sh                  from the repository root
#   RUNS=100000 REQUESTS=4000 ROUNDS=3      to change the sizes
#   TESTMESH_BIN=path/to/testmesh           to measure a binary built beforehand
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-100000}
requests=${REQUESTS:-4000}
rounds=${ROUNDS:-3}
token="bench-$RANDOM$RANDOM"

# shellcheck source=scripts/services.sh
source scripts/services.sh
pids=()
workdir=$(mktemp -d)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
  stop_services
}
trap cleanup EXIT

if [ -n "${TESTMESH_BIN:-}" ]; then
  bin=$TESTMESH_BIN
else
  echo "== building (release)"
  cargo build --release --quiet --bin testmesh
  bin="${CARGO_TARGET_DIR:-target}/release/testmesh"
fi
# Only PostgreSQL is needed: a server of its own (services.sh), on a free port.
services_dir=$(mktemp -d /tmp/testmesh-services.XXXXXX)
chmod 755 "$services_dir"
start_postgres
db="$TESTMESH_TEST_DATABASE_URL"
"$bin" migrate --database-url "$db" --log-format text 2>/dev/null

echo "== seeding $runs executions in 10 namespaces"
psql -q -v ON_ERROR_STOP=1 "$db" <<SQL
INSERT INTO executions.runs (run_id, namespace, flow_name, generation, spec, environment,
  trigger, status, queued_at, started_at, finished_at, duration_ms, passed_steps, failed_steps)
SELECT 'bench-' || g, 'ns' || (g % 10), 'flow-' || (g % 100), 1,
  '{"name": "bench", "steps": [{"id": "a", "action": "http_request"}]}'::jsonb, 'staging',
  'schedule', CASE WHEN g % 17 = 0 THEN 'failed' ELSE 'passed' END,
  q, q + interval '1 second', q + interval '2 seconds', 1000, 3, 0
FROM generate_series(1, $runs) g, LATERAL (SELECT now() - g * (interval '30 days' / $runs) AS q) t;
ANALYZE;
SQL

wait_ready() {
  for _ in $(seq 1 150); do
    curl -fs "$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$1 did not get ready" >&2
  exit 1
}

kube_port=$(free_port)
python3 scripts/mock_kube_auth.py "$kube_port" "$token" bench "$(seq -s, -f 'ns%g' 0 9)" &
pids+=($!)
cat >"$workdir/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: mock, cluster: {server: "http://127.0.0.1:$kube_port"}}]
users: [{name: api, user: {token: the-api-service-account}}]
contexts: [{name: mock, context: {cluster: mock, user: api}}]
current-context: mock
YAML

open_port=$(free_port)
"$bin" api --auth none --listen "127.0.0.1:$open_port" --database-url "$db" \
  --dashboard-dir /nonexistent --log-format text 2>/dev/null &
pids+=($!)
kube_api_port=$(free_port)
"$bin" api --auth kubernetes --auth-cache-ttl 1h --kubeconfig "$workdir/kubeconfig" \
  --listen "127.0.0.1:$kube_api_port" --database-url "$db" --dashboard-dir /nonexistent \
  --log-format text 2>/dev/null &
pids+=($!)
wait_ready "http://127.0.0.1:$open_port"
wait_ready "http://127.0.0.1:$kube_api_port"

echo "== /api/v1/executions?limit=50: $rounds alternating rounds of $requests requests (4 clients)"
python3 bench/api_auth_load.py "/api/v1/executions?limit=50" "$requests" "$rounds" \
  "http://127.0.0.1:$open_port" "http://127.0.0.1:$kube_api_port" "$token"
echo "reviews the mock API server answered: $(curl -fs "http://127.0.0.1:$kube_port/stats")"
