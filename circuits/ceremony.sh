#!/bin/bash
# Compiles the credit circuit and runs a Groth16 trusted-setup ceremony for it
# with snarkjs: phase 1 (powers of tau, two contributions and a beacon) and
# phase 2 (circuit-specific, two contributions and a beacon), then checks the
# result with `snarkjs zkey verify` and exports the verification key.
#
# This is a single-machine test ceremony: every contribution's entropy comes
# from /dev/urandom and is thrown away, but one party runs them all. A real
# deployment runs phase 2 as a multi-party ceremony (docs/ceremony.md).
#
# The outputs in circuits/keys/ are committed together with a manifest of what
# produced them; when the manifest still matches, nothing is redone.
#
#   circuits/ceremony.sh [--force]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

power=${ZKC_PTAU_POWER:-14}
keys=circuits/keys
work=build/circuits
ptau_cache=.cache/ptau
snarkjs=(node node_modules/snarkjs/cli.js)

manifest() {
    {
        sha256sum circuits/credit.circom circuits/credit_main.circom
        for pkg in circom2 snarkjs circomlib; do
            printf '%s %s\n' "$pkg" "$(node -p "require('./node_modules/$pkg/package.json').version")"
        done
        echo "ptau_power $power"
    }
}

if [[ "${1:-}" != "--force" && -f $keys/manifest.txt && -f $keys/credit.zkey ]] \
    && diff -q <(manifest) $keys/manifest.txt > /dev/null; then
    echo "ceremony: keys are up to date ($keys/manifest.txt)"
    exit 0
fi

entropy() { head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

mkdir -p "$work" "$keys" "$ptau_cache"
echo "ceremony: compiling the circuit"
circuits/compile.sh "$work"

ptau=$ptau_cache/pot${power}_final.ptau
if [[ ! -f $ptau ]]; then
    echo "ceremony: phase 1, 2^$power powers of tau (prepare phase2 takes minutes)"
    "${snarkjs[@]}" powersoftau new bn128 "$power" "$work/pot_0.ptau" > /dev/null
    "${snarkjs[@]}" powersoftau contribute "$work/pot_0.ptau" "$work/pot_1.ptau" \
        --name="first" -e="$(entropy)" > /dev/null
    "${snarkjs[@]}" powersoftau contribute "$work/pot_1.ptau" "$work/pot_2.ptau" \
        --name="second" -e="$(entropy)" > /dev/null
    "${snarkjs[@]}" powersoftau beacon "$work/pot_2.ptau" "$work/pot_beacon.ptau" \
        "$(entropy | head -c 64)" 10 -n="final beacon" > /dev/null
    "${snarkjs[@]}" powersoftau prepare phase2 "$work/pot_beacon.ptau" "$ptau.tmp" > /dev/null
    mv "$ptau.tmp" "$ptau"
    rm -f "$work"/pot_*.ptau
fi

echo "ceremony: phase 2"
"${snarkjs[@]}" groth16 setup "$work/credit_main.r1cs" "$ptau" "$work/credit_0.zkey" > /dev/null
"${snarkjs[@]}" zkey contribute "$work/credit_0.zkey" "$work/credit_1.zkey" \
    --name="provider" -e="$(entropy)" > /dev/null
"${snarkjs[@]}" zkey contribute "$work/credit_1.zkey" "$work/credit_2.zkey" \
    --name="auditor" -e="$(entropy)" > /dev/null
"${snarkjs[@]}" zkey beacon "$work/credit_2.zkey" "$work/credit_final.zkey" \
    "$(entropy | head -c 64)" 10 -n="final beacon" > /dev/null
echo "ceremony: verifying the final key against the circuit and phase 1"
"${snarkjs[@]}" zkey verify "$work/credit_main.r1cs" "$ptau" "$work/credit_final.zkey" > "$work/zkey-verify.log"
"${snarkjs[@]}" zkey export verificationkey "$work/credit_final.zkey" "$keys/verification_key.json" > /dev/null

cp "$work/credit_final.zkey" "$keys/credit.zkey"
rm -f "$work"/credit_[012].zkey
manifest > "$keys/manifest.txt"
echo "ceremony: done; $keys/credit.zkey and $keys/verification_key.json written"
