// Group law, scalar multiplication, MSM, the G2 subgroup test against the
// [r]Q == O oracle, and the compressed codecs.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "libverify/curve.hpp"
#include "test_util.hpp"

namespace libverify {
namespace {

using testing_util::Rng;

const Limbs kR = Fr::kModulus;

template <class Point>
Point naive_mul(const Point& p, uint64_t k) {
    Point acc = Point::identity();
    for (uint64_t i = 0; i < k; ++i) {
        acc = acc.add_vartime(p);
    }
    return acc;
}

TEST(G1, GeneratorAndOrder) {
    G1 g = G1::from_affine(g1_generator());
    EXPECT_TRUE(g.is_on_curve());
    EXPECT_TRUE(g.mul_vartime(kR).is_identity());
    EXPECT_TRUE(g.mul(kR).is_identity());
    EXPECT_FALSE(g.mul_vartime(Fr::modulus_minus(1)).is_identity());
    EXPECT_EQ(g.mul_vartime(Fr::modulus_minus(1)), g.neg());
}

TEST(G2, GeneratorAndOrder) {
    G2 g = G2::from_affine(g2_generator());
    EXPECT_TRUE(g.is_on_curve());
    EXPECT_TRUE(g.mul_vartime(kR).is_identity());
    EXPECT_TRUE(g.mul(kR).is_identity());
    EXPECT_EQ(g.mul_vartime(Fr::modulus_minus(1)), g.neg());
}

template <class Point>
void check_group_law(const Point& g, Rng& rng) {
    Point id = Point::identity();
    EXPECT_EQ(g.add(id), g);
    EXPECT_EQ(id.add(g), g);
    EXPECT_EQ(g.add(g), g.dbl());
    EXPECT_TRUE(g.add(g.neg()).is_identity());
    EXPECT_TRUE(g.add_vartime(g.neg()).is_identity());
    EXPECT_EQ(g.add_vartime(g), g.dbl());
    EXPECT_TRUE(id.dbl().is_identity());
    for (uint64_t k = 0; k < 40; ++k) {
        Point expected = naive_mul(g, k);
        EXPECT_EQ(g.mul(Limbs{k, 0, 0, 0}), expected) << k;
        EXPECT_EQ(g.mul_vartime(Limbs{k, 0, 0, 0}), expected) << k;
    }
    for (int i = 0; i < 5; ++i) {
        Limbs a = rng.scalar(), b = rng.scalar();
        Point pa = g.mul(a);
        EXPECT_EQ(pa, g.mul_vartime(a));
        EXPECT_TRUE(pa.is_on_curve());
        EXPECT_EQ(pa.add(g.mul(b)), g.mul(testing_util::add_mod_r(a, b)));
        EXPECT_EQ(pa.mul_vartime(b), g.mul_vartime(testing_util::mul_mod_r(a, b)));
        auto aff = pa.to_affine();
        EXPECT_TRUE(aff.is_on_curve());
        EXPECT_EQ(Point::from_affine(aff), pa);
        EXPECT_EQ(pa.add_mixed_vartime(aff), pa.dbl());
        EXPECT_TRUE(pa.add_mixed_vartime(aff.neg()).is_identity());
        EXPECT_EQ(pa.add_mixed_vartime(g.to_affine()), pa.add(g));
    }
}

TEST(G1, GroupLaw) {
    Rng rng(11);
    check_group_law(G1::from_affine(g1_generator()), rng);
}

TEST(G2, GroupLaw) {
    Rng rng(12);
    check_group_law(G2::from_affine(g2_generator()), rng);
}

TEST(Wnaf, DigitsRecomposeScalar) {
    Rng rng(13);
    for (int w = 2; w <= 7; ++w) {
        for (int i = 0; i < 20; ++i) {
            Limbs k = rng.scalar();
            k[3] |= uint64_t{1} << 63;  // exercise the carry into a 257th digit
            std::vector<int8_t> digits = wnaf_digits(k, w);
            mpz_t acc, term, expected;
            mpz_inits(acc, term, expected, nullptr);
            for (size_t j = digits.size(); j-- > 0;) {
                mpz_mul_2exp(acc, acc, 1);
                if (digits[j] > 0) {
                    mpz_add_ui(acc, acc, static_cast<unsigned long>(digits[j]));
                } else if (digits[j] < 0) {
                    mpz_sub_ui(acc, acc, static_cast<unsigned long>(-digits[j]));
                }
                EXPECT_TRUE(digits[j] == 0 || (digits[j] % 2 != 0 && std::abs(digits[j]) < (1 << (w - 1))));
            }
            testing_util::limbs_to_mpz(expected, k);
            EXPECT_EQ(mpz_cmp(acc, expected), 0);
            mpz_clears(acc, term, expected, nullptr);
        }
    }
}

TEST(G1, MultiScalarMultiplication) {
    Rng rng(14);
    for (size_t n : {1u, 2u, 5u, 9u}) {
        std::vector<G1Affine> bases;
        std::vector<Limbs> scalars;
        G1 expected = G1::identity();
        for (size_t i = 0; i < n; ++i) {
            bases.push_back(rng.g1());
            scalars.push_back(i == 1 ? Limbs{0, 0, 0, 0} : rng.scalar());
            expected = expected.add_vartime(G1::from_affine(bases[i]).mul_vartime(scalars[i]));
        }
        EXPECT_EQ(g1_msm_vartime(bases.data(), scalars.data(), n), expected);
        for (int w = 2; w <= 8; ++w) {
            for (int chunks : {1, 2, 4}) {
                G1MsmTable table(bases, w, chunks);
                EXPECT_EQ(table.msm_vartime(scalars.data(), n), expected) << w << " " << chunks;
            }
        }
    }
    // Split tables on scalars whose pieces are zero, all ones or r - 1 (the
    // largest canonical scalar), where the wNAF of a piece carries out of it.
    {
        std::vector<G1Affine> bases = {rng.g1(), rng.g1(), rng.g1()};
        const Limbs r_minus_1 = Fr::modulus_minus(1);
        std::vector<Limbs> scalars = {r_minus_1, Limbs{~0ULL, ~0ULL, 0, 0x3fffffffffffffffULL},
                                      Limbs{0, 0, ~0ULL, 1}};
        G1 expected = G1::identity();
        for (size_t i = 0; i < bases.size(); ++i) {
            expected = expected.add_vartime(G1::from_affine(bases[i]).mul_vartime(scalars[i]));
        }
        for (int chunks : {2, 4}) {
            for (int w : {2, 5, 8}) {
                G1MsmTable table(bases, w, chunks);
                EXPECT_EQ(table.msm_vartime(scalars.data(), scalars.size()), expected)
                    << w << " " << chunks;
            }
        }
    }
    // Identity bases and repeated bases.
    std::vector<G1Affine> bases = {G1Affine::identity(), g1_generator(), g1_generator()};
    std::vector<Limbs> scalars = {rng.scalar(), Limbs{3, 0, 0, 0}, Limbs{4, 0, 0, 0}};
    EXPECT_EQ(g1_msm_vartime(bases.data(), scalars.data(), 3),
              G1::from_affine(g1_generator()).mul_vartime(Limbs{7, 0, 0, 0}));
}

bool in_subgroup_oracle(const G2& q) { return q.mul_vartime(kR).is_identity(); }

TEST(G2, SubgroupCheckMatchesOracle) {
    Rng rng(15);
    EXPECT_TRUE(g2_in_subgroup_vartime(G2::identity()));
    for (int i = 0; i < 10; ++i) {
        G2 in = G2::from_affine(rng.g2());
        EXPECT_TRUE(in_subgroup_oracle(in));
        EXPECT_TRUE(g2_in_subgroup_vartime(in));
        G2 out = G2::from_affine(rng.twist_point());
        ASSERT_TRUE(out.is_on_curve());
        EXPECT_EQ(g2_in_subgroup_vartime(out), in_subgroup_oracle(out));
        EXPECT_FALSE(in_subgroup_oracle(out));
        // in + out stays outside; a twist point times the cofactor lands inside.
        EXPECT_FALSE(g2_in_subgroup_vartime(in.add_vartime(out)));
    }
}

TEST(G2, PsiActsAsMultiplicationByP) {
    Rng rng(16);
    Limbs p_mod_r{};
    mpz_t p, r;
    mpz_inits(p, r, nullptr);
    testing_util::limbs_to_mpz(p, Fq::kModulus);
    testing_util::limbs_to_mpz(r, kR);
    mpz_mod(p, p, r);
    p_mod_r = testing_util::mpz_to_limbs(p);
    mpz_clears(p, r, nullptr);
    for (int i = 0; i < 3; ++i) {
        G2 q = G2::from_affine(rng.g2());
        EXPECT_EQ(g2_psi(q), q.mul_vartime(p_mod_r));
        EXPECT_TRUE(g2_psi(q).is_on_curve());
    }
}

TEST(Codec, G1RoundTrip) {
    Rng rng(17);
    for (int i = 0; i < 30; ++i) {
        G1Affine p = rng.g1();
        uint8_t buf[32];
        g1_encode_compressed(p, buf);
        G1Affine back;
        ASSERT_EQ(g1_decode_compressed(buf, back), Status::ok);
        EXPECT_EQ(back, p);
        g1_encode_compressed(p.neg(), buf);
        ASSERT_EQ(g1_decode_compressed(buf, back), Status::ok);
        EXPECT_EQ(back, p.neg());
    }
    uint8_t inf[32] = {0x40};
    G1Affine back = g1_generator();
    ASSERT_EQ(g1_decode_compressed(inf, back), Status::ok);
    EXPECT_TRUE(back.infinity);
    uint8_t enc[32];
    g1_encode_compressed(G1Affine::identity(), enc);
    EXPECT_EQ(std::vector<uint8_t>(enc, enc + 32), std::vector<uint8_t>(inf, inf + 32));
    // The generator (1, 2): x = 1, y even.
    g1_encode_compressed(g1_generator(), enc);
    uint8_t expected[32] = {};
    expected[31] = 1;
    EXPECT_EQ(std::vector<uint8_t>(enc, enc + 32), std::vector<uint8_t>(expected, expected + 32));
}

TEST(Codec, G1Rejections) {
    const G1Affine sentinel = g1_generator();
    auto decode = [&](const std::array<uint8_t, 32>& in) {
        G1Affine out = sentinel;
        Status s = g1_decode_compressed(in.data(), out);
        if (s != Status::ok) {
            EXPECT_EQ(out, sentinel) << "output written on failure";
        }
        return s;
    };
    std::array<uint8_t, 32> b{};
    b[0] = 0xC0;
    EXPECT_EQ(decode(b), Status::bad_encoding);
    b = {};
    b[0] = 0x40;
    b[31] = 1;
    EXPECT_EQ(decode(b), Status::bad_encoding);
    b = {};
    b[0] = 0x41;
    EXPECT_EQ(decode(b), Status::bad_encoding);
    // x = p
    for (int i = 0; i < 32; ++i) {
        b[i] = static_cast<uint8_t>(Fq::kModulus[3 - i / 8] >> (8 * (7 - i % 8)));
    }
    EXPECT_EQ(decode(b), Status::bad_encoding);
    b[0] |= 0x80;
    EXPECT_EQ(decode(b), Status::bad_encoding);
    // A canonical x whose x^3 + 3 is not a square.
    uint64_t x = 2;
    Fq root;
    while (fq_sqrt_vartime(Fq::from_u64(x * x * x + 3), root)) {
        ++x;
    }
    b = {};
    b[31] = static_cast<uint8_t>(x);
    EXPECT_EQ(decode(b), Status::not_on_curve);
    b[0] = 0x80;
    EXPECT_EQ(decode(b), Status::not_on_curve);
    // Values with the top free bits set are never canonical: 0x3f... > p.
    b.fill(0xff);
    b[0] = 0x3f;
    EXPECT_EQ(decode(b), Status::bad_encoding);
}

TEST(Codec, G2RoundTripAndRejections) {
    Rng rng(18);
    for (int i = 0; i < 10; ++i) {
        G2Affine q = rng.g2();
        uint8_t buf[64];
        g2_encode_compressed(q, buf);
        G2Affine back;
        ASSERT_EQ(g2_decode_compressed(buf, back), Status::ok);
        EXPECT_EQ(back, q);
        g2_encode_compressed(q.neg(), buf);
        ASSERT_EQ(g2_decode_compressed(buf, back), Status::ok);
        EXPECT_EQ(back, q.neg());
    }
    const G2Affine sentinel = g2_generator();
    // Out-of-subgroup twist points.
    for (int i = 0; i < 5; ++i) {
        G2Affine t = rng.twist_point();
        uint8_t buf[64];
        g2_encode_compressed(t, buf);
        G2Affine out = sentinel;
        EXPECT_EQ(g2_decode_compressed(buf, out), Status::not_in_subgroup);
        EXPECT_EQ(out, sentinel);
    }
    // x with no point: find one.
    for (;;) {
        Fq2 x = rng.fq2();
        Fq2 y;
        if (!fq2_sqrt_vartime(x.square() * x + G2Curve::b(), y)) {
            G2Affine fake = G2Affine::from_xy(x, Fq2::one());
            uint8_t buf[64];
            g2_encode_compressed(fake, buf);
            G2Affine out = sentinel;
            EXPECT_EQ(g2_decode_compressed(buf, out), Status::not_on_curve);
            EXPECT_EQ(out, sentinel);
            break;
        }
    }
    uint8_t inf[64] = {0x40};
    G2Affine out = sentinel;
    EXPECT_EQ(g2_decode_compressed(inf, out), Status::ok);
    EXPECT_TRUE(out.infinity);
    inf[40] = 1;
    EXPECT_EQ(g2_decode_compressed(inf, out), Status::bad_encoding);
    uint8_t both[64] = {0xC0};
    EXPECT_EQ(g2_decode_compressed(both, out), Status::bad_encoding);
    // x.c0 = p (second half) is non-canonical.
    uint8_t big[64] = {};
    for (int i = 0; i < 32; ++i) {
        big[32 + i] = static_cast<uint8_t>(Fq::kModulus[3 - i / 8] >> (8 * (7 - i % 8)));
    }
    EXPECT_EQ(g2_decode_compressed(big, out), Status::bad_encoding);
    // Flag bits in byte 32 are not flags: they make x.c0 >= p.
    uint8_t flagged[64] = {};
    flagged[32] = 0x80;
    EXPECT_EQ(g2_decode_compressed(flagged, out), Status::bad_encoding);
}

TEST(Codec, G2SignFollowsSgn0) {
    // Points with y.c0 == 0 need the c1 fallback of sgn0; make sure encoding
    // is injective on (q, -q) for random q at least, and that the sign bit is
    // sgn0 of y.
    Rng rng(19);
    for (int i = 0; i < 10; ++i) {
        G2Affine q = rng.g2();
        uint8_t a[64], b[64];
        g2_encode_compressed(q, a);
        g2_encode_compressed(q.neg(), b);
        EXPECT_NE(a[0] & 0x80, b[0] & 0x80);
        EXPECT_EQ((a[0] & 0x80) != 0, fq2_sgn0(q.y));
    }
    EXPECT_FALSE(fq2_sgn0(Fq2::zero()));
    EXPECT_TRUE(fq2_sgn0(Fq2{Fq::zero(), Fq::one()}));
    EXPECT_FALSE(fq2_sgn0(Fq2{Fq::from_u64(2), Fq::one()}));
    EXPECT_TRUE(fq2_sgn0(Fq2{Fq::from_u64(3), Fq::from_u64(2)}));
}

}  // namespace
}  // namespace libverify
