#pragma once
// Deterministic random field elements, scalars and points for tests.

#include <gmp.h>

#include <cstdint>
#include <random>
#include <string>

#include "libverify/curve.hpp"
#include "libverify/field.hpp"
#include "libverify/tower.hpp"

namespace libverify {
namespace testing_util {

class Rng {
public:
    explicit Rng(uint64_t seed) : gen_(seed) {}

    uint64_t u64() { return gen_(); }

    Fq fq() {
        uint8_t buf[32];
        for (auto& b : buf) {
            b = static_cast<uint8_t>(gen_());
        }
        return Fq::from_bytes_le_reduce(buf);
    }
    Fq2 fq2() { return Fq2{fq(), fq()}; }
    Fq6 fq6() { return Fq6{fq2(), fq2(), fq2()}; }
    Fq12 fq12() { return Fq12{fq6(), fq6()}; }

    // Uniform below r.
    Limbs scalar() {
        Limbs x{};
        do {
            for (auto& l : x) {
                l = gen_();
            }
            x[3] &= 0x3fffffffffffffffULL;
        } while (!Fr::is_canonical(x));
        return x;
    }

    Limbs small_scalar(uint64_t bound) { return Limbs{gen_() % bound + 1, 0, 0, 0}; }

    G1Affine g1() { return G1::from_affine(g1_generator()).mul_vartime(scalar()).to_affine(); }
    G2Affine g2() { return G2::from_affine(g2_generator()).mul_vartime(scalar()).to_affine(); }

    // A point on the twist, almost surely outside G2.
    G2Affine twist_point() {
        for (;;) {
            Fq2 x = fq2();
            Fq2 y;
            if (fq2_sqrt_vartime(x.square() * x + G2Curve::b(), y)) {
                return G2Affine::from_xy(x, y);
            }
        }
    }

private:
    std::mt19937_64 gen_;
};

inline void limbs_to_mpz(mpz_t out, const Limbs& x) {
    mpz_import(out, 4, -1, sizeof(uint64_t), 0, 0, x.data());
}

inline Limbs mpz_to_limbs(const mpz_t in) {
    Limbs x{};
    size_t count = 0;
    mpz_export(x.data(), &count, -1, sizeof(uint64_t), 0, 0, in);
    return x;
}

// (a * b) mod r.
inline Limbs mul_mod_r(const Limbs& a, const Limbs& b) {
    return (Fr::from_canonical_unchecked(a) * Fr::from_canonical_unchecked(b)).to_canonical();
}

inline Limbs add_mod_r(const Limbs& a, const Limbs& b) {
    return (Fr::from_canonical_unchecked(a) + Fr::from_canonical_unchecked(b)).to_canonical();
}

}  // namespace testing_util
}  // namespace libverify
