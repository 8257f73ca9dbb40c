#!/bin/bash
# `make bench`: every benchmark of the project, each side by side with its
# reference in the same run, because these machines are noisy.
#   bench/run.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")

section() { printf '\n== %s\n' "$*"; }

section "libverify micro-benchmarks (field, pairing, curves, Groth16, batch)"
"$build/bench/bench_libverify" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

section "Poseidon, EdDSA, hash_to_field"
"$build/bench/bench_hashes" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

section "one Groth16 verification: libverify against snarkjs"
"$root/bench/verify_vs_snarkjs.sh" "$build"

section "one credit proof: native prover against snarkjs fullProve"
"$root/bench/prover_vs_snarkjs.sh" "$build" 7

section "gateway: gated against plain proxy_pass, fresh credentials, real Redis"
"$root/bench/gateway_bench.py" "$build"

section "streaming: metered SSE against the gate alone and a plain proxy_pass"
"$root/bench/stream_bench.py" "$build"

section "batch verification: the gateway at saturation, batches of 16 against single proofs"
"$root/bench/batch_bench.py" "$build"

section "zkcredit proxy: a paid request through the proxy against the same request sent directly"
"$root/bench/proxy_bench.py" "$build"

section "the withdrawal proof against the credit proof, both snarkjs fullProve"
node "$root/bench/withdraw_prove_bench.mjs" "$build" 5
