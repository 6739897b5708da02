#!/usr/bin/env bash
# The dashboard's sign-in, end to end in headless Chromium against the real `testmesh api` with
# `--auth kubernetes`: seeds a fresh database with the scenario of dashboard/e2e/fixtures (runs
# in shop, billing and identity), starts scripts/mock_kube_auth.py as the API server that
# reviews tokens (one token, a user who may read TestFlows in `shop` only), serves
# dashboard/out with `testmesh api` on a free port, and runs dashboard/e2e/sign-in.e2e.mjs.
# Needs TESTMESH_TEST_DATABASE_URL (scripts/services.sh), a built binary (target/debug/testmesh)
# and a built dashboard (dashboard/out).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${TESTMESH_TEST_DATABASE_URL:?start the services first (scripts/services.sh)}"
[ -f dashboard/out/index.html ] || { echo "dashboard/out is missing: run npm run build in dashboard/" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

name="tm_e2e_auth_$(date +%s)_$$"
psql -q -v ON_ERROR_STOP=1 "$TESTMESH_TEST_DATABASE_URL" -c "CREATE DATABASE \"$name\"" >/dev/null
database_url="${TESTMESH_TEST_DATABASE_URL%/*}/$name"
"${CARGO_TARGET_DIR:-target}/debug/testmesh" migrate --database-url "$database_url" --log-format text 2>/dev/null
python3 scripts/e2e_seed.py sql dashboard/e2e/fixtures | psql -q -v ON_ERROR_STOP=1 "$database_url" >/dev/null

workdir=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap stop EXIT

token="e2e-$RANDOM$RANDOM"
kube_port=$(free_port)
python3 scripts/mock_kube_auth.py "$kube_port" "$token" shop-developer shop &
pids+=($!)
cat >"$workdir/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: mock, cluster: {server: "http://127.0.0.1:$kube_port"}}]
users: [{name: api, user: {token: the-api-service-account}}]
contexts: [{name: mock, context: {cluster: mock, user: api}}]
current-context: mock
YAML

port=$(free_port)
"${CARGO_TARGET_DIR:-target}/debug/testmesh" api --auth kubernetes --kubeconfig "$workdir/kubeconfig" \
  --listen "127.0.0.1:$port" --dashboard-dir dashboard/out --database-url "$database_url" \
  --log-format text 2>"$workdir/api.log" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "testmesh api did not get ready" >&2; cat "$workdir/api.log" >&2; exit 1; }

echo "testmesh api --auth kubernetes on 127.0.0.1:$port over database $name"
(cd dashboard && E2E_BASE_URL="http://127.0.0.1:$port" E2E_TOKEN="$token" E2E_NAMESPACE=shop npm run e2e:sign-in)
