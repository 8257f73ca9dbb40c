#!/bin/bash
# Compiles the credit and withdrawal circuits (r1cs, wasm witness generator,
# symbols) with the circom compiler from node_modules.
#   circuits/compile.sh [OUT_DIR]      default: build/circuits
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/build/circuits}")
# circom runs as WASI and reaches only files below its working directory.
cd "$root"
rel_out=$(realpath -m --relative-to="$root" "$out")
mkdir -p "$out"
for circuit in credit_main withdraw_main; do
    node node_modules/circom2/cli.js "circuits/$circuit.circom" \
        --r1cs --wasm --sym --O2 -l node_modules -o "$rel_out" > "$out/$circuit.compile.log"
done
