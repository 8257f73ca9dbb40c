// Field arithmetic against GMP as the oracle, on random and edge values.
#include <gmp.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "libverify/field.hpp"

namespace libverify {
namespace {

template <class F>
void to_mpz(mpz_t out, const Limbs& x) {
    mpz_import(out, 4, -1, sizeof(uint64_t), 0, 0, x.data());
}

template <class F>
Limbs from_mpz(const mpz_t in) {
    Limbs x{};
    size_t count = 0;
    mpz_export(x.data(), &count, -1, sizeof(uint64_t), 0, 0, in);
    return x;
}

template <class F>
class FieldOracle : public ::testing::Test {
protected:
    void SetUp() override {
        mpz_inits(p_, a_, b_, c_, nullptr);
        to_mpz<F>(p_, F::kModulus);
    }
    void TearDown() override { mpz_clears(p_, a_, b_, c_, nullptr); }

    Limbs random_below_modulus() {
        Limbs x{};
        do {
            for (auto& limb : x) {
                limb = rng_();
            }
            x[3] &= (uint64_t{1} << 62) - 1;
        } while (!F::is_canonical(x));
        return x;
    }

    std::mt19937_64 rng_{20261123};
    mpz_t p_, a_, b_, c_;
};

using FieldTypes = ::testing::Types<Fq, Fr>;
TYPED_TEST_SUITE(FieldOracle, FieldTypes);

TYPED_TEST(FieldOracle, ArithmeticMatchesGmp) {
    using F = TypeParam;
    for (int iter = 0; iter < 2000; ++iter) {
        Limbs xa = this->random_below_modulus();
        Limbs xb = this->random_below_modulus();
        if (iter == 0) {
            xa = F::modulus_minus(1);
            xb = F::modulus_minus(1);
        }
        F fa = F::from_canonical_unchecked(xa);
        F fb = F::from_canonical_unchecked(xb);
        to_mpz<F>(this->a_, xa);
        to_mpz<F>(this->b_, xb);

        mpz_mul(this->c_, this->a_, this->b_);
        mpz_mod(this->c_, this->c_, this->p_);
        EXPECT_EQ((fa * fb).to_canonical(), from_mpz<F>(this->c_));

        mpz_add(this->c_, this->a_, this->b_);
        mpz_mod(this->c_, this->c_, this->p_);
        EXPECT_EQ((fa + fb).to_canonical(), from_mpz<F>(this->c_));

        mpz_sub(this->c_, this->a_, this->b_);
        mpz_mod(this->c_, this->c_, this->p_);
        EXPECT_EQ((fa - fb).to_canonical(), from_mpz<F>(this->c_));

        if (!fa.is_zero()) {
            mpz_invert(this->c_, this->a_, this->p_);
            EXPECT_EQ(fa.inverse().to_canonical(), from_mpz<F>(this->c_));
            EXPECT_EQ(fa.inverse_vartime().to_canonical(), from_mpz<F>(this->c_));
            EXPECT_EQ(fa * fa.inverse(), F::one());
        }
    }
}

// Multiplication accepts sums left unreduced (below 2m), the largest
// Montgomery representations included.
TYPED_TEST(FieldOracle, UnreducedSumsAsMultiplicands) {
    using F = TypeParam;
    for (int iter = 0; iter < 2000; ++iter) {
        F a = F::from_mont_limbs(this->random_below_modulus());
        F b = F::from_mont_limbs(this->random_below_modulus());
        F c = F::from_mont_limbs(this->random_below_modulus());
        F d = F::from_mont_limbs(this->random_below_modulus());
        if (iter == 0) {
            a = b = c = d = F::from_mont_limbs(F::modulus_minus(1));
        }
        EXPECT_EQ(a.add_unreduced(b) * c.add_unreduced(d), (a + b) * (c + d));
        EXPECT_EQ(a.add_unreduced(b) * c, (a + b) * c);
        EXPECT_EQ(a.add_unreduced(b).square(), (a + b).square());
    }
}

TYPED_TEST(FieldOracle, PowMatchesVartime) {
    using F = TypeParam;
    for (int iter = 0; iter < 50; ++iter) {
        F base = F::from_canonical_unchecked(this->random_below_modulus());
        Limbs e = this->random_below_modulus();
        EXPECT_EQ(base.pow(e), base.pow_vartime(e));
    }
    // Window edges: empty, single-bit, all-ones and sparse exponents.
    F base = F::from_canonical_unchecked(this->random_below_modulus());
    for (const Limbs& e : {Limbs{0, 0, 0, 0}, Limbs{1, 0, 0, 0}, Limbs{2, 0, 0, 0},
                           Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL}, Limbs{0, 0, 0, 1ULL << 63},
                           Limbs{0x8000000000000011ULL, 0, 0x10, 0x9}}) {
        EXPECT_EQ(base.pow(e), base.pow_vartime(e));
    }
}

TYPED_TEST(FieldOracle, CanonicalBytesRoundTripAndRejection) {
    using F = TypeParam;
    uint8_t buf[32];
    F parsed;
    for (int iter = 0; iter < 200; ++iter) {
        F f = F::from_canonical_unchecked(this->random_below_modulus());
        f.to_bytes_be(buf);
        ASSERT_TRUE(F::from_bytes_be(buf, parsed));
        EXPECT_EQ(parsed, f);
    }
    F sentinel = F::from_u64(7);
    parsed = sentinel;
    F::from_canonical_unchecked(Limbs{}).to_bytes_be(buf);
    Limbs m = F::kModulus;
    for (int i = 0; i < 32; ++i) {
        buf[i] = static_cast<uint8_t>(m[3 - i / 8] >> (8 * (7 - i % 8)));
    }
    EXPECT_FALSE(F::from_bytes_be(buf, parsed));
    EXPECT_EQ(parsed, sentinel) << "output must be untouched on failure";
}

TYPED_TEST(FieldOracle, WideReductionMatchesGmp) {
    using F = TypeParam;
    for (int iter = 0; iter < 500; ++iter) {
        uint8_t wide[64];
        for (auto& byte : wide) {
            byte = static_cast<uint8_t>(this->rng_());
        }
        if (iter == 0) {
            std::fill(std::begin(wide), std::end(wide), 0xff);
        }
        mpz_import(this->a_, 64, -1, 1, 0, 0, wide);
        mpz_mod(this->c_, this->a_, this->p_);
        EXPECT_EQ(F::from_bytes_le_wide_reduce(wide).to_canonical(), from_mpz<F>(this->c_));
        mpz_import(this->a_, 32, -1, 1, 0, 0, wide);
        mpz_mod(this->c_, this->a_, this->p_);
        EXPECT_EQ(F::from_bytes_le_reduce(wide).to_canonical(), from_mpz<F>(this->c_));
    }
}

}  // namespace
}  // namespace libverify
