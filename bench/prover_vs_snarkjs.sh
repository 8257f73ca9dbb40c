#!/bin/bash
# Our native prover against snarkjs.groth16.fullProve on the same credit
# input, in one run: median wall time of a full proof (witness included),
# both warm (keys loaded, one proof made before timing).
#   bench/prover_vs_snarkjs.sh [BUILD_DIR] [RUNS]     default: build 15
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
runs=${2:-15}
wasm="$build/circuits/credit_main_js/credit_main.wasm"
zkey="$root/circuits/keys/credit.zkey"
inputs="$build/client/tests/credit_inputs.json"
cd "$root"
if [[ ! -f "$inputs" ]]; then
    node client/tests/make_inputs.mjs "$wasm" "$inputs"
fi

# Median wall times of BM_FullProve with one thread, then with all.
ours=$(ZKC_CLIENT_INPUTS="$inputs" "$build/bench/bench_prover" \
    --benchmark_filter='BM_FullProve/' --benchmark_min_time=0.001 \
    --benchmark_repetitions="$runs" --benchmark_report_aggregates_only=true \
    --benchmark_format=json | node -e '
        const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const median = (arg) => r.benchmarks.find((b) =>
            b.aggregate_name === "median" && b.run_name.startsWith(`BM_FullProve/${arg}/`));
        console.log(median(1).real_time, median(0).real_time);')
read -r ours_one ours_all <<< "$ours"

theirs=$(node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import * as snarkjs from "snarkjs";
    const [wasm, zkey, inputs, runs] = process.argv.slice(1);
    const input = JSON.parse(readFileSync(inputs, "utf8")).cases[1].input;
    await snarkjs.groth16.fullProve(input, wasm, zkey);
    const times = [];
    for (let i = 0; i < Number(runs); i++) {
        const t0 = performance.now();
        await snarkjs.groth16.fullProve(input, wasm, zkey);
        times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(times[Math.floor(times.length / 2)]);
    process.exit(0);
' "$wasm" "$zkey" "$inputs" "$runs")

node -e '
    const [one, all, theirs, runs] = process.argv.slice(1).map(Number);
    const cores = require("os").availableParallelism();
    console.log(`credit circuit, full proof (witness + Groth16), median of ${runs} warm runs`);
    console.log(`  zkclient (native, 1 thread):     ${one.toFixed(1)} ms`);
    console.log(`  zkclient (native, ${cores} threads):    ${all.toFixed(1)} ms`);
    console.log(`  snarkjs.groth16.fullProve:       ${theirs.toFixed(1)} ms (node ${process.version})`);
    console.log(`  ratio snarkjs / zkclient:        ${(theirs / one).toFixed(1)}x (1 thread), ` +
                `${(theirs / all).toFixed(1)}x (${cores} threads)`);
' "$ours_one" "$ours_all" "$theirs" "$runs"
