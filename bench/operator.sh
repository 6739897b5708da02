#!/usr/bin/env bash
# Operator bench: a full resync of 10,000 TestFlows and 2,000 TestSchedules served by a mock
# Kubernetes API (bench/mock_kube_api.py) that shapes objects like a real server (managedFields,
# last-applied copies, the status the operator wrote), the operator's peak RSS and status
# writes, the same again after a restart (every status already written: no write expected), a
# larger cluster for the memory per flow, and runs/s enqueued into Redis. Each number is printed
# beside its target and a baseline measured in the same invocation. Numbers only: nothing here
# fails on a timing.
#   bash bench/operator.sh                 from the repository root
#   FLOWS=10000 SCHEDULES=2000 RUNS=20000 LARGE_FLOWS=50000  to change the sizes
#   OPERATOR_BIN=path/to/testmesh          to measure another build of the operator (A/B)
set -euo pipefail

cd "$(dirname "$0")/.."
flows=${FLOWS:-10000}
schedules=${SCHEDULES:-2000}
runs=${RUNS:-20000}
large_flows=${LARGE_FLOWS:-50000}
operator_bin=${OPERATOR_BIN:-${CARGO_TARGET_DIR:-target}/release/testmesh}

echo "== building (release)"
cargo build --release --quiet --bin testmesh
cargo bench --quiet --bench operator --no-run

# shellcheck source=scripts/services.sh
source scripts/services.sh
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    stop_services >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
start_services >/dev/null

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts the mock API with $1 flows and $2 schedules; sets api_port and KUBECONFIG.
start_api() {
    api_port=$(free_port)
    python3 bench/mock_kube_api.py "$api_port" "$1" "$2" &
    pids+=($!)
    cat >"$work/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: mock, cluster: {server: "http://127.0.0.1:$api_port"}}]
users: [{name: mock, user: {token: bench}}]
contexts: [{name: mock, context: {cluster: mock, user: mock, namespace: default}}]
current-context: mock
YAML
    export KUBECONFIG="$work/kubeconfig"
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$api_port/stats" >/dev/null && return 0
        sleep 0.1
    done
    echo "the mock API did not start" >&2
    exit 1
}

stat_field() { curl -sf "http://127.0.0.1:$api_port/stats" | python3 -c "import json,sys; v=json.load(sys.stdin)['$1']; print('' if v is None else v)"; }

# Runs the operator against the mock API until it is done, then prints
# "seconds peak_rss_mib status_writes". Done means: with "empty", after 3 s; with "written",
# when every object's status was written (at most 120 s); with "reconciled N", when the
# operator has reconciled N objects (a restart over statuses already written, at most 120 s).
resync() {
    local start end pid rss done_at metrics_port
    curl -sf -X POST "http://127.0.0.1:$api_port/stats/reset" >/dev/null
    metrics_port=$(free_port)
    start=$(date +%s.%N)
    TESTMESH_METRICS_ADDR="127.0.0.1:$metrics_port" TESTMESH_REDIS_URL="$TESTMESH_TEST_REDIS_URL" \
        POD_NAME=bench RUST_LOG=warn "$operator_bin" operator >"$work/operator.log" 2>&1 &
    pid=$!
    pids+=($pid)
    done_at=""
    if [[ "$1" == "empty" ]]; then
        sleep 3
        done_at=$(date +%s.%N)
    fi
    for _ in $(seq 1200); do
        [[ -n "$done_at" ]] && break
        if [[ "$1" == "written" ]]; then
            done_at=$(stat_field done)
        elif (( $(reconciled "$metrics_port") >= $2 )); then
            done_at=$(date +%s.%N)
        fi
        [[ -n "$done_at" ]] && break
        kill -0 "$pid" 2>/dev/null || { echo "the operator stopped:" >&2; cat "$work/operator.log" >&2; exit 1; }
        sleep 0.1
    done
    rss=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
    writes=$(stat_field patches)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [[ -z "$done_at" ]]; then
        echo "timeout $rss $writes"
    else
        python3 -c "print(f'{$done_at - $start:.2f} $rss $writes')"
    fi
}

# Reconciles the operator on metrics port $1 has finished, all kinds together.
reconciled() {
    curl -sf "http://127.0.0.1:$1/metrics" 2>/dev/null |
        awk '/^testmesh_reconciles_total/ { n += $2 } END { printf "%d", n }'
}

echo "== baseline: the operator with nothing to reconcile"
start_api 0 0
read -r _ empty_rss _ < <(resync empty)
echo "operator with 0 objects: peak RSS $empty_rss MiB"

objects=$((flows + schedules))
echo "== first sight: $flows TestFlows and $schedules TestSchedules, shaped as a real API server returns them"
start_api "$flows" "$schedules"
read -r seconds rss writes < <(resync written)
floor=$(cargo bench --quiet --bench operator -- api-floor --api "http://127.0.0.1:$api_port" --patches "$objects")
echo "full resync: $seconds s (target < 10 s) | bare client, same list and $objects status patches: $floor s"
echo "peak RSS: $rss MiB (target < 100 MiB) | with 0 objects: $empty_rss MiB"
echo "status writes: $writes (one per object: $objects)"

echo "== restart: the same objects, each carrying the status written above"
read -r seconds rss writes < <(resync reconciled "$objects")
echo "resync after a restart: $seconds s (target < 10 s) | first sight: see above"
echo "peak RSS: $rss MiB (target < 100 MiB) | with 0 objects: $empty_rss MiB"
echo "status writes: $writes (target 0: nothing changed)"
rss_small=$rss

echo "== memory per flow: $large_flows TestFlows and $schedules TestSchedules, after a restart"
start_api "$large_flows" "$schedules"
read -r _ _ _ < <(resync written)
read -r seconds rss_large writes < <(resync reconciled $((large_flows + schedules)))
per_flow=$(python3 -c "print(f'{($rss_large - $rss_small) * 1048576 / ($large_flows - $flows):.0f}')")
echo "resync after a restart: $seconds s | peak RSS: $rss_large MiB | status writes: $writes"
echo "memory per flow: $per_flow bytes ($rss_small MiB at $flows flows, $rss_large MiB at $large_flows)"

echo "== enqueue: $runs runs into Redis"
cargo bench --quiet --bench operator -- enqueue --redis-url "$TESTMESH_TEST_REDIS_URL" --runs "$runs"
