#!/bin/bash
# Runs every benchmark of the project and prints each figure with its ratio.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
ran=0
for bench in "$root/$build"/bench/bench_*; do
    [[ -x "$bench" ]] || continue
    echo "== $(basename "$bench")"
    "$bench" --benchmark_counters_tabular=true
    ran=1
done
if (( ran == 0 )); then
    echo "bench: no benchmark binaries in $build/bench" >&2
    exit 1
fi
