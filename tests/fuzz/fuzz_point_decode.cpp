// G1 (first 32 bytes) and G2 (first 64 bytes) compressed decoding: accepted
// points are valid and re-encode to the same bytes; rejected ones leave the
// output untouched.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "libverify/curve.hpp"

using namespace libverify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size >= 32) {
        G1Affine p = g1_generator();
        if (g1_decode_compressed(data, p) == Status::ok) {
            uint8_t again[32];
            g1_encode_compressed(p, again);
            if (!p.is_on_curve() || std::memcmp(again, data, 32) != 0) {
                abort();
            }
        } else if (p != g1_generator()) {
            abort();
        }
    }
    if (size >= 64) {
        G2Affine q = g2_generator();
        if (g2_decode_compressed(data, q) == Status::ok) {
            uint8_t again[64];
            g2_encode_compressed(q, again);
            if (!q.is_on_curve() || std::memcmp(again, data, 64) != 0) {
                abort();
            }
        } else if (q != g2_generator()) {
            abort();
        }
    }
    return 0;
}
