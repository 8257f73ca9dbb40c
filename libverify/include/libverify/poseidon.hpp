#pragma once
// Poseidon over the BN254 scalar field exactly as circomlib's circuits and
// circomlibjs compute it: width t = n + 1 for n = 1..16 inputs, capacity
// element 0 in front, x^5 S-box, 8 full rounds and circomlib's partial round
// counts, output state[0].

#include <cstddef>

#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace libverify {

constexpr size_t kPoseidonMaxInputs = 16;

// Precondition: 1 <= n <= kPoseidonMaxInputs. Outside that range it returns
// zero rather than reading out of bounds; callers with untrusted n use
// poseidon_checked.
Fr poseidon(const Fr* inputs, size_t n) noexcept;

// bad_length when n is 0 or above kPoseidonMaxInputs; out is written only on
// success.
Status poseidon_checked(const Fr* inputs, size_t n, Fr& out) noexcept;

}  // namespace libverify
