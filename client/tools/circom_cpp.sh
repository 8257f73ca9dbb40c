#!/bin/bash
# Generates the credit circuit's C++ witness calculator with the circom
# compiler from node_modules, for the zkclient library.
#   client/tools/circom_cpp.sh OUT_DIR
# Writes OUT_DIR/credit_main_cpp/{credit_main.cpp,credit_main.dat,fr.*,...}.
#
# Two edits of the generated circuit code, both checked:
# - it reports a failed circuit assertion by printing to std::cout; the
#   library must not write to stdout, so those statements are redirected to
#   zkc_circom_assert_failed() (client/src/circom_runtime.cpp), which records
#   the failure for the caller;
# - release_memory_component() frees a finished component's arrays without
#   clearing the pointers; they are cleared so that our runtime's destructor
#   can free whatever is left without freeing twice.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(realpath -m "$1")
# circom runs as WASI and reaches only files below its working directory.
cd "$root"
rel_out=$(realpath -m --relative-to="$root" "$out")
mkdir -p "$out"
node node_modules/circom2/cli.js circuits/credit_main.circom \
    --c --O2 -l node_modules -o "$rel_out" > "$out/compile.log"

gen="$out/credit_main_cpp"
sed -i 's/std::cout << "Failed assert/zkc_circom_assert_failed() << "Failed assert/' \
    "$gen/credit_main.cpp"
if grep -q 'std::cout' "$gen/credit_main.cpp"; then
    echo "circom_cpp.sh: unexpected output statement in the generated circuit" >&2
    exit 1
fi
sed -i 's/^delete \[\]ctx->componentMemory\[pos\]\.\([A-Za-z]*\);$/{ delete []ctx->componentMemory[pos].\1; ctx->componentMemory[pos].\1 = NULL; }/' \
    "$gen/credit_main.cpp"
if [[ $(grep -c '= NULL; }$' "$gen/credit_main.cpp") != 6 ]]; then
    echo "circom_cpp.sh: release_memory_component() is not the expected code" >&2
    exit 1
fi
