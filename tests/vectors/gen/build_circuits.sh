#!/usr/bin/env bash
# Compiles the test circuits and runs a tiny, reproducible Groth16 ceremony for each.
#
# Outputs go to .cache/build (gitignored); only the exported verification keys are
# copied into tests/vectors/groth16/<circuit>/ by this script.
#
# Reproducibility: `snarkjs powersoftau contribute -e TEXT` and `snarkjs zkey contribute
# -e TEXT` mix 64 bytes of OS randomness into TEXT (snarkjs src/misc.js getRandomRng),
# so a "fixed entropy" contribution is not repeatable. The single contribution of each
# phase is therefore a *beacon* contribution whose beacon value is SHA-256 of a fixed
# text: the verification keys come out byte-identical on every run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
BUILD=.cache/build
SNARKJS="node node_modules/snarkjs/build/cli.cjs"
CIRCOM="node node_modules/circom2/cli.js"
POWER=10   # 2^10 constraints covers every test circuit (largest: 402)
CIRCUITS=(multiplier poseidon_preimage eight_inputs)

beacon_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

mkdir -p "$BUILD"

PTAU="$BUILD/pot${POWER}_final.ptau"
if [[ ! -f "$PTAU" ]]; then
    $SNARKJS powersoftau new bn128 "$POWER" "$BUILD/pot_0000.ptau"
    $SNARKJS powersoftau beacon "$BUILD/pot_0000.ptau" "$BUILD/pot_0001.ptau" \
        "$(beacon_of "zkcredit test vectors / powers of tau / v1")" 10 -n="zkcredit test beacon"
    $SNARKJS powersoftau prepare phase2 "$BUILD/pot_0001.ptau" "$PTAU"
fi

for c in "${CIRCUITS[@]}"; do
    $CIRCOM "tests/vectors/circuits/$c.circom" --r1cs --wasm --O2 -l node_modules -o "$BUILD" >/dev/null
    $SNARKJS groth16 setup "$BUILD/$c.r1cs" "$PTAU" "$BUILD/${c}_0000.zkey" >/dev/null
    $SNARKJS zkey beacon "$BUILD/${c}_0000.zkey" "$BUILD/$c.zkey" \
        "$(beacon_of "zkcredit test vectors / phase 2 / $c / v1")" 10 -n="zkcredit test beacon" >/dev/null
    mkdir -p "tests/vectors/groth16/$c"
    $SNARKJS zkey export verificationkey "$BUILD/$c.zkey" "tests/vectors/groth16/$c/verification_key.json" >/dev/null
    echo "built $c"
done
