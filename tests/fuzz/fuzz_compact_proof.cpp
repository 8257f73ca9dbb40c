// Compact proof decoding and verification against a fixed key. Input: a
// 128-byte proof followed by 32-byte public inputs (any lengths are fed).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_vk.hpp"
#include "libverify/groth16.hpp"

using namespace libverify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static VerifyingKey vk = [] {
        VerifyingKey k;
        if (VerifyingKey::from_json(zkc_fuzz::kVerifyingKeyJson, k) != Status::ok) {
            abort();
        }
        return k;
    }();
    size_t proof_len = size < kCompactProofSize ? size : kCompactProofSize;
    Status s = groth16_verify_compact(vk, data, proof_len, data + proof_len, size - proof_len);
    (void)status_name(s);

    Proof proof;
    if (Proof::from_compact(data, proof_len, proof) == Status::ok) {
        // Accepted encodings are canonical, so re-encoding gives the input back.
        uint8_t again[kCompactProofSize];
        proof.to_compact(again);
        if (std::memcmp(again, data, kCompactProofSize) != 0) {
            abort();
        }
    }
    return 0;
}
