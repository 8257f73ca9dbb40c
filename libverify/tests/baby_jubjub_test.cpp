#include "libverify/baby_jubjub.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "hashes_test_util.hpp"

namespace libverify {
namespace {

using hashes_test::fr;
using hashes_test::limbs;

const char* kBase8X = "5299619240641551281634865583518297030282874472190772894086521144482721001553";
const char* kBase8Y = "16950150798460657717958625567821834550301663161624707787222815936182638968203";

// circomlibjs babyJub.Generator, of order 8 l.
BabyJubAffine generator() {
    return BabyJubAffine{
        fr("995203441582195749578291179787384436505546430278305826713579947235728471134"),
        fr("5472060717959818805561601436314318772137091100104008585924551046643952123905")};
}

// l * Generator, a point of order 8 (computed with circomlibjs).
BabyJubAffine order8_point() {
    return BabyJubAffine{
        fr("4342719913949491028786768530115087822524712248835451589697801404893164183326"),
        fr("4826523245007015323400664741523384119579596407052839571721035538011798951543")};
}

bool same(const BabyJubAffine& a, const BabyJubAffine& b) { return a.x == b.x && a.y == b.y; }

TEST(BabyJub, Base8IsInTheSubgroup) {
    BabyJubAffine b8 = BabyJubPoint::base8().to_affine();
    EXPECT_EQ(b8.x, fr(kBase8X));
    EXPECT_EQ(b8.y, fr(kBase8Y));
    EXPECT_TRUE(baby_jub_is_on_curve(b8));
    EXPECT_EQ(baby_jub_check(b8), Status::ok);
    EXPECT_FALSE(BabyJubPoint::base8().is_identity());
}

TEST(BabyJub, GeneratorTimesEightIsBase8) {
    BabyJubPoint g = BabyJubPoint::from_affine(generator());
    EXPECT_EQ(baby_jub_check(generator()), Status::not_in_subgroup);
    EXPECT_TRUE(g.dbl().dbl().dbl() == BabyJubPoint::base8());
    EXPECT_TRUE(g.mul(Limbs{8, 0, 0, 0}) == BabyJubPoint::base8());
    EXPECT_TRUE(same(g.mul_vartime(BabyJubScalarParams::modulus).to_affine(), order8_point()));
}

TEST(BabyJub, Order8PointIsOnCurveOutsideSubgroup) {
    BabyJubAffine t = order8_point();
    EXPECT_TRUE(baby_jub_is_on_curve(t));
    EXPECT_EQ(baby_jub_check(t), Status::not_in_subgroup);
    BabyJubPoint p = BabyJubPoint::from_affine(t);
    EXPECT_TRUE(p.mul(Limbs{8, 0, 0, 0}).is_identity());
    EXPECT_FALSE(p.mul(Limbs{4, 0, 0, 0}).is_identity());
}

TEST(BabyJub, OffCurvePointRejected) {
    BabyJubAffine p = BabyJubPoint::base8().to_affine();
    p.x += Fr::one();
    EXPECT_FALSE(baby_jub_is_on_curve(p));
    EXPECT_EQ(baby_jub_check(p), Status::not_on_curve);
}

TEST(BabyJub, GroupLaws) {
    const BabyJubPoint b = BabyJubPoint::base8();
    const BabyJubPoint id = BabyJubPoint::identity();
    EXPECT_TRUE(b + id == b);
    EXPECT_TRUE((b + -b).is_identity());
    EXPECT_TRUE(b + b == b.dbl());
    EXPECT_TRUE(id.dbl().is_identity());
    const BabyJubPoint p = b.mul(limbs("123456789123456789"));
    const BabyJubPoint q = b.mul(limbs("987654321"));
    EXPECT_TRUE((p + q) + b == p + (q + b));
    EXPECT_TRUE(p + q == q + p);
    EXPECT_TRUE(b.mul(BabyJubScalarParams::modulus).is_identity());
    EXPECT_TRUE(b.mul(Limbs{0, 0, 0, 0}).is_identity());
    // (l - 1) B = -B
    EXPECT_TRUE(b.mul(BabyJubScalar::modulus_minus(1)) == -b);
}

TEST(BabyJub, ConstantTimeAndVartimeMultiplicationAgree) {
    const BabyJubPoint b = BabyJubPoint::base8();
    const Limbs scalars[] = {
        Limbs{1, 0, 0, 0},
        Limbs{15, 0, 0, 0},
        Limbs{16, 0, 0, 0},
        limbs("2736030358979909402780800718157159386076813972158567259200215660948447373040"),
        Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL},
        Limbs{0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x1111111111111111ULL, 0x0f0f0f0fULL},
    };
    for (const Limbs& k : scalars) {
        const BabyJubPoint ct = b.mul(k);
        EXPECT_TRUE(ct == b.mul_vartime(k));
        EXPECT_TRUE(ct == BabyJubPoint::mul_base8(k));
        // The same via the double multiplication: k B + 0 G and 0 B + k G.
        EXPECT_TRUE(ct == BabyJubPoint::double_mul_vartime(k, b, Limbs{}, b.dbl()));
        EXPECT_TRUE(ct == BabyJubPoint::double_mul_vartime(Limbs{}, b.dbl(), k, b));
    }
    const Limbs k1 = limbs("31415926535897932384626433832795028841971");
    const Limbs k2 = limbs("27182818284590452353602874713526624977572470936999");
    const BabyJubPoint q = b.mul(limbs("42"));
    EXPECT_TRUE(BabyJubPoint::double_mul_vartime(k1, b, k2, q) == b.mul(k1) + q.mul(k2));
}

TEST(BabyJub, PackUnpackRoundTrip) {
    const BabyJubPoint b = BabyJubPoint::base8();
    int high_x = 0;
    for (uint64_t i = 1; i <= 40; ++i) {
        BabyJubAffine p = b.mul(Limbs{i * 0x9e3779b97f4a7c15ULL, i, 0, 0}).to_affine();
        uint8_t packed[kBabyJubPackedBytes];
        baby_jub_pack(p, packed);
        high_x += (packed[31] & 0x80) != 0;
        BabyJubAffine q;
        ASSERT_EQ(baby_jub_unpack(packed, q), Status::ok);
        EXPECT_TRUE(same(p, q)) << "i = " << i;
    }
    EXPECT_GT(high_x, 0);
    EXPECT_LT(high_x, 40);
}

TEST(BabyJub, UnpackRejects) {
    uint8_t packed[kBabyJubPackedBytes];
    BabyJubAffine out = BabyJubPoint::base8().to_affine();
    const BabyJubAffine before = out;

    // The identity (0, 1) and the order-2 point (0, -1), which circomlibjs
    // cannot unpack either.
    baby_jub_pack(BabyJubPoint::identity().to_affine(), packed);
    EXPECT_EQ(baby_jub_unpack(packed, out), Status::identity_point);
    baby_jub_pack(BabyJubAffine{Fr::zero(), -Fr::one()}, packed);
    EXPECT_EQ(baby_jub_unpack(packed, out), Status::not_in_subgroup);

    // y = r: non-canonical (circomlibjs would read it as 0).
    Limbs r = Bn254FrParams::modulus;
    for (int i = 0; i < 32; ++i) {
        packed[i] = static_cast<uint8_t>(r[i / 8] >> (8 * (i % 8)));
    }
    EXPECT_EQ(baby_jub_unpack(packed, out), Status::bad_encoding);

    // A y with no x on the curve: find some by scanning small values.
    int rejected = 0;
    for (uint8_t y = 2; y < 40; ++y) {
        std::memset(packed, 0, sizeof packed);
        packed[0] = y;
        BabyJubAffine probe;
        if (baby_jub_unpack(packed, probe) == Status::not_on_curve) {
            ++rejected;
            EXPECT_EQ(baby_jub_unpack(packed, out), Status::not_on_curve);
        }
    }
    EXPECT_GT(rejected, 0);
    EXPECT_TRUE(same(out, before));  // written only on success
}

TEST(BabyJub, UnpackedPointsAreOnCurve) {
    uint8_t packed[kBabyJubPackedBytes] = {};
    for (uint8_t y = 2; y < 40; ++y) {
        packed[0] = y;
        for (uint8_t sign : {uint8_t{0}, uint8_t{0x80}}) {
            packed[31] = sign;
            BabyJubAffine p;
            if (baby_jub_unpack(packed, p) == Status::ok) {
                EXPECT_TRUE(baby_jub_is_on_curve(p));
                EXPECT_EQ(p.y, Fr::from_u64(y));
                uint8_t again[kBabyJubPackedBytes];
                baby_jub_pack(p, again);
                EXPECT_EQ(std::memcmp(again, packed, sizeof packed), 0);
            }
        }
    }
}

}  // namespace
}  // namespace libverify
