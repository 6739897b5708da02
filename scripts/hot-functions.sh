#!/usr/bin/env bash
# Regenerates link/hot-functions.txt: the functions a one-step `testmesh run` executes, which
# build.rs asks LLD to place side by side so that such a run maps little of the binary (see
# build.rs). Run it after a dependency upgrade or a change to the run path, then check the
# one-step RSS with bench/engine.sh. Needs valgrind (apt-get install valgrind) and python3.
#   bash scripts/hot-functions.sh      from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null 2>&1 || {
    echo "valgrind not found: apt-get install valgrind" >&2
    exit 1
}
cargo build --release --quiet --bin testmesh
bin="${CARGO_TARGET_DIR:-target}/release/testmesh"

work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

# A JSON document served on a free loopback port, for the HTTP flow.
mkdir -p "$work/www"
echo '{"id": 1, "items": [{"price": 3}]}' >"$work/www/item"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:$port/item" >/dev/null 2>&1 && break
    sleep 0.1
done

# The runs whose functions go first: one HTTP step with assertions and a capture, one log step.
cat >"$work/http.yaml" <<FLOW
name: one-get
steps:
  - id: get
    action: http_request
    config:
      url: http://127.0.0.1:$port/item
    assert:
      - status == 200
      - body.items[0].price > 0
    output:
      id: \$.body.id
FLOW
cat >"$work/log.yaml" <<'FLOW'
name: one-log
steps:
  - action: log
    config:
      message: hello
FLOW
for flow in http log; do
    valgrind --tool=callgrind --demangle=no --compress-strings=no \
        --callgrind-out-file="$work/$flow.callgrind" "$bin" run "$work/$flow.yaml" >/dev/null 2>&1
done

# Every function callgrind saw run, in the order first seen, that the binary defines itself.
nm --defined-only "$bin" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u >"$work/defined"
sed -n 's/^c\{0,1\}fn=//p' "$work/http.callgrind" "$work/log.callgrind" |
    awk '!seen[$0]++' >"$work/executed"
# The first line names what the list was made for; build.rs warns when building for another.
lock_hash=$(python3 -c 'import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print(f"{h:016x}")' Cargo.lock)
{
    echo "# made for: Cargo.lock fnv1a64=$lock_hash, $(rustc -V)"
    awk 'NR == FNR { defined[$0] = 1; next } defined[$0]' "$work/defined" "$work/executed"
} >link/hot-functions.txt
echo "link/hot-functions.txt: $(($(wc -l <link/hot-functions.txt) - 1)) functions; rebuild to use them"
