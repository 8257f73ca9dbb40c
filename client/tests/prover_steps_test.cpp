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

std::vector<Fr> random_values(size_t n, std::mt19937_64& rng) {
    std::vector<Fr> values(n);
    for (auto& v : values) {
        v = random_fr(rng);
    }
    return values;
}

// sum_j coefficients[j] x^j
Fr evaluate(const std::vector<Fr>& coefficients, const Fr& x) {
    Fr sum = Fr::zero();
    Fr power = Fr::one();
    for (const Fr& c : coefficients) {
        sum += c * power;
        power *= x;
    }
    return sum;
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

TEST(ProverSteps, FftAndCosetFftMatchTheDefinition) {
    std::mt19937_64 rng(1);
    for (uint32_t power : {1u, 3u, 6u}) {
        FftDomain domain(power);
        std::vector<Fr> values = random_values(domain.size(), rng);
        std::vector<Fr> transformed = values;
        domain.fft(transformed.data());
        Fr w = root_of_unity(power);
        for (size_t i = 0; i < domain.size(); ++i) {
            EXPECT_TRUE(transformed[i] == evaluate(values, w.pow_vartime({i, 0, 0, 0})))
                << power << " " << i;
        }
        domain.ifft(transformed.data());
        for (size_t i = 0; i < domain.size(); ++i) {
            EXPECT_TRUE(transformed[i] == values[i]);
        }
        // values as evaluations on the domain, moved to the coset.
        std::vector<Fr> coefficients = values;
        domain.ifft(coefficients.data());
        domain.to_coset(values.data());
        Fr point = domain.coset_shift();
        for (size_t i = 0; i < domain.size(); ++i) {
            EXPECT_TRUE(values[i] == evaluate(coefficients, point)) << power << " " << i;
            point *= w;
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

// The GLS split of G2 MSMs relies on psi being the multiplication by
// mu = 6u^2 = p mod r on G2; the scalars around multiples of mu and at the
// ends of the range are where the split's rounding is exercised.
TEST(ProverSteps, G2MsmSplitsScalarsByPsi) {
    const Limbs mu = {0xf83e9682e87cfd46ULL, 0x6f4d8248eeb859fbULL, 0, 0};
    std::mt19937_64 rng(3);
    const libverify::G2 q = libverify::G2::from_affine(libverify::g2_generator())
                                .mul_vartime(random_fr(rng).to_canonical());
    EXPECT_TRUE(libverify::g2_psi(q) == q.mul_vartime(mu));
    const G2Affine base = q.to_affine();
    const Fr mu_fr = Fr::from_canonical_unchecked(mu);
    const Fr half_mu = Fr::from_canonical_unchecked({0xfc1f4b41743e7ea3ULL, 0x37a6c124775c2cfdULL, 0, 0});
    std::vector<Fr> edges = {mu_fr, mu_fr - Fr::one(), mu_fr + Fr::one(), half_mu,
                             half_mu + Fr::one(), mu_fr * mu_fr, mu_fr * mu_fr - Fr::one(),
                             Fr::zero() - Fr::one(), Fr::zero() - mu_fr,
                             Fr::zero() - half_mu, Fr::from_canonical_unchecked({0, 0, 1, 0})};
    for (int i = 0; i < 8; ++i) edges.push_back(random_fr(rng));
    for (const Fr& k : edges) {
        const Limbs scalar = k.to_canonical();
        EXPECT_TRUE(g2_msm(&base, &scalar, 1) == q.mul_vartime(scalar));
    }
}

TEST(ProverSteps, MsmHandlesRepeatedAndOppositePoints) {
    G1Affine g = libverify::g1_generator();
    std::vector<G1Affine> bases = {g, g, g.neg(), g};
    std::vector<Limbs> scalars = {{5, 0, 0, 0}, {5, 0, 0, 0}, {10, 0, 0, 0}, {3, 0, 0, 0}};
    libverify::G1 expected = libverify::G1::from_affine(g).mul_vartime({3, 0, 0, 0});
    EXPECT_TRUE(g1_msm(bases.data(), scalars.data(), bases.size()) == expected);
}

// Thousands of points on three bases: every bucket collides often, sums hit
// doublings and cancellations, and the expected value is one scalar
// multiplication.
TEST(ProverSteps, LargeMsmOverFewDistinctBases) {
    std::mt19937_64 rng(4);
    libverify::G1 g = libverify::G1::from_affine(libverify::g1_generator());
    G1Affine multiples[3] = {libverify::g1_generator(), g.dbl().to_affine(),
                             libverify::g1_generator().neg()};
    const Fr weights[3] = {Fr::one(), Fr::from_u64(2), -Fr::one()};
    size_t n = 6000;
    std::vector<G1Affine> bases(n);
    std::vector<Limbs> scalars(n);
    Fr total = Fr::zero();
    for (size_t i = 0; i < n; ++i) {
        size_t which = rng() % 3;
        Fr k = (i % 5 == 0) ? Fr::from_u64(rng() % 4) : random_fr(rng);
        bases[i] = multiples[which];
        scalars[i] = k.to_canonical();
        total += k * weights[which];
    }
    EXPECT_TRUE(g1_msm(bases.data(), scalars.data(), n) == g.mul_vartime(total.to_canonical()));
}

}  // namespace
}  // namespace zkclient::prover_steps
