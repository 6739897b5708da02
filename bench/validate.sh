#!/usr/bin/env bash
# `POST /api/v1/validate` as the flow editor calls it after each pause in editing: p50/p99 of a
# 200-step flow (every step an http_request with two assertions and a capture), each request
# interleaved with the baseline, `GET /healthz` on the same server (the ratio is the point; the
# target is p99 < 20 ms). Starts `testmesh api` on a free loopback port; no service is needed.
# Numbers only: nothing here fails on a timing.
#   bash bench/validate.sh                  from the repository root (builds release)
#   STEPS=200 REQUESTS=1000                  to change the sizes
#   TESTMESH_BIN=target/debug/testmesh       to measure a binary built beforehand
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${STEPS:-200}
requests=${REQUESTS:-1000}

if [ -n "${TESTMESH_BIN:-}" ]; then
  bin=$TESTMESH_BIN
else
  echo "== building (release)"
  cargo build --release --quiet --bin testmesh
  bin="${CARGO_TARGET_DIR:-target}/release/testmesh"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
# Validation reads no table: without TESTMESH_TEST_DATABASE_URL the API runs over none.
"$bin" api --listen "127.0.0.1:$port" --database-url "${TESTMESH_TEST_DATABASE_URL:-postgres://127.0.0.1:1/none}" \
  --dashboard-dir /nonexistent --log-format text 2>/dev/null &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "== $("$bin" --version), $requests requests of a $steps-step flow"
python3 bench/validate_load.py "http://127.0.0.1:$port" "$steps" "$requests"
