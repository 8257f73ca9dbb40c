#pragma once
// Round constants and matrices of circomlib's Poseidon in the optimised form
// of circomlibjs (poseidon_opt.js); the tables live in the generated
// poseidon_constants.cpp.

#include <cstddef>

#include "libverify/field.hpp"

namespace libverify {
namespace poseidon_detail {

constexpr size_t kMaxWidth = 17;  // t = inputs + 1, inputs 1..16
constexpr size_t kFullRounds = 8;

// Each constant is in Montgomery form, ready for Fr::from_mont_limbs.
struct Params {
    size_t t;
    size_t partial_rounds;
    const Limbs* c;  // t * kFullRounds + partial_rounds round constants
    const Limbs* s;  // (2t - 1) * partial_rounds sparse-matrix entries
    const Limbs* m;  // t x t MDS matrix, M[j][i] at j * t + i
    const Limbs* p;  // t x t pre-sparse matrix, same layout
};

extern const Params kParams[kMaxWidth - 1];

}  // namespace poseidon_detail
}  // namespace libverify
