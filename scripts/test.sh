#!/usr/bin/env bash
# The whole test suite, as the README documents it: builds, runs every test, then checks that
# every example validates and runs. It installs what the tests need and cleans up after itself.
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

cargo build --bins

echo "== examples: every file validates, every flow runs"
./target/debug/testmesh validate examples/
./target/debug/testmesh run examples/ --report junit="$workdir/examples.xml" --report json="$workdir/examples.json"

echo "== test suite"
cargo nextest run --no-fail-fast
