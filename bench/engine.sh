#!/usr/bin/env bash
# Engine and CLI timings, each printed beside baselines measured in the same invocation, against
# one local nginx serving a small JSON document:
# - `testmesh run` of $STEPS sequential GETs, each with 2 assertions and 1 capture, beside
#   Hurl 8.0.1 running the same requests, assertions and captures, the bare reqwest loop and
#   wrk's rate on one connection (the wire limit); best of $RUNS;
# - the engine in-process (benches/engine.rs) beside the bare reqwest loop;
# - a one-step `testmesh run` (one GET) beside a one-step Hurl run: wall time and peak RSS.
# With CALLGRIND=1, the instruction counts of both `run`s under valgrind too (noise-free).
# Numbers only: nothing here fails on a timing (the machine's load decides too much).
#   bash bench/engine.sh            from the repository root
#   STEPS=1000 RUNS=5 ENGINE_RUNS=15 CLI_RUNS=20 CALLGRIND=1   to change the sizes
# Installs nginx, wrk (and libcurl4-openssl-dev, libclang-dev to build Hurl) with apt-get when
# missing, and Hurl into ~/.cache/testmesh-bench once (HURL_CACHE to put it elsewhere).
set -euo pipefail

cd "$(dirname "$0")/.."
steps=${STEPS:-1000}
runs=${RUNS:-5}
engine_runs=${ENGINE_RUNS:-15}
cli_runs=${CLI_RUNS:-20}
hurl_version=8.0.1
hurl_root=${HURL_CACHE:-$HOME/.cache/testmesh-bench}/hurl-$hurl_version
hurl="$hurl_root/bin/hurl"

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ! -x "$hurl" ]; then
    dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
    dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x "$hurl" ]; then
    echo "== installing Hurl $hurl_version into $hurl_root (once)"
    cargo install hurl --version "$hurl_version" --locked --root "$hurl_root" --quiet
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
nginx_pid=""
cleanup() {
    [ -n "$nginx_pid" ] && { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT
echo "== building (release)"
cargo build --release --quiet --bin testmesh
# `cargo bench` builds the binary again under the bench profile, whose symbol names differ from
# those link/hot-functions.txt lists (see build.rs): measure the release build, as shipped.
bin="$work/testmesh"
cp "${CARGO_TARGET_DIR:-target}/release/testmesh" "$bin"
cargo bench --quiet --bench engine --no-run

# nginx on a free loopback port, in the foreground of a background job, with its files in $work.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location = /item {
            default_type application/json;
            return 200 '{"id": 1, "items": [{"price": 3}]}';
        }
    }
}
NGINX
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
url="http://127.0.0.1:$port/item"
for _ in $(seq 1 50); do
    curl -fs "$url" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$url" >/dev/null || { echo "nginx did not start:" >&2; cat "$work/nginx/logs/error.log" >&2; exit 1; }

# The same workload for both tools: $1 GETs, each asserting the status and a price, capturing id.
write_flows() {
    local count=$1 flow=$2 hurl_file=$3
    {
        echo "name: bench-$count"
        echo "steps:"
        for i in $(seq 1 "$count"); do
            printf '  - id: get_%s\n    action: http_request\n    config:\n      method: GET\n      url: %s\n    assert:\n      - status == 200\n      - body.items[0].price > 0\n    output:\n      id: $.body.id\n' "$i" "$url"
        done
    } >"$flow"
    : >"$hurl_file"
    for _ in $(seq 1 "$count"); do
        printf 'GET %s\nHTTP 200\n[Captures]\nid: jsonpath "$.id"\n[Asserts]\njsonpath "$.items[0].price" > 0\n\n' "$url" >>"$hurl_file"
    done
}
write_flows "$steps" "$work/many.yaml" "$work/many.hurl"
write_flows 1 "$work/one.yaml" "$work/one.hurl"
for check in "$bin run $work/many.yaml" "$hurl --test $work/many.hurl" "$bin run $work/one.yaml" "$hurl --test $work/one.hurl"; do
    $check >"$work/check.log" 2>&1 || { echo "$check failed:" >&2; tail -20 "$work/check.log" >&2; exit 1; }
done

