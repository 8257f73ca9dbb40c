#!/usr/bin/env bash
# Regenerates every file under tests/vectors from the pinned reference tools.
#
# Deterministic: the verification keys (beacon ceremony), Poseidon, EdDSA, Baby Jubjub
# and hash-to-field vectors, and every mutation and expected status. Not deterministic:
# the Groth16 proofs themselves (snarkjs draws fresh r, s per proof), so cases.json and
# batch.json change on every run while meaning the same.
#
# Usage: bash tests/vectors/gen/all.sh            (reuses .cache/build if present)
#        CLEAN=1 bash tests/vectors/gen/all.sh    (rebuilds circuits and ceremony too)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
GEN=tests/vectors/gen

[[ -d node_modules/snarkjs ]] || npm ci
[[ "${CLEAN:-0}" == 1 ]] && rm -rf .cache/build

step() {
    local start=$SECONDS
    "$@"
    echo "  ($((SECONDS - start)) s: $*)"
}

step bash "$GEN/build_circuits.sh"
step node "$GEN/groth16.mjs"
step node "$GEN/poseidon.mjs"
step node "$GEN/eddsa.mjs"
step node "$GEN/hash_to_field.mjs"
step node "$GEN/validate.mjs"
echo "all vectors regenerated in $SECONDS s"
