#!/usr/bin/env bash
# The whole test suite, as the README documents it: runs the image's build steps, builds, checks
# that every example validates and runs, tests the Helm chart and the GitOps examples, then runs
# every Rust test. It installs what the tests need and cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/services.sh
source scripts/services.sh
workdir=$(mktemp -d)
cleanup() { stop_services; rm -rf "$workdir"; }
trap cleanup EXIT
start_services

if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "cargo-nextest not found: installing it"
  cargo install cargo-nextest --locked
fi

echo "== image: the Dockerfile's build steps, run outside a container (dev profile)"
bash scripts/check-docker-build.sh --quick

cargo build --bins
# Where cargo put the binary: CARGO_TARGET_DIR when set, else ./target.
testmesh="${CARGO_TARGET_DIR:-target}/debug/testmesh"
testmesh_path=$(realpath "$testmesh")

echo "== examples: every file validates, every flow runs"
# The flows in examples/services/ take their servers' URLs as variables, named in services.env.
"$testmesh" validate examples/ --env-file examples/services/services.env
# examples/services/ talk to real servers: each runs against the one started above.
"$testmesh" run examples/*.yaml examples/gitops examples/manifests \
  --report junit="$workdir/examples.xml" --report json="$workdir/examples.json"
run_service_example() { # FILE VARIABLE URL-OR-EMPTY [MORE RUN ARGUMENTS]
  if [ -z "$3" ]; then
    echo "skipped examples/services/$1: no server for $2 could be started (see above)"
  else
    "$testmesh" run "examples/services/$1" --env-file examples/services/services.env --var "$2=$3" "${@:4}"
  fi
}
run_service_example postgres.yaml DATABASE_URL "${TESTMESH_TEST_DATABASE_URL:-}"
run_service_example mysql.yaml MYSQL_URL "${TESTMESH_TEST_MYSQL_URL:-}"
run_service_example redis.yaml REDIS_URL "${TESTMESH_TEST_REDIS_URL:-}"
run_service_example nats.yaml NATS_URL "${TESTMESH_TEST_NATS_URL:-}"
run_service_example amqp.yaml AMQP_URL "${TESTMESH_TEST_AMQP_URL:-}"
run_service_example prometheus.yaml PROMETHEUS_URL "${TESTMESH_TEST_PROMETHEUS_URL:-}" \
  --var "ORDERS_URL=${TESTMESH_TEST_METRICS_TARGET_URL:-}"
run_service_example contract.yaml PACT_DIR "$workdir/pacts"
run_service_example s3.yaml S3_URL "${TESTMESH_TEST_S3_URL:-}" --var "S3_BUCKET=${TESTMESH_TEST_S3_BUCKET:-}" \
  --var "S3_ACCESS_KEY=${TESTMESH_TEST_S3_ACCESS_KEY:-}" --var "S3_SECRET_KEY=${TESTMESH_TEST_S3_SECRET_KEY:-}"

echo "== dashboard: build, component tests, end-to-end tests (the dashboard, the HTML report) in headless Chromium"
(
  cd dashboard
  # npm ci only when node_modules is missing or package-lock.json changed since the last install.
  lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -d node_modules ] || [ "$(cat node_modules/.lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
    npm ci --no-audit --no-fund
    echo "$lock_sum" > node_modules/.lock-sha256
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "chromium not found: installing it"
    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
  fi
  npm run build
  npm test
  npm run e2e
  TESTMESH_BIN="$testmesh_path" npm run e2e:report
)

echo "== Helm chart and GitOps examples (Helm's Go library from helm-python-sdk, Lua 5.1 from lupa)"
python3 -m venv "$workdir/venv"
"$workdir/venv/bin/pip" install --quiet --disable-pip-version-check -r charts/tests/requirements.txt
"$workdir/venv/bin/python" charts/tests/render.py
"$workdir/venv/bin/python" charts/tests/gitops.py
echo "== dashboard end-to-end against the real API (testmesh api over a seeded database)"
bash scripts/e2e-api.sh
echo "== dashboard sign-in end-to-end (testmesh api --auth kubernetes, a stand-in API server)"
bash scripts/e2e-auth.sh
echo "== flow editor end-to-end (testmesh api --allow-draft-runs, an executor, testmesh mock)"
bash scripts/e2e-editor.sh

echo "== test suite"
cargo nextest run --no-fail-fast
