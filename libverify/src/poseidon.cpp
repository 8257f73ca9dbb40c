#include "libverify/poseidon.hpp"

#include "poseidon_constants.hpp"

namespace libverify {

namespace {

using poseidon_detail::kFullRounds;
using poseidon_detail::kMaxWidth;
using poseidon_detail::Params;

inline Fr constant(const Limbs* table, size_t i) {
    return Fr::from_mont_limbs(table[i]);
}

inline Fr pow5(const Fr& x) {
    Fr x2 = x.square();
    return x2.square() * x;
}

inline void sbox_all(Fr* state, size_t t) {
    for (size_t i = 0; i < t; ++i) {
        state[i] = pow5(state[i]);
    }
}

inline void add_constants(Fr* state, size_t t, const Limbs* c) {
    for (size_t i = 0; i < t; ++i) {
        state[i] += constant(c, i);
    }
}

// state'[i] = sum_j matrix[j][i] * state[j], the orientation circomlibjs uses.
inline void mix(Fr* state, size_t t, const Limbs* matrix) {
    Fr next[kMaxWidth];
    for (size_t i = 0; i < t; ++i) {
        Fr acc = Fr::zero();
        for (size_t j = 0; j < t; ++j) {
            acc += constant(matrix, j * t + i) * state[j];
        }
        next[i] = acc;
    }
    for (size_t i = 0; i < t; ++i) {
        state[i] = next[i];
    }
}

// The optimised schedule of circomlibjs poseidon_opt.js: the partial rounds
// use a sparse matrix (one full row plus one column) per round after a single
// dense pre-sparse matrix P, which equals the plain schedule with the MDS
// matrix in every round.
Fr permute(const Params& p, Fr* state) {
    const size_t t = p.t;
    const size_t half = kFullRounds / 2;
    add_constants(state, t, p.c);
    for (size_t r = 0; r + 1 < half; ++r) {
        sbox_all(state, t);
        add_constants(state, t, p.c + (r + 1) * t);
        mix(state, t, p.m);
    }
    sbox_all(state, t);
    add_constants(state, t, p.c + half * t);
    mix(state, t, p.p);

    const Limbs* partial_c = p.c + (half + 1) * t;
    const size_t row = 2 * t - 1;
    for (size_t r = 0; r < p.partial_rounds; ++r) {
        state[0] = pow5(state[0]) + constant(partial_c, r);
        const Limbs* s = p.s + row * r;
        Fr s0 = Fr::zero();
        for (size_t j = 0; j < t; ++j) {
            s0 += constant(s, j) * state[j];
        }
        for (size_t k = 1; k < t; ++k) {
            state[k] += state[0] * constant(s, t + k - 1);
        }
        state[0] = s0;
    }

    const Limbs* last_c = partial_c + p.partial_rounds;
    for (size_t r = 0; r + 1 < half; ++r) {
        sbox_all(state, t);
        add_constants(state, t, last_c + r * t);
        mix(state, t, p.m);
    }
    sbox_all(state, t);
    mix(state, t, p.m);
    return state[0];
}

}  // namespace

Fr poseidon(const Fr* inputs, size_t n) noexcept {
    if (n == 0 || n > kPoseidonMaxInputs) {
        return Fr::zero();
    }
    Fr state[kMaxWidth];
    state[0] = Fr::zero();
    for (size_t i = 0; i < n; ++i) {
        state[i + 1] = inputs[i];
    }
    return permute(poseidon_detail::kParams[n - 1], state);
}

Status poseidon_checked(const Fr* inputs, size_t n, Fr& out) noexcept {
    if (n == 0 || n > kPoseidonMaxInputs) {
        return Status::bad_length;
    }
    out = poseidon(inputs, n);
    return Status::ok;
}

}  // namespace libverify
