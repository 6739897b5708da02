#!/usr/bin/env bash
# The read API over a large history: seeds 1,000,000 executions and 10,000,000 step rows (plus a
# metrics row per run, the trend rollups and the flip rollups) with generate_series in SQL, starts
# `testmesh api` (release) on a free loopback port, and measures p50/p99 of the executions
# list, trends and flaky flows, each interleaved with /healthz in the same run (the ratio is the
# point; the target is p99 < 50 ms).
# Numbers only: nothing here fails on a timing.
#   bash bench/api.sh                       from the repository root
#   RUNS=1000000 STEPS_PER_RUN=10 REQUESTS=2000 SECONDS_PER_TARGET=60   to change the sizes
#   TESTMESH_BIN=path/to/testmesh           to measure a binary built beforehand
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-1000000}
steps_per_run=${STEPS_PER_RUN:-10}
requests=${REQUESTS:-2000}
seconds=${SECONDS_PER_TARGET:-60}

# shellcheck source=scripts/services.sh
source scripts/services.sh
api_pid=""
cleanup() {
  [ -n "$api_pid" ] && { kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; }
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
start_services
db="$TESTMESH_TEST_DATABASE_URL"
"$bin" migrate --database-url "$db" --log-format text 2>/dev/null

echo "== seeding $runs executions and $((runs * steps_per_run)) step rows"
started=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$db" <<SQL
-- Bulk load: the rows are made consistent here, so skip the per-row foreign-key triggers.
SET session_replication_role = replica;
INSERT INTO executions.runs (run_id, namespace, flow_name, generation, spec, environment,
  trigger, trigger_detail, status, queued_at, started_at, finished_at, duration_ms,
  passed_steps, failed_steps, attempt)
SELECT 'bench-' || g, 'ns' || (g % 10), 'flow-' || (g % 100), 1,
  '{"name": "bench", "steps": [{"id": "a", "action": "http_request"}]}'::jsonb,
  CASE WHEN g % 3 = 0 THEN 'prod-like' ELSE 'staging' END,
  (ARRAY['schedule', 'manual', 'change', 'annotation'])[1 + g % 4], NULL,
  CASE WHEN g % 17 = 0 THEN 'failed' WHEN g % 101 = 0 THEN 'error' ELSE 'passed' END,
  q, q + interval '1 second', q + interval '1 second' + d * interval '1 millisecond', d,
  $steps_per_run, 0, 1
FROM generate_series(1, $runs) g,
  LATERAL (SELECT now() - g * (interval '30 days' / $runs) AS q, 200 + (g::bigint * 7919) % 800 AS d) t;
INSERT INTO metrics.run_metrics (time, namespace, flow_name, environment, status, duration_ms)
SELECT started_at, namespace, flow_name, environment, status, duration_ms FROM executions.runs;
-- The trend rollups, as the recorder keeps them (metrics.record_runs) when runs finish.
SELECT metrics.roll_up(array_agg(time), array_agg(namespace), array_agg(flow_name),
  array_agg(status), array_agg(duration_ms)) FROM metrics.run_metrics;
-- The flip rollups for flaky flows, as the recorder keeps them (metrics.roll_up_flips).
VACUUM ANALYZE metrics.run_metrics;
SELECT metrics.roll_up_flips(array_agg(time), array_agg(namespace), array_agg(flow_name),
  array_agg(status)) FROM metrics.run_metrics;
INSERT INTO executions.steps (run_id, step_index, attempt, step_id, action, phase, status,
  started_at, duration_ms, assertions, captured)
SELECT 'bench-' || g, s, 1, 'step-' || s, 'http_request', 'main', 'passed',
  now() - g * (interval '30 days' / $runs), 10 + s, '[]'::jsonb, '{}'::jsonb
FROM generate_series(1, $runs) g, generate_series(0, $steps_per_run - 1) s;
SET session_replication_role = DEFAULT;
ANALYZE;
SQL
echo "seeded in $(( $(date +%s) - started )) s"

port=$(free_port)
"$bin" api --listen "127.0.0.1:$port" --database-url "$db" --dashboard-dir /nonexistent \
  --log-format text 2>/dev/null &
api_pid=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
base="http://127.0.0.1:$port"
cursor=$(curl -fs "$base/api/v1/executions?limit=50" | python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)["nextCursor"]))')

echo "== p99 latency, each endpoint interleaved with /healthz ($requests requests or ${seconds}s each, 4 clients)"
python3 bench/api_load.py "$base" /healthz "$requests" "$seconds" \
  "executions (first page)=/api/v1/executions?limit=50" \
  "executions (next page)=/api/v1/executions?limit=50&cursor=$cursor" \
  "executions (filtered)=/api/v1/executions?namespace=ns3&status=failed&limit=50" \
  "trends (flow, daily)=/api/v1/trends?namespace=ns3&flow=flow-3&bucket=day" \
  "trends (flow, hourly)=/api/v1/trends?namespace=ns3&flow=flow-3&bucket=hour" \
  "trends (all, daily)=/api/v1/trends?bucket=day" \
  "trends (all, hourly)=/api/v1/trends?bucket=hour" \
  "trends (namespace, daily)=/api/v1/trends?namespace=ns3&bucket=day" \
  "flaky (7 days)=/api/v1/flaky"
