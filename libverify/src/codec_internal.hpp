#pragma once
// Staged point decoding, so that proof decoders can run each class of check
// over all points before the next (the order of docs/libverify.md).

#include <cstdint>

#include "libverify/curve.hpp"
#include "libverify/status.hpp"

namespace libverify {
namespace detail {

struct CompressedG1 {
    bool infinity = false;
    bool y_sign = false;
    Fq x;
};

struct CompressedG2 {
    bool infinity = false;
    bool y_sign = false;
    Fq2 x;
};

// Flag and range checks only: ok or bad_encoding.
Status parse_g1_compressed(const uint8_t* in32, CompressedG1& out);
Status parse_g2_compressed(const uint8_t* in64, CompressedG2& out);

// Recovers y: ok or not_on_curve. The identity decompresses to itself.
Status decompress_g1(const CompressedG1& in, G1Affine& out);
Status decompress_g2(const CompressedG2& in, G2Affine& out);

bool g2_affine_in_subgroup(const G2Affine& q);

}  // namespace detail
}  // namespace libverify
