#!/usr/bin/env bash
# The build commands of the release image, one step per RUN line of the Dockerfile, so that
# scripts/check-docker-build.sh runs exactly the same commands outside a container.
#
#   build-release.sh deps             compile every Rust dependency against a placeholder crate
#                                     (needs only Cargo.toml and Cargo.lock: a cached layer)
#   build-release.sh binary           compile the real sources; copy the binary to $TESTMESH_OUT
#   build-release.sh dashboard-deps   npm ci in dashboard/ (needs only its package files)
#   build-release.sh dashboard        npm run build in dashboard/; the static export is dashboard/out
#
# Run from the source root. Environment: TESTMESH_BUILD_PROFILE (release, or dev for a quick
# check; default release), CARGO_TARGET_DIR (default target), TESTMESH_OUT (default out).
set -euo pipefail

profile=${TESTMESH_BUILD_PROFILE:-release}
target_dir=${CARGO_TARGET_DIR:-target}
out=${TESTMESH_OUT:-out}
case "$profile" in
  release) profile_dir=release ;;
  dev) profile_dir=debug ;;
  *) echo "build-release.sh: TESTMESH_BUILD_PROFILE must be release or dev, not '$profile'" >&2; exit 2 ;;
esac
# Left by `deps` beside the sources: the placeholder crate was compiled here, so `binary` must
# make the real sources look newer than it (a COPY keeps the files' original times).
placeholder_marker=.placeholder-deps-built

deps() {
  if [ -e src ]; then
    echo "build-release.sh deps: src/ exists; this step runs before the sources are copied" >&2
    exit 2
  fi
  mkdir src
  echo 'fn main() {}' >src/main.rs
  : >src/lib.rs
  # Cargo reads every target the manifest declares, so each [[bench]] and each explicit
  # `path = ...` target needs a file too.
  local files created=()
  files=$(awk '/^\[\[bench\]\]/{b=1; next} b && /^name *=/{gsub(/[" ]/, "", $0); sub(/^name=/, "", $0); print "benches/" $0 ".rs"; b=0}
               /^path *=/{gsub(/[" ]/, "", $0); sub(/^path=/, "", $0); print}' Cargo.toml)
  for file in $files; do
    if [ ! -e "$file" ]; then
      mkdir -p "$(dirname "$file")"
      echo 'fn main() {}' >"$file"
      created+=("$file")
    fi
  done
  cargo build --locked --profile "$profile" --bin testmesh
  rm -rf src
  for file in "${created[@]}"; do
    rm -f "$file"
    rmdir "$(dirname "$file")" 2>/dev/null || true
  done
  touch "$placeholder_marker"
}

binary() {
  if [ -e "$placeholder_marker" ]; then
    touch src/main.rs src/lib.rs
    rm -f "$placeholder_marker"
  fi
  cargo build --locked --profile "$profile" --bin testmesh
  mkdir -p "$out"
  cp "$target_dir/$profile_dir/testmesh" "$out/testmesh"
  "$out/testmesh" --version
}

dashboard_deps() {
  (cd dashboard && npm ci --no-audit --no-fund)
}

dashboard() {
  (cd dashboard && npm run build)
  if [ ! -f dashboard/out/index.html ]; then
    echo "build-release.sh dashboard: dashboard/out/index.html is missing after the build" >&2
    exit 1
  fi
}

case "${1:-}" in
  deps) deps ;;
  binary) binary ;;
  dashboard-deps) dashboard_deps ;;
  dashboard) dashboard ;;
  *) echo "usage: build-release.sh deps|binary|dashboard-deps|dashboard" >&2; exit 2 ;;
esac
