// Extension-field properties, Frobenius constants (checked as x -> x^p),
// square roots and the cyclotomic squaring.
#include <gmp.h>
#include <gtest/gtest.h>

#include <vector>

#include "libverify/tower.hpp"
#include "test_util.hpp"

namespace libverify {
namespace {

using testing_util::Rng;

TEST(Fq2, FieldAxioms) {
    Rng rng(1);
    for (int i = 0; i < 50; ++i) {
        Fq2 a = rng.fq2(), b = rng.fq2(), c = rng.fq2();
        EXPECT_EQ(a * b, b * a);
        EXPECT_EQ((a * b) * c, a * (b * c));
        EXPECT_EQ(a * (b + c), a * b + a * c);
        EXPECT_EQ(a.square(), a * a);
        EXPECT_EQ(a * a.inverse(), Fq2::one());
        EXPECT_EQ(a.inverse_vartime(), a.inverse());
        EXPECT_EQ(a.mul_by_xi(), a * (Fq2{Fq::from_u64(9), Fq::one()}));
    }
    Fq2 u{Fq::zero(), Fq::one()};
    EXPECT_EQ(u.square(), -Fq2::one());
    EXPECT_TRUE(Fq2::zero().inverse().is_zero());
}

TEST(Fq6, FieldAxioms) {
    Rng rng(2);
    Fq6 v{Fq2::zero(), Fq2::one(), Fq2::zero()};
    for (int i = 0; i < 30; ++i) {
        Fq6 a = rng.fq6(), b = rng.fq6(), c = rng.fq6();
        EXPECT_EQ(a * b, b * a);
        EXPECT_EQ((a * b) * c, a * (b * c));
        EXPECT_EQ(a * (b + c), a * b + a * c);
        EXPECT_EQ(a.square(), a * a);
        EXPECT_EQ(a * a.inverse(), Fq6::one());
        EXPECT_EQ(a.inverse_vartime(), a.inverse());
        EXPECT_EQ(a.mul_by_v(), a * v);
        Fq2 d0 = rng.fq2(), d1 = rng.fq2();
        EXPECT_EQ(a.mul_by_01(d0, d1), a * (Fq6{d0, d1, Fq2::zero()}));
    }
    // v^3 = xi
    Fq2 xi{Fq::from_u64(9), Fq::one()};
    EXPECT_EQ(v * v * v, (Fq6{xi, Fq2::zero(), Fq2::zero()}));
}

TEST(Fq12, FieldAxioms) {
    Rng rng(3);
    Fq12 w{Fq6::zero(), Fq6::one()};
    Fq12 v{Fq6{Fq2::zero(), Fq2::one(), Fq2::zero()}, Fq6::zero()};
    EXPECT_EQ(w * w, v);
    for (int i = 0; i < 20; ++i) {
        Fq12 a = rng.fq12(), b = rng.fq12(), c = rng.fq12();
        EXPECT_EQ(a * b, b * a);
        EXPECT_EQ((a * b) * c, a * (b * c));
        EXPECT_EQ(a * (b + c), a * b + a * c);
        EXPECT_EQ(a.square(), a * a);
        EXPECT_EQ(a * a.inverse(), Fq12::one());
        EXPECT_EQ(a.inverse_vartime(), a.inverse());
        Fq2 d0 = rng.fq2(), d1 = rng.fq2(), d2 = rng.fq2();
        Fq12 line{Fq6{d0, Fq2::zero(), Fq2::zero()}, Fq6{d1, d2, Fq2::zero()}};
        EXPECT_EQ(a.mul_by_line(d0, d1, d2), a * line);
        Fq12 normalised{Fq6::one(), Fq6{d1, d2, Fq2::zero()}};
        EXPECT_EQ(a.mul_by_normalised_line(d1, d2), a * normalised);
    }
}

// Schoolbook references built from reduced Fq arithmetic only, for the
// lazily reduced (double-width) tower code.
Fq2 reference_fq2_mul(const Fq2& a, const Fq2& b) {
    return Fq2{a.c0 * b.c0 - a.c1 * b.c1, a.c0 * b.c1 + a.c1 * b.c0};
}

Fq2 reference_mul_by_xi(const Fq2& a) { return reference_fq2_mul(a, Fq2{Fq::from_u64(9), Fq::one()}); }

// sum a_i b_j v^(i + j) with v^3 = xi.
Fq6 reference_fq6_mul(const Fq6& a, const Fq6& b) {
    const Fq2 x[3] = {a.c0, a.c1, a.c2};
    const Fq2 y[3] = {b.c0, b.c1, b.c2};
    Fq2 r[3] = {Fq2::zero(), Fq2::zero(), Fq2::zero()};
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            Fq2 term = reference_fq2_mul(x[i], y[j]);
            r[(i + j) % 3] += i + j >= 3 ? reference_mul_by_xi(term) : term;
        }
    }
    return Fq6{r[0], r[1], r[2]};
}

// Random coefficients mixed with the edges 0, 1 and p - 1.
class EdgeRng {
public:
    explicit EdgeRng(uint64_t seed) : rng_(seed) {}
    Fq fq() {
        switch (rng_.u64() % 4) {
            case 0:
                return Fq::zero();
            case 1:
                return Fq::one();
            case 2:
                return -Fq::one();
            default:
                return rng_.fq();
        }
    }
    Fq2 fq2() { return Fq2{fq(), fq()}; }
    Fq6 fq6() { return Fq6{fq2(), fq2(), fq2()}; }

private:
    Rng rng_;
};

