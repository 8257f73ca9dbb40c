#!/bin/bash
# Installs everything zkcredit builds, tests and benchmarks with, on Debian 12.
# Idempotent: when everything is present it only checks, in about a second.
#
#   scripts/bootstrap.sh          build and test dependencies, node packages
#   scripts/bootstrap.sh --bench  the same plus load and profiling tools
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
    build-essential cmake ninja-build pkg-config git ca-certificates curl python3
    clang libclang-rt-14-dev
    nginx nginx-dev libsodium-dev libgmp-dev libhiredis-dev libssl-dev libcurl4-openssl-dev libevent-dev redis-server
    libsecp256k1-dev libcrypto++-dev
    libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev nasm valgrind
)
if [[ "${1:-}" == "--bench" ]]; then
    packages+=(wrk hyperfine)
fi
# Debian's nodejs only where no node is installed: an existing node 20 stays.
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if (( ${#missing[@]} > 0 )); then
    echo "bootstrap: installing ${missing[*]}"
    sudo=()
    if (( EUID != 0 )); then
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    # Debian's postinst would start nginx and redis on their default ports;
    # the tests start their own instances on free loopback ports instead.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" > /dev/null
fi

# Node packages (snarkjs, circomlibjs, circom) pinned by package-lock.json.
if [[ -f package-lock.json ]]; then
    lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
    stamp=node_modules/.zkcredit-lock-sha256
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
        echo "bootstrap: npm ci"
        npm ci --no-audit --no-fund --loglevel=error
        echo "$lock_sum" > "$stamp"
    fi
fi
