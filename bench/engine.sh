#!/usr/bin/env bash
# Engine and CLI timings, each printed beside a baseline measured in the same invocation.
# Numbers only: nothing here fails on a timing (the machine's load decides too much).
#   bash bench/engine.sh            from the repository root
#   STEPS=1000 RUNS=15 CLI_RUNS=20  to change the sizes
set -euo pipefail

cd "$(dirname "$0")/.."
steps=${STEPS:-1000}
runs=${RUNS:-15}
cli_runs=${CLI_RUNS:-20}

echo "== building (release)"
cargo build --release --quiet --bin testmesh
cargo bench --quiet --bench engine --no-run

echo "== engine: $steps sequential http_request steps vs a bare reqwest loop (best of $runs, after a warm-up)"
cargo bench --quiet --bench engine -- --steps "$steps" --runs "$runs"

echo "== CLI: testmesh run of a one-step flow vs /bin/true ($cli_runs runs each)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flow="$work/one-step.yaml"
cat >"$flow" <<'YAML'
name: one-step
steps:
  - id: hello
    action: log
    config:
      message: hello
YAML
bin="${CARGO_TARGET_DIR:-target}/release/testmesh"
"$bin" run "$flow" >/dev/null 2>&1 || {
    echo "testmesh run of the one-step flow failed:" >&2
    "$bin" run "$flow" >&2 || true
    exit 1
}

# Prints "best median" in ms (to 0.1) of running the command $cli_runs times.
wall_ms() {
    local times=() start end
    for _ in $(seq "$cli_runs"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        times+=($(((end - start) / 100000)))
    done
    printf '%s\n' "${times[@]}" | sort -n |
        awk '{ t[NR] = $1 } END { printf "%.1f %.1f\n", t[1] / 10, t[int((NR + 1) / 2)] / 10 }'
}

read -r run_best run_median < <(wall_ms "$bin" run "$flow")
read -r true_best true_median < <(wall_ms /bin/true)
echo "testmesh run: best $run_best ms, median $run_median ms (target < 20 ms) | /bin/true: best $true_best ms, median $true_median ms"

if [[ -x /usr/bin/time ]] && /usr/bin/time -v /bin/true >/dev/null 2>&1; then
    # Prints the max RSS in MB (to 0.1) that /usr/bin/time -v reports for the command.
    rss_mb() {
        /usr/bin/time -v "$@" 2>&1 >/dev/null |
            awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }'
    }
    echo "testmesh run: max RSS $(rss_mb "$bin" run "$flow") MB (target < 20 MB) | /bin/true: max RSS $(rss_mb /bin/true) MB"
else
    echo "max RSS: skipped (no /usr/bin/time with -v on this machine)"
fi
