#!/usr/bin/env bash
# Runs the Dockerfile's build outside a container (no Docker engine runs here): the same COPY
# and RUN steps, in the same order, from the context .dockerignore lets through; then runs the
# image's entrypoint. `--quick` builds the dev profile in the warm target dir (CARGO_TARGET_DIR,
# else ./target: what scripts/test.sh uses); without it the release binary is built, as the
# image does.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
if [ "${1:-}" = "--quick" ]; then profile=dev; fi

skip=()
if [ ! -f dashboard/package.json ]; then
  echo "skipped: the dashboard stage (dashboard/package.json does not exist on this branch yet)"
  skip+=(--skip-stage dashboard)
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" TESTMESH_BUILD_PROFILE="$profile" \
  python3 scripts/dockerfile_dry_run.py "$workdir" "${skip[@]}"
