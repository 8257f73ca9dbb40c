#include <gtest/gtest.h>

#include <random>

#include "zkclient/prover.hpp"

namespace zkclient::prover_steps {
namespace {

using libverify::G1Affine;
using libverify::G2Affine;

Fr random_fr(std::mt19937_64& rng) {
    Limbs x{rng(), rng(), rng(), rng() >> 3};
    Fr out;
    return Fr::from_canonical(x, out) ? out : Fr::from_u64(x[0]);
}

TEST(ProverSteps, RootsOfUnityHaveTheirOrder) {
    for (uint32_t k : {1u, 2u, 14u, 15u, 28u}) {
        Fr w = root_of_unity(k);
        Fr x = w;
        for (uint32_t i = 1; i < k; ++i) {
            x = x.square();
        }
        EXPECT_TRUE(x == -Fr::one()) << k;  // order exactly 2^k
    }
    // ffjavascript's w[15] for the credit circuit's coset shift.
    Fr expected;
    ASSERT_TRUE(Fr::from_canonical({0xa93458fd4e26ecfbULL, 0x022a2a2d4115a009ULL,
                                    0x017171fa69ec2bd0ULL, 0x2d1ba66f5941dc91ULL},
                                   expected));
    EXPECT_TRUE(root_of_unity(15) == expected);
}

TEST(ProverSteps, FftMatchesTheDefinition) {
    std::mt19937_64 rng(1);
    for (uint32_t power : {1u, 3u, 5u}) {
        FftDomain domain(power);
        size_t n = domain.size();
        std::vector<Fr> values(n);
        for (auto& v : values) {
            v = random_fr(rng);
        }
        std::vector<Fr> transformed = values;
        domain.fft(transformed.data());
        Fr w = root_of_unity(power);
        for (size_t i = 0; i < n; ++i) {
            Fr expected = Fr::zero();
            Fr wi = w.pow_vartime({i, 0, 0, 0});
            Fr x = Fr::one();
            for (size_t j = 0; j < n; ++j) {
                expected += values[j] * x;
                x *= wi;
            }
            EXPECT_TRUE(transformed[i] == expected) << power << " " << i;
        }
        domain.ifft(transformed.data());
        for (size_t i = 0; i < n; ++i) {
            EXPECT_TRUE(transformed[i] == values[i]);
        }
    }
}

template <class Point, class Affine>
void check_msm(Point (*msm)(const Affine*, const Limbs*, size_t), const Affine& generator,
               size_t n, std::mt19937_64& rng) {
    Point g = Point::from_affine(generator);
    std::vector<Point> jacobian(n);
    std::vector<Limbs> scalars(n);
    Point expected = Point::identity();
    for (size_t i = 0; i < n; ++i) {
        jacobian[i] = g.mul_vartime(random_fr(rng).to_canonical());
        switch (i % 7) {
        case 0: scalars[i] = Limbs{0, 0, 0, 0}; break;
        case 1: scalars[i] = Limbs{1, 0, 0, 0}; break;
        case 2: scalars[i] = Fr::modulus_minus(1); break;
        case 3: scalars[i] = Limbs{rng() & 0xffff, 0, 0, 0}; break;
        default: scalars[i] = random_fr(rng).to_canonical(); break;
        }
        expected = expected.add_vartime(jacobian[i].mul_vartime(scalars[i]));
    }
    std::vector<Affine> bases(n);
    libverify::batch_to_affine_vartime(jacobian.data(), n, bases.data());
    if (n > 3) {
        bases[3] = Affine::identity();
        expected = Point::identity();
        for (size_t i = 0; i < n; ++i) {
            expected = expected.add_vartime(Point::from_affine(bases[i]).mul_vartime(scalars[i]));
        }
    }
    EXPECT_TRUE(msm(bases.data(), scalars.data(), n) == expected) << n;
}

TEST(ProverSteps, MsmMatchesScalarMultiplications) {
    std::mt19937_64 rng(2);
    for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{64}, size_t{300}}) {
        check_msm<libverify::G1, G1Affine>(g1_msm, libverify::g1_generator(), n, rng);
    }
    for (size_t n : {size_t{1}, size_t{9}, size_t{100}}) {
        check_msm<libverify::G2, G2Affine>(g2_msm, libverify::g2_generator(), n, rng);
    }
}

TEST(ProverSteps, MsmHandlesRepeatedAndOppositePoints) {
    G1Affine g = libverify::g1_generator();
    std::vector<G1Affine> bases = {g, g, g.neg(), g};
    std::vector<Limbs> scalars = {{5, 0, 0, 0}, {5, 0, 0, 0}, {10, 0, 0, 0}, {3, 0, 0, 0}};
    libverify::G1 expected = libverify::G1::from_affine(g).mul_vartime({3, 0, 0, 0});
    EXPECT_TRUE(g1_msm(bases.data(), scalars.data(), bases.size()) == expected);
}

}  // namespace
}  // namespace zkclient::prover_steps
