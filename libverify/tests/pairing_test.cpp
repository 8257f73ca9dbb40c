// Pairing properties: bilinearity, non-degeneracy, order r, multi-pairing
// against products, prepared against unprepared, and the final
// exponentiation against the plain power (p^12 - 1) / r computed with GMP.
#include <gmp.h>
#include <gtest/gtest.h>

#include <vector>

#include "libverify/pairing.hpp"
#include "test_util.hpp"

namespace libverify {
namespace {

using testing_util::Rng;

std::vector<uint64_t> final_exponent_limbs() {
    mpz_t p, r, e;
    mpz_inits(p, r, e, nullptr);
    testing_util::limbs_to_mpz(p, Fq::kModulus);
    testing_util::limbs_to_mpz(r, Fr::kModulus);
    mpz_pow_ui(e, p, 12);
    mpz_sub_ui(e, e, 1);
    EXPECT_TRUE(mpz_divisible_p(e, r));
    mpz_divexact(e, e, r);
    std::vector<uint64_t> limbs((mpz_sizeinbase(e, 2) + 63) / 64);
    size_t count = 0;
    mpz_export(limbs.data(), &count, -1, sizeof(uint64_t), 0, 0, e);
    limbs.resize(count);
    mpz_clears(p, r, e, nullptr);
    return limbs;
}

Fq12 pow_gt(const Fq12& f, const Limbs& k) { return f.pow_vartime(k.data(), 4); }

TEST(Pairing, FinalExponentiationIsThePlainPower) {
    Rng rng(21);
    std::vector<uint64_t> e = final_exponent_limbs();
    for (int i = 0; i < 2; ++i) {
        Fq12 f = rng.fq12();
        EXPECT_EQ(final_exponentiation(f), f.pow_vartime(e.data(), e.size()));
    }
}

TEST(Pairing, NonDegenerateAndOfOrderR) {
    Fq12 e = pairing(g1_generator(), g2_generator());
    EXPECT_FALSE(e.is_one());
    EXPECT_TRUE(pow_gt(e, Fr::kModulus).is_one());
    EXPECT_TRUE(pairing(G1Affine::identity(), g2_generator()).is_one());
    EXPECT_TRUE(pairing(g1_generator(), G2Affine::identity()).is_one());
}

TEST(Pairing, Bilinear) {
    Rng rng(22);
    G1 g1 = G1::from_affine(g1_generator());
    G2 g2 = G2::from_affine(g2_generator());
    Fq12 base = pairing(g1_generator(), g2_generator());
    for (int i = 0; i < 3; ++i) {
        Limbs a = rng.scalar(), b = rng.scalar();
        Fq12 lhs = pairing(g1.mul_vartime(a).to_affine(), g2.mul_vartime(b).to_affine());
        EXPECT_EQ(lhs, pow_gt(base, testing_util::mul_mod_r(a, b)));
        // e(aP, Q) = e(P, aQ)
        G1Affine p = rng.g1();
        G2Affine q = rng.g2();
        EXPECT_EQ(pairing(G1::from_affine(p).mul_vartime(a).to_affine(), q),
                  pairing(p, G2::from_affine(q).mul_vartime(a).to_affine()));
        // e(P1 + P2, Q) = e(P1, Q) e(P2, Q)
        G1Affine p2 = rng.g1();
        G1Affine sum = G1::from_affine(p).add_vartime(G1::from_affine(p2)).to_affine();
        EXPECT_EQ(pairing(sum, q), pairing(p, q) * pairing(p2, q));
    }
}

TEST(Pairing, MultiPairingIsProductOfPairings) {
    Rng rng(23);
    std::vector<G1Affine> ps;
    std::vector<G2Affine> qs;
    Fq12 product = Fq12::one();
    Fq12 ml_product = Fq12::one();
    for (int i = 0; i < 4; ++i) {
        ps.push_back(rng.g1());
        qs.push_back(rng.g2());
        product = product * pairing(ps.back(), qs.back());
        ml_product = ml_product * multi_miller_loop(nullptr, nullptr, 0, &ps.back(), &qs.back(), 1);
    }
    Fq12 multi = final_exponentiation(multi_miller_loop(nullptr, nullptr, 0, ps.data(), qs.data(), 4));
    EXPECT_EQ(multi, product);
    EXPECT_EQ(multi_miller_loop(nullptr, nullptr, 0, ps.data(), qs.data(), 4), ml_product);

    // Prepared lines are normalised (divided by a factor in Fq2), so prepared
    // and unprepared loops agree after the final exponentiation.
    std::vector<G2Prepared> prepared;
    for (const auto& q : qs) {
        prepared.emplace_back(q);
    }
    std::vector<const G2Prepared*> prep_ptrs;
    for (const auto& pq : prepared) {
        prep_ptrs.push_back(&pq);
    }
    EXPECT_EQ(final_exponentiation(multi_miller_loop(ps.data(), prep_ptrs.data(), 2,
                                                     ps.data() + 2, qs.data() + 2, 2)),
              product);
    EXPECT_EQ(final_exponentiation(
                  multi_miller_loop(ps.data(), prep_ptrs.data(), 4, nullptr, nullptr, 0)),
              product);
}

TEST(Pairing, ProductCheck) {
    Rng rng(24);
    Limbs a = rng.scalar();
    G1Affine p = rng.g1();
    G2Affine q = rng.g2();
    // e(aP, Q) * e(-P, aQ) == 1
    G1Affine ps[2] = {G1::from_affine(p).mul_vartime(a).to_affine(), p.neg()};
    G2Affine qs[2] = {q, G2::from_affine(q).mul_vartime(a).to_affine()};
    EXPECT_TRUE(pairing_product_is_one(ps, qs, 2));
    ps[1] = p;
    EXPECT_FALSE(pairing_product_is_one(ps, qs, 2));
    G2Prepared neg_identity;
    EXPECT_TRUE(neg_identity.is_identity());
}

}  // namespace
}  // namespace libverify
