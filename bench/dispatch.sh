#!/usr/bin/env bash
# Dispatch benchmark: 10,000 runs of a one-step HTTP flow through one executor, with Redis and
# PostgreSQL on this machine, beside a baseline loop without the engine (XADD, XREADGROUP, one
# multi-row INSERT, XACK) measured in the same invocation. Prints runs/s from enqueue to row
# committed and p50/p99 queue-to-start latency at full load and at half the full-load rate.
#   bash bench/dispatch.sh [RUNS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10000}
concurrency=${2:-64}

# shellcheck source=scripts/services.sh
source scripts/services.sh
trap stop_services EXIT
start_services

cargo build --release --quiet --bin testmesh --example dispatch-bench
"${CARGO_TARGET_DIR:-target}"/release/examples/dispatch-bench "$TESTMESH_TEST_DATABASE_URL" "$TESTMESH_TEST_REDIS_URL" \
  "${CARGO_TARGET_DIR:-target}"/release/testmesh "$runs" "$concurrency"
