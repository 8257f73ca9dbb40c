#!/usr/bin/env bash
# One Groth16 verification of the same snarkjs vector: libverify (JSON in,
# status out) against snarkjs.groth16.verify in node (warm), both pinned to
# CPU 0, wall-clock medians. On a shared machine, run it when it is idle.
# usage: bench/verify_vs_snarkjs.sh [build_dir] [vector_dir]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
vector="${2:-$root/tests/vectors/groth16/eight_inputs}"

for f in verification_key.json cases.json; do
    [[ -f "$vector/$f" ]] || { echo "missing $vector/$f" >&2; exit 1; }
done
[[ -x "$build/bench/bench_libverify" ]] || { echo "build bench_libverify in $build first" >&2; exit 1; }
[[ -d "$root/node_modules/snarkjs" ]] || { echo "run npm ci at the repository root first" >&2; exit 1; }

ours_json="$(ZKC_BENCH_VECTOR="$vector" taskset -c 0 "$build/bench/bench_libverify" \
    --benchmark_filter='BM_Groth16VerifyVector' --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_format=json 2>/dev/null)"
theirs_json="$(taskset -c 0 node "$root/bench/snarkjs_verify.js" "$vector" 200)"

node -e '
const ours = JSON.parse(process.argv[1]).benchmarks;
const theirs = JSON.parse(process.argv[2]);
const pick = (name) => ours.find((b) => b.name === name + "_median");
const json = pick("BM_Groth16VerifyVector/json");
const parsed = pick("BM_Groth16VerifyVector/parsed");
const us = (b) => b.real_time * ({ns: 1e-3, us: 1, ms: 1e3}[b.time_unit]);
console.log(`vector:                       ${theirs.vector} (${theirs.case})`);
console.log(`libverify, JSON in (median):  ${us(json).toFixed(1)} us`);
console.log(`libverify, pre-parsed:        ${us(parsed).toFixed(1)} us`);
console.log(`snarkjs (median of ${theirs.iterations}):      ${theirs.median_us.toFixed(1)} us`);
console.log(`ratio snarkjs / libverify:    ${(theirs.median_us / us(json)).toFixed(1)}x`);
' "$ours_json" "$theirs_json"
