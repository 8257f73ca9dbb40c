// Field arithmetic against GMP as the oracle, on random and edge values.
#include <gmp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>
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
        // Edges for the carry and borrow chains: p - 1 with itself, 0 and 1.
        const Limbs edges[][2] = {{F::modulus_minus(1), F::modulus_minus(1)},
                                  {Limbs{}, F::modulus_minus(1)},
                                  {F::modulus_minus(1), Limbs{}},
                                  {Limbs{1, 0, 0, 0}, F::modulus_minus(1)},
                                  {F::modulus_minus(1), Limbs{1, 0, 0, 0}},
                                  {Limbs{}, Limbs{}}};
        if (iter < 6) {
            xa = edges[iter][0];
            xb = edges[iter][1];
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

// Addition and subtraction act on the Montgomery limbs as on integers mod m,
// so the limb edges (0, 1, m - 2, m - 1, limbs of all ones below m) can be
// checked directly against GMP.
TYPED_TEST(FieldOracle, AddSubOnLimbEdgesMatchGmp) {
    using F = TypeParam;
    std::vector<Limbs> values = {Limbs{}, Limbs{1, 0, 0, 0}, F::modulus_minus(2),
                                 F::modulus_minus(1),
                                 Limbs{~0ULL, ~0ULL, ~0ULL, F::kModulus[3] - 1}};
    for (int i = 0; i < 20; ++i) {
        values.push_back(this->random_below_modulus());
    }
    for (const Limbs& x : values) {
        for (const Limbs& y : values) {
            F a = F::from_mont_limbs(x), b = F::from_mont_limbs(y);
            to_mpz<F>(this->a_, x);
            to_mpz<F>(this->b_, y);
            mpz_add(this->c_, this->a_, this->b_);
            mpz_mod(this->c_, this->c_, this->p_);
            EXPECT_EQ((a + b).mont_limbs(), from_mpz<F>(this->c_));
            mpz_sub(this->c_, this->a_, this->b_);
            mpz_mod(this->c_, this->c_, this->p_);
            EXPECT_EQ((a - b).mont_limbs(), from_mpz<F>(this->c_));
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

template <class F>
struct WideOf;
template <class Params>
struct WideOf<Field<Params>> {
    using type = FieldWide<Params>;
};

// Double-width arithmetic (lazy reduction) against GMP: products of operands
// below 2m, sums and differences mod N = m 2^256, and the reduction
// t -> t / 2^256 mod m, on random values and the edges 0, N - 1, m^2 - 1 and
// the largest 4m^2-range product.
TYPED_TEST(FieldOracle, DoubleWidthMatchesGmp) {
    using F = TypeParam;
    using W = typename WideOf<F>::type;
    mpz_t n, r_inv, t, u;
    mpz_inits(n, r_inv, t, u, nullptr);
    mpz_mul_2exp(n, this->p_, 256);
    mpz_set_ui(r_inv, 1);
    mpz_mul_2exp(r_inv, r_inv, 256);
    ASSERT_NE(mpz_invert(r_inv, r_inv, this->p_), 0);
    auto to_wide = [](const mpz_t x) {
        typename W::WideLimbs limbs{};
        size_t count = 0;
        mpz_export(limbs.data(), &count, -1, sizeof(uint64_t), 0, 0, x);
        return W::from_limbs(limbs);
    };
    auto wide_mpz = [](mpz_t out, const W& w) {
        mpz_import(out, 8, -1, sizeof(uint64_t), 0, 0, w.limbs().data());
    };
    auto random_wide = [&](mpz_t out) {  // uniform enough below N
        typename W::WideLimbs limbs{};
        for (auto& limb : limbs) {
            limb = this->rng_();
        }
        mpz_import(out, 8, -1, sizeof(uint64_t), 0, 0, limbs.data());
        mpz_mod(out, out, n);
    };
    auto check_reduce = [&](const mpz_t x) {
        W w = to_wide(x);
        mpz_mul(u, x, r_inv);
        mpz_mod(u, u, this->p_);
        EXPECT_EQ(w.reduce().mont_limbs(), from_mpz<F>(u));
    };
    for (int iter = 0; iter < 1000; ++iter) {
        // Products, operands up to 2m - 1 (unreduced sums).
        Limbs xa = this->random_below_modulus(), xb = this->random_below_modulus();
        F a = F::from_mont_limbs(xa), b = F::from_mont_limbs(xb);
        F a2 = a.add_unreduced(F::from_mont_limbs(this->random_below_modulus()));
        if (iter == 0) {
            a = b = F::from_mont_limbs(F::modulus_minus(1));
            a2 = a.add_unreduced(a);
        }
        for (const auto& pair : {std::make_pair(a, b), std::make_pair(a2, a2)}) {
            to_mpz<F>(this->a_, pair.first.mont_limbs());
            to_mpz<F>(this->b_, pair.second.mont_limbs());
            mpz_mul(t, this->a_, this->b_);
            W prod = W::mul(pair.first, pair.second);
            wide_mpz(u, prod);
            EXPECT_EQ(mpz_cmp(u, t), 0);
            check_reduce(t);
            EXPECT_EQ(prod.reduce(), pair.first * pair.second);
        }
        // Sums and differences mod N, and their reductions.
        random_wide(this->a_);
        random_wide(this->b_);
        if (iter == 1) {
            mpz_sub_ui(this->a_, n, 1);
            mpz_sub_ui(this->b_, n, 1);
        }
        W wa = to_wide(this->a_), wb = to_wide(this->b_);
        mpz_add(t, this->a_, this->b_);
        mpz_mod(t, t, n);
        wide_mpz(u, wa + wb);
        EXPECT_EQ(mpz_cmp(u, t), 0);
        mpz_sub(t, this->a_, this->b_);
        mpz_mod(t, t, n);
        wide_mpz(u, wa - wb);
        EXPECT_EQ(mpz_cmp(u, t), 0);
        check_reduce(this->a_);
    }
    for (unsigned long edge : {0ul, 1ul}) {
        mpz_set_ui(t, edge);
        check_reduce(t);
    }
    mpz_sub_ui(t, n, 1);
    check_reduce(t);
    mpz_mul(t, this->p_, this->p_);
    mpz_sub_ui(t, t, 1);
    check_reduce(t);
    mpz_clears(n, r_inv, t, u, nullptr);
}

#ifdef LIBVERIFY_HAVE_MULX_ASM
// The mulx/adx code and the portable code agree (when this CPU has ADX; the
// other tests then exercise only the former, the sanitizer build only the
// latter).
TEST(DoubleWidth, MulxMatchesPortable) {
    if (!detail::kCpuHasMulxAdx) {
        GTEST_SKIP() << "no BMI2/ADX on this CPU";
    }
    std::mt19937_64 rng(7);
    uint64_t a[4], b[4], wide_mulx[8], wide_portable[8], out_mulx[4], out_portable[4];
    for (int iter = 0; iter < 5000; ++iter) {
        for (int i = 0; i < 4; ++i) {
            a[i] = iter == 0 ? ~0ULL : rng();
            b[i] = iter == 0 ? ~0ULL : rng();
        }
        detail::mul_wide_mulx(wide_mulx, a, b);
        detail::mul_wide_portable(wide_portable, a, b);
        ASSERT_TRUE(std::equal(wide_mulx, wide_mulx + 8, wide_portable));
        uint64_t t[8];
        for (int i = 0; i < 8; ++i) {
            t[i] = rng();
        }
        t[7] &= (uint64_t{1} << 61) - 1;  // below 2^509 < p 2^256
        if (iter == 1) {
            std::fill(t, t + 8, 0);
        }
        detail::redc_mulx(out_mulx, t, Fq::kModulusAndInv);
        detail::redc_portable(out_portable, t, Fq::kModulusAndInv);
        ASSERT_TRUE(std::equal(out_mulx, out_mulx + 4, out_portable));
    }
}
#endif

}  // namespace
}  // namespace libverify