# Prints "best median" in ms (to 0.1) of running the command $1 times.
wall_ms() {
    local count=$1 times=() start end
    shift
    for _ in $(seq "$count"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        times+=($(((end - start) / 100000)))
    done
    printf '%s\n' "${times[@]}" | sort -n |
        awk '{ t[NR] = $1 } END { printf "%.1f %.1f\n", t[1] / 10, t[int((NR + 1) / 2)] / 10 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== engine in-process: $steps GETs vs a bare reqwest loop (best of $engine_runs, after a warm-up)"
engine_out=$(cargo bench --quiet --bench engine -- --steps "$steps" --runs "$engine_runs" --url "$url")
echo "$engine_out"
# The bare loop as runtime tasks, the placement `testmesh run` uses.
bare_best=$(echo "$engine_out" | sed -n 's/^as runtime tasks:.*bare reqwest: best \([0-9.]*\) ms.*/\1/p')

echo "== testmesh run of $steps GETs (2 assertions, 1 capture each) vs Hurl $hurl_version, best of $runs"
read -r tm_best tm_median < <(wall_ms "$runs" "$bin" run "$work/many.yaml")
read -r hurl_best hurl_median < <(wall_ms "$runs" "$hurl" --test "$work/many.hurl")
wrk_rate=$(wrk -t1 -c1 -d3s "$url" | awk '/Requests\/sec/ { print $2 }')
wire_ms=$(awk -v r="$wrk_rate" -v n="$steps" 'BEGIN { printf "%.1f", n / r * 1000 }')
echo "testmesh run: best $tm_best ms, median $tm_median ms | Hurl: best $hurl_best ms, median $hurl_median ms"
echo "bare reqwest loop: best $bare_best ms | wrk, one connection: $wrk_rate requests/s, $wire_ms ms for $steps"
echo "ratios of testmesh run: $(ratio "$tm_best" "$hurl_best")x Hurl (target <= 0.6x), $(ratio "$tm_best" "$bare_best")x the bare reqwest loop, $(ratio "$tm_best" "$wire_ms")x wrk"

echo "== one-step run (one GET) vs Hurl vs /bin/true ($cli_runs runs each)"
read -r one_best one_median < <(wall_ms "$cli_runs" "$bin" run "$work/one.yaml")
read -r hurl1_best hurl1_median < <(wall_ms "$cli_runs" "$hurl" --test "$work/one.hurl")
read -r true_best true_median < <(wall_ms "$cli_runs" /bin/true)
echo "testmesh run: best $one_best ms, median $one_median ms (target <= 10 ms) | Hurl: best $hurl1_best ms, median $hurl1_median ms | /bin/true: best $true_best ms, median $true_median ms"
# build.rs lays the listed functions out first; a list made for other dependencies names few
# functions of this build, and the runs above are then slower and larger.
listed=$(grep -vc '^#' link/hot-functions.txt)
found=$(comm -12 <(nm --defined-only "$bin" | awk '{ print $3 }' | sort -u) \
    <(grep -v '^#' link/hot-functions.txt | sort -u) | wc -l)
echo "hot-function list: $found of $listed names found in this build (run scripts/hot-functions.sh when far fewer)"
if [[ -x /usr/bin/time ]] && /usr/bin/time -v /bin/true >/dev/null 2>&1; then
    # Both binaries as a process maps them after a reboot: a file just written stays in the page
    # cache in large folios, and a process then maps a whole folio per page it touches, which
    # makes the figure depend on when the file was last written rather than on the program.
    sync
    python3 -c 'import os, sys
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)' "$bin" "$hurl"
    # Prints the max RSS in MB (to 0.1) that /usr/bin/time -v reports for the command.
    rss_mb() {
        /usr/bin/time -v "$@" 2>&1 >/dev/null |
            awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }'
    }
    echo "max RSS: testmesh run $(rss_mb "$bin" run "$work/one.yaml") MB (target <= 15 MB) | Hurl $(rss_mb "$hurl" --test "$work/one.hurl") MB | /bin/true $(rss_mb /bin/true) MB"
else
    echo "max RSS: skipped (no /usr/bin/time with -v on this machine)"
fi

if [ "${CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
    echo "== instructions under callgrind (valgrind --tool=callgrind), $steps GETs and one GET"
    # Prints the total instruction count callgrind reports for the command.
    instructions() {
        valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$@" 2>&1 >/dev/null |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    tm_ir=$(instructions "$bin" run "$work/many.yaml")
    hurl_ir=$(instructions "$hurl" --test "$work/many.hurl")
    one_ir=$(instructions "$bin" run "$work/one.yaml")
    hurl1_ir=$(instructions "$hurl" --test "$work/one.hurl")
    echo "$steps GETs: testmesh run $tm_ir, Hurl $hurl_ir ($(ratio "$tm_ir" "$hurl_ir")x)"
    echo "one GET: testmesh run $one_ir, Hurl $hurl1_ir ($(ratio "$one_ir" "$hurl1_ir")x)"
fi
