#!/bin/bash
# Our native prover against snarkjs.groth16.fullProve on the same credit
# input, in one run: median wall time of a full ("cold") proof (witness
# included), both warm (keys loaded, one proof made before timing); and the
# request-time proof of the split prover, a precomputed proof finished for
# a fresh x (one thread: it is sequential), with the split of its time, and
# the background precompute.
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

# Median wall times of BM_FullProve and BM_Precompute with one thread, then
# with all; medians of the finish and its parts (microseconds).
ours=$(ZKC_CLIENT_INPUTS="$inputs" "$build/bench/bench_prover" \
    --benchmark_filter='BM_FullProve/|BM_Precompute/|BM_Finish' --benchmark_min_time=0.001 \
    --benchmark_repetitions="$runs" --benchmark_report_aggregates_only=true \
    --benchmark_format=json | node -e '
        const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
        const median = (name) => r.benchmarks.find((b) =>
            b.aggregate_name === "median" && (b.run_name === name ||
                                              b.run_name.startsWith(`${name}/`)));
        const us = (name) => median(name).cpu_time;
        console.log(median("BM_FullProve/1").real_time, median("BM_FullProve/0").real_time,
                    median("BM_FullProve/1").cpu_time,
                    median("BM_Precompute/1").real_time, median("BM_Precompute/0").real_time,
                    us("BM_Finish"), us("BM_FinishDecode"), us("BM_FinishCorrections"),
                    us("BM_FinishBlinding"), us("BM_FinishVerify"));')
read -r ours_one ours_all ours_cpu pre_one pre_all finish decode corrections blinding verify \
    <<< "$ours"

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
    const [one, all, cpu, pre_one, pre_all, finish, decode, corrections, blinding, verify,
           theirs, runs] = process.argv.slice(1).map(Number);
    const cores = require("os").availableParallelism();
    const ms = (v) => `${v.toFixed(1)} ms`;
    console.log(`credit circuit, median of ${runs} warm runs, one process`);
    console.log(`request-time proof (finish of a precomputed proof, 1 thread):`);
    console.log(`  finish:                          ${(finish / 1000).toFixed(2)} ms CPU`);
    console.log(`    of which decode the precompute ${(decode / 1000).toFixed(2)} ms, ` +
                `corrections by x ${(corrections / 1000).toFixed(2)} ms, ` +
                `blinding r, s + encoding ${(blinding / 1000).toFixed(2)} ms`);
    console.log(`  check before sending (libverify): ${(verify / 1000).toFixed(2)} ms`);
    console.log(`cold proof (witness + Groth16):`);
    console.log(`  zkclient (native, 1 thread):     ${ms(one)} (${ms(cpu)} CPU)`);
    console.log(`  zkclient (native, ${cores} threads):    ${ms(all)}`);
    console.log(`  snarkjs.groth16.fullProve:       ${ms(theirs)} (node ${process.version})`);
    console.log(`background precompute:            ${ms(pre_one)} (1 thread), ` +
                `${ms(pre_all)} (${cores} threads)`);
    console.log(`ratio snarkjs / zkclient:          ${(theirs / one).toFixed(1)}x cold (1 thread), ` +
                `${(theirs / all).toFixed(1)}x cold (${cores} threads), ` +
                `${(theirs * 1000 / finish).toFixed(0)}x request time`);
' "$ours_one" "$ours_all" "$ours_cpu" "$pre_one" "$pre_all" "$finish" "$decode" \
  "$corrections" "$blinding" "$verify" "$theirs" "$runs"
