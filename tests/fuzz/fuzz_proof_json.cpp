// snarkjs proof JSON: parsing never crashes, and an accepted proof survives
// a round trip through the compact form.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libverify/groth16.hpp"

using namespace libverify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Proof proof;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (Proof::from_json(text, proof) == Status::ok) {
        uint8_t compact[kCompactProofSize];
        proof.to_compact(compact);
        Proof again;
        if (Proof::from_compact(compact, sizeof(compact), again) != Status::ok ||
            again.a() != proof.a() || again.b() != proof.b() || again.c() != proof.c()) {
            abort();
        }
    }
    return 0;
}