TEST(LazyReduction, Fq2MatchesSchoolbook) {
    EdgeRng rng(11);
    const Fq2 p_minus_1{-Fq::one(), -Fq::one()};
    EXPECT_EQ(p_minus_1 * p_minus_1, reference_fq2_mul(p_minus_1, p_minus_1));
    EXPECT_EQ(p_minus_1.square(), reference_fq2_mul(p_minus_1, p_minus_1));
    for (int i = 0; i < 2000; ++i) {
        Fq2 a = rng.fq2(), b = rng.fq2();
        EXPECT_EQ(a * b, reference_fq2_mul(a, b));
        EXPECT_EQ(a.square(), reference_fq2_mul(a, a));
        EXPECT_EQ(a.mul_wide(b).mul_by_xi().reduce(), reference_mul_by_xi(reference_fq2_mul(a, b)));
        Fq2 c = rng.fq2(), d = rng.fq2();
        EXPECT_EQ((a.mul_wide(b) - c.mul_wide(d)).reduce(),
                  reference_fq2_mul(a, b) - reference_fq2_mul(c, d));
        EXPECT_EQ((a.mul_wide(b) + c.square_wide()).reduce(),
                  reference_fq2_mul(a, b) + reference_fq2_mul(c, c));
    }
}

TEST(LazyReduction, Fq6MatchesSchoolbook) {
    EdgeRng rng(12);
    const Fq2 m1{-Fq::one(), -Fq::one()};
    const Fq6 all_p_minus_1{m1, m1, m1};
    EXPECT_EQ(all_p_minus_1 * all_p_minus_1, reference_fq6_mul(all_p_minus_1, all_p_minus_1));
    EXPECT_EQ(all_p_minus_1.square(), reference_fq6_mul(all_p_minus_1, all_p_minus_1));
    for (int i = 0; i < 500; ++i) {
        Fq6 a = rng.fq6(), b = rng.fq6();
        EXPECT_EQ(a * b, reference_fq6_mul(a, b));
        EXPECT_EQ(a.square(), reference_fq6_mul(a, a));
        Fq2 d0 = rng.fq2(), d1 = rng.fq2();
        EXPECT_EQ(a.mul_by_01(d0, d1), reference_fq6_mul(a, Fq6{d0, d1, Fq2::zero()}));
    }
}

TEST(Fq12, FrobeniusIsPowerOfP) {
    Rng rng(4);
    const Limbs p = Fq::kModulus;
    for (int i = 0; i < 3; ++i) {
        Fq12 a = rng.fq12();
        Fq12 ap = a.pow_vartime(p.data(), 4);
        EXPECT_EQ(a.frobenius(1), ap);
        EXPECT_EQ(a.frobenius(2), ap.pow_vartime(p.data(), 4));
        EXPECT_EQ(a.frobenius(3), a.frobenius(2).frobenius(1));
        EXPECT_EQ(a.frobenius(2), a.frobenius(1).frobenius(1));
    }
}

TEST(Fq12, CyclotomicSquareMatchesSquareOnUnitaryElements) {
    Rng rng(5);
    for (int i = 0; i < 20; ++i) {
        Fq12 a = rng.fq12();
        Fq12 t = a.conj() * a.inverse();
        Fq12 m = t.frobenius(2) * t;  // in the cyclotomic subgroup
        EXPECT_EQ(m * m.conj(), Fq12::one());
        EXPECT_EQ(m.cyclotomic_square(), m.square());
    }
}

TEST(Sqrt, Fq) {
    Rng rng(6);
    int non_squares = 0;
    for (int i = 0; i < 100; ++i) {
        Fq a = rng.fq();
        Fq root;
        Fq sq = a.square();
        ASSERT_TRUE(fq_sqrt_vartime(sq, root));
        EXPECT_EQ(root.square(), sq);
        Fq b = rng.fq();
        Fq untouched = Fq::from_u64(77);
        if (!fq_sqrt_vartime(b, untouched)) {
            ++non_squares;
            EXPECT_EQ(untouched, Fq::from_u64(77));
            EXPECT_TRUE(fq_sqrt_vartime(-b, root));  // p = 3 mod 4: exactly one of b, -b
        }
    }
    EXPECT_GT(non_squares, 20);
    Fq zero_root = Fq::one();
    EXPECT_TRUE(fq_sqrt_vartime(Fq::zero(), zero_root));
    EXPECT_TRUE(zero_root.is_zero());
}

TEST(Sqrt, Fq2) {
    Rng rng(7);
    int non_squares = 0;
    for (int i = 0; i < 100; ++i) {
        Fq2 a = rng.fq2();
        Fq2 root;
        ASSERT_TRUE(fq2_sqrt_vartime(a.square(), root));
        EXPECT_EQ(root.square(), a.square());
        Fq2 b = rng.fq2();
        if (!fq2_sqrt_vartime(b, root)) {
            ++non_squares;
            // b is a non-square iff its norm is a non-square in Fq.
            Fq unused;
            EXPECT_FALSE(fq_sqrt_vartime(b.c0.square() + b.c1.square(), unused));
        }
    }
    EXPECT_GT(non_squares, 20);
    // Pure-real and pure-imaginary edge cases.
    for (int i = 0; i < 20; ++i) {
        Fq c = rng.fq();
        Fq2 root;
        Fq2 real{c, Fq::zero()};
        ASSERT_TRUE(fq2_sqrt_vartime(real, root));  // every Fq element is a square in Fq2
        EXPECT_EQ(root.square(), real);
        Fq2 imag{Fq::zero(), c};
        ASSERT_TRUE(fq2_sqrt_vartime(imag, root));  // its norm c^2 is a square
        EXPECT_EQ(root.square(), imag);
    }
}

}  // namespace
}  // namespace libverify
