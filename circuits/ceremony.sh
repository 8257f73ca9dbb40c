#!/bin/bash
# Compiles the circuits and runs a Groth16 trusted-setup ceremony for each
# with snarkjs: phase 1 (powers of tau, two contributions and a beacon,
# shared by both circuits) and phase 2 per circuit (two contributions and a
# beacon), then checks each result with `snarkjs zkey verify` and exports its
# verification key. The withdrawal circuit's key is also exported as the
# deposit contract's Solidity verifier.
#
# This is a single-machine test ceremony: every contribution's entropy comes
# from /dev/urandom and is thrown away, but one party runs them all. A real
# deployment runs phase 2 as a multi-party ceremony (docs/ceremony.md).
#
# The outputs in circuits/keys/ are committed together with a manifest per
# circuit of what produced them; a circuit whose manifest still matches is
# not redone.
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
force=${1:-}

# manifest MAIN SOURCE...: what the keys of circuit MAIN are a function of.
manifest() {
    local main=$1
    shift
    {
        sha256sum "$@" "circuits/$main.circom"
        for pkg in circom2 snarkjs circomlib; do
            printf '%s %s\n' "$pkg" "$(node -p "require('./node_modules/$pkg/package.json').version")"
        done
        echo "ptau_power $power"
    }
}

entropy() { head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

phase1() {
    local ptau=$ptau_cache/pot${power}_final.ptau
    if [[ ! -f $ptau ]]; then
        echo "ceremony: phase 1, 2^$power powers of tau (prepare phase2 takes minutes)" >&2
        mkdir -p "$ptau_cache"
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
    echo "$ptau"
}

# up_to_date NAME MAIN SOURCE...: whether keys/NAME.zkey is what its
# manifest says and the manifest still matches.
up_to_date() {
    local name=$1 main=$2
    shift 2
    [[ $force != "--force" && -f $keys/$name.manifest && -f $keys/$name.zkey ]] \
        && diff -q <(manifest "$main" "$@") "$keys/$name.manifest" > /dev/null
}

# ceremony NAME MAIN VK SOURCE...: keys/NAME.zkey and keys/VK for circuit MAIN.
ceremony() {
    local name=$1 main=$2 vk=$3
    shift 3
    local stamp=$keys/$name.manifest
    if [[ $compiled == no ]]; then
        echo "ceremony: compiling the circuits"
        circuits/compile.sh "$work"
        compiled=yes
    fi
    local ptau
    ptau=$(phase1)
    echo "ceremony: phase 2 for $name"
    "${snarkjs[@]}" groth16 setup "$work/$main.r1cs" "$ptau" "$work/${name}_0.zkey" > /dev/null
    "${snarkjs[@]}" zkey contribute "$work/${name}_0.zkey" "$work/${name}_1.zkey" \
        --name="provider" -e="$(entropy)" > /dev/null
    "${snarkjs[@]}" zkey contribute "$work/${name}_1.zkey" "$work/${name}_2.zkey" \
        --name="auditor" -e="$(entropy)" > /dev/null
    "${snarkjs[@]}" zkey beacon "$work/${name}_2.zkey" "$work/${name}_final.zkey" \
        "$(entropy | head -c 64)" 10 -n="final beacon" > /dev/null
    echo "ceremony: verifying the $name key against the circuit and phase 1"
    "${snarkjs[@]}" zkey verify "$work/$main.r1cs" "$ptau" "$work/${name}_final.zkey" \
        > "$work/$name-zkey-verify.log"
    "${snarkjs[@]}" zkey export verificationkey "$work/${name}_final.zkey" "$keys/$vk" > /dev/null
    cp "$work/${name}_final.zkey" "$keys/$name.zkey"
    rm -f "$work/${name}"_[012].zkey
    manifest "$main" "$@" > "$stamp"
    echo "ceremony: $keys/$name.zkey and $keys/$vk written"
}

mkdir -p "$work" "$keys"
compiled=no

credit_sources=(circuits/credit.circom)
withdraw_sources=(circuits/credit.circom circuits/withdraw.circom)
if up_to_date credit credit_main "${credit_sources[@]}"; then
    echo "ceremony: the credit keys are up to date ($keys/credit.manifest)"
else
    ceremony credit credit_main verification_key.json "${credit_sources[@]}"
fi
if up_to_date withdraw withdraw_main "${withdraw_sources[@]}"; then
    echo "ceremony: the withdrawal keys are up to date ($keys/withdraw.manifest)"
else
    ceremony withdraw withdraw_main withdraw_verification_key.json "${withdraw_sources[@]}"
    "${snarkjs[@]}" zkey export solidityverifier "$keys/withdraw.zkey" \
        contracts/src/WithdrawalVerifier.sol > /dev/null
    echo "ceremony: contracts/src/WithdrawalVerifier.sol exported"
fi
