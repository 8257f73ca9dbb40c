// The prover's multi-scalar multiplications: Pippenger's bucket method with
// signed digits, affine buckets whose additions are batched to share one
// inversion, and the endomorphism splits (GLV on G1, GLS on G2). Variable
// time in the scalars (see docs/prover.md).
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "inverse_vartime.hpp"
#include "zkclient/prover.hpp"

namespace zkclient::prover_steps {

namespace {

using libverify::AffinePoint;
using libverify::JacobianPoint;

unsigned bit_length(const Limbs& k) {
    for (int i = 3; i >= 0; --i) {
        if (k[i] != 0) {
            return static_cast<unsigned>(64 * i + 64 - __builtin_clzll(k[i]));
        }
    }
    return 0;
}

// Signed base-2^c digits of k, least significant first, written at
// out[0], out[stride], ...: each in [-2^(c-1), 2^(c-1)], the last window
// absorbing the carry (n_windows = bits / c + 1 suffices for k < 2^bits).
void signed_digits(const Limbs& k, unsigned c, size_t n_windows, int32_t* out, size_t stride) {
    int64_t carry = 0;
    const int64_t radix = int64_t{1} << c;
    for (size_t w = 0; w < n_windows; ++w) {
        size_t bit = w * c;
        uint64_t raw = 0;
        if (bit < 256) {
            size_t limb = bit / 64;
            size_t shift = bit % 64;
            raw = k[limb] >> shift;
            if (shift + c > 64 && limb + 1 < 4) {
                raw |= k[limb + 1] << (64 - shift);
            }
            raw &= static_cast<uint64_t>(radix - 1);
        }
        int64_t digit = static_cast<int64_t>(raw) + carry;
        carry = 0;
        if (digit > radix / 2) {
            digit -= radix;
            carry = 1;
        }
        out[w * stride] = static_cast<int32_t>(digit);
    }
}

// Window width minimising the estimated number of batched affine additions
// (about 6.5 multiplications each, the inversions being shared by whole
// levels): per window, n - n_buckets to fill the buckets (a bucket's first
// point is free) and 2 n_buckets to reduce them.
unsigned window_bits(size_t n, unsigned bits) {
    unsigned best = 2;
    double best_cost = 1e300;
    for (unsigned c = 2; c <= 16; ++c) {
        double windows = static_cast<double>(bits / c + 1);
        double n_buckets = static_cast<double>(size_t{1} << (c - 1));
        double cost = windows * (static_cast<double>(n) + n_buckets);
        if (cost < best_cost) {
            best_cost = cost;
            best = c;
        }
    }
    return best;
}

// *dst[i] += *src[i] for i < k in affine coordinates, with one field inversion
// for all the slopes (Montgomery's trick): about 6 multiplications per
// addition instead of 11 for a mixed Jacobian one. The dst are distinct
// and none is also a src; any point may be the identity.
template <class Curve>
class BatchAdder {
public:
    using F = typename Curve::Base;
    using Affine = AffinePoint<Curve>;

    void add(Affine* const* dst, const Affine* const* src, size_t k) {
        if (denominators_.size() < k) {
            denominators_.resize(k);
            prefix_.resize(k);
        }
        // Slopes' denominators: x2 - x1, or 2 y for a doubling; sums that
        // need no slope (an identity operand, P + (-P)) use 1 and are
        // resolved directly.
        F acc = F::one();
        for (size_t i = 0; i < k; ++i) {
            const Affine& a = *dst[i];
            const Affine& b = *src[i];
            F d = F::one();
            if (!a.infinity && !b.infinity) {
                d = b.x - a.x;
                if (d.is_zero()) {
                    d = (b.y == a.y && !a.y.is_zero()) ? a.y.dbl() : F::one();
                }
            }
            denominators_[i] = d;
            prefix_[i] = acc;
            acc = acc * d;
        }
        F inv = inverse_vartime(acc);
        for (size_t i = k; i-- > 0;) {
            F d_inv = inv * prefix_[i];
            inv = inv * denominators_[i];
            Affine& a = *dst[i];
            const Affine& b = *src[i];
            if (b.infinity) {
                continue;
            }
            if (a.infinity) {
                a = b;
                continue;
            }
            F lambda;
            if (b.x == a.x) {
                if (b.y != a.y || a.y.is_zero()) {
                    a = Affine::identity();
                    continue;
                }
                F xx = a.x.square();
                lambda = (xx.dbl() + xx) * d_inv;
            } else {
                lambda = (b.y - a.y) * d_inv;
            }
            F x3 = lambda.square() - a.x - b.x;
            a.y = lambda * (a.x - x3) - a.y;
            a.x = x3;
        }
    }

private:
    std::vector<F> denominators_;
    std::vector<F> prefix_;
};

// One window's buckets: the points are grouped by bucket (a counting
// sort), then each group is summed in place as a binary tree (at level s,
// point k += point k + s for k a multiple of 2s); all additions of a level,
// across buckets, form one batch. Even a window
// with few buckets (the top one) needs only a few inversions.
template <class Curve>
class BucketAccumulator {
public:
    using Affine = AffinePoint<Curve>;

    explicit BucketAccumulator(size_t n_buckets) : start_(n_buckets + 1), length_(n_buckets) {}

    // buckets[b] = sum of the bases whose digit is +-(b + 1), negated for
    // negative digits; digits[j] belongs to bases[active[j]].
    void run(const Affine* bases, const uint32_t* active, const int32_t* digits, size_t m,
             Affine* buckets) {
        size_t n_buckets = length_.size();
        std::fill(length_.begin(), length_.end(), 0);
        for (size_t j = 0; j < m; ++j) {
            if (digits[j] != 0) {
                ++length_[static_cast<size_t>(std::abs(digits[j]) - 1)];
            }
        }
        start_[0] = 0;
        for (size_t b = 0; b < n_buckets; ++b) {
            start_[b + 1] = start_[b] + length_[b];
        }
        points_.resize(start_[n_buckets]);
        std::fill(length_.begin(), length_.end(), 0);
        for (size_t j = 0; j < m; ++j) {
            int32_t digit = digits[j];
            if (digit != 0) {
                size_t b = static_cast<size_t>(std::abs(digit) - 1);
                const Affine& base = bases[active[j]];
                points_[start_[b] + length_[b]++] = digit > 0 ? base : base.neg();
            }
        }
        size_t longest = *std::max_element(length_.begin(), length_.end());
        for (size_t step = 1; step < longest; step *= 2) {
            dst_.clear();
            src_.clear();
            for (size_t b = 0; b < n_buckets; ++b) {
                Affine* group = points_.data() + start_[b];
                for (size_t k = 0; k + step < length_[b]; k += 2 * step) {
                    dst_.push_back(&group[k]);
                    src_.push_back(&group[k + step]);
                }
            }
            adder_.add(dst_.data(), src_.data(), dst_.size());
        }
        for (size_t b = 0; b < n_buckets; ++b) {
            buckets[b] = length_[b] != 0 ? points_[start_[b]] : Affine::identity();
        }
    }

private:
    std::vector<size_t> start_;
    std::vector<size_t> length_;
    std::vector<Affine> points_;
    std::vector<Affine*> dst_;
    std::vector<const Affine*> src_;
    BatchAdder<Curve> adder_;
};

// sum_b (b + 1) buckets[w][b] for every window w at once, by running sums
// from the top bucket down. The windows' sums are independent, so each step
// is one batch of additions for all of them: sum += running (the running
// sum of the buckets above b) and running += bucket b.
template <class Curve>
std::vector<AffinePoint<Curve>> reduce_buckets(const std::vector<AffinePoint<Curve>>& buckets,
                                               size_t n_windows, size_t n_buckets) {
    using Affine = AffinePoint<Curve>;
    std::vector<Affine> running(n_windows), sums(n_windows), previous(n_windows);
    std::vector<Affine*> dst;
    std::vector<const Affine*> src;
    BatchAdder<Curve> adder;
    // Step t adds the running sum of buckets t .. n_buckets - 1, then
    // bucket t - 1 to it.
    for (size_t t = n_buckets + 1; t-- > 0;) {
        dst.clear();
        src.clear();
        previous = running;
        for (size_t w = 0; w < n_windows; ++w) {
            dst.push_back(&sums[w]);
            src.push_back(&previous[w]);
            if (t > 0) {
                dst.push_back(&running[w]);
                src.push_back(&buckets[w * n_buckets + t - 1]);
            }
        }
        adder.add(dst.data(), src.data(), src.size());
    }
    return sums;
}

template <class Curve>
JacobianPoint<Curve> pippenger(const AffinePoint<Curve>* bases, const Limbs* scalars, size_t n) {
    using Affine = AffinePoint<Curve>;
    using Point = JacobianPoint<Curve>;
    // Zero scalars and identity bases contribute nothing: many of the B
    // bases are the identity, and many witness values are 0.
    std::vector<uint32_t> active;
    active.reserve(n);
    unsigned bits = 0;
    for (size_t i = 0; i < n; ++i) {
        unsigned len = bit_length(scalars[i]);
        if (len != 0 && !bases[i].infinity) {
            active.push_back(static_cast<uint32_t>(i));
            bits = std::max(bits, len);
        }
    }
    if (active.empty()) {
        return Point::identity();
    }
    size_t m = active.size();
    unsigned c = window_bits(m, bits);
    size_t n_windows = bits / c + 1;
    size_t n_buckets = size_t{1} << (c - 1);
    // Window-major, so that each window reads its digits in sequence.
    std::vector<int32_t> digits(m * n_windows);
    for (size_t j = 0; j < m; ++j) {
        signed_digits(scalars[active[j]], c, n_windows, &digits[j], m);
    }
    std::vector<Affine> buckets(n_windows * n_buckets);
    BucketAccumulator<Curve> accumulator(n_buckets);
    for (size_t w = 0; w < n_windows; ++w) {
        accumulator.run(bases, active.data(), &digits[w * m], m, &buckets[w * n_buckets]);
    }
    sodium_memzero(digits.data(), digits.size() * sizeof(int32_t));
    std::vector<Affine> sums = reduce_buckets<Curve>(buckets, n_windows, n_buckets);
    Point result = Point::identity();
    for (size_t w = n_windows; w-- > 0;) {
        for (unsigned d = 0; d < c && !result.is_identity(); ++d) {
            result = result.dbl();
        }
        result = result.add_mixed_vartime(sums[w]);
    }
    return result;
}

// GLV (Gallant-Lambert-Vanstone): on G1, (x, y) -> (beta x, y) is the
// multiplication by lambda, a cube root of unity mod r. A scalar k < r
// splits into k1 + k2 lambda with |k1|, |k2| < 2^127 (rounding k against
// the short basis (a1, -b1), (a2, b2) of the lattice of (x, y) with
// x + y lambda = 0 mod r), so that an MSM over n points with 254-bit scalars
// becomes one over 2n points with 127-bit scalars: half the windows, for
// somewhat fewer additions and half the bucket reductions.
namespace glv {

using u128 = unsigned __int128;

// beta, canonical: the cube root of unity in Fq matching lambda.
constexpr Limbs kBeta = {0x5763473177fffffeULL, 0xd4f263f1acdb5c4fULL,
                         0x59e26bcea0d48bacULL, 0x0000000000000000ULL};
constexpr uint64_t kA1 = 0x89d3256894d213e3ULL;
constexpr u128 kB1 = (u128{0x6f4d8248eeb859fcULL} << 64) | 0x8211bbeb7d4f1128ULL;
constexpr u128 kA2 = (u128{0x6f4d8248eeb859fdULL} << 64) | 0x0be4e1541221250bULL;
constexpr uint64_t kB2 = 0x89d3256894d213e3ULL;
// round(2^384 b2 / r) and round(2^384 b1 / r), little-endian limbs.
constexpr uint64_t kG1[5] = {0x8fa7d32d2fafba64ULL, 0x6eb9c714773a6ef2ULL,
                             0xd91d232ec7e0b3d7ULL, 0x0000000000000002ULL, 0};
constexpr uint64_t kG2[5] = {0x869375169b9bdffaULL, 0xa5e38cfb5eaa26d9ULL,
                             0x7a7bd9d4391eb18dULL, 0x4ccef014a773d2cfULL,
                             0x0000000000000002ULL};

// round(k g / 2^384), which is below 2^128 for the constants above.
u128 mul_round_384(const Limbs& k, const uint64_t g[5]) {
    uint64_t product[9] = {};
    for (size_t i = 0; i < 4; ++i) {
        uint64_t carry = 0;
        for (size_t j = 0; j < 5; ++j) {
            u128 t = static_cast<u128>(k[i]) * g[j] + product[i + j] + carry;
            product[i + j] = static_cast<uint64_t>(t);
            carry = static_cast<uint64_t>(t >> 64);
        }
        product[i + 5] = carry;
    }
    uint64_t half_carry = product[5] >> 63;  // adding 2^383 carries iff bit 383 is set
    return ((static_cast<u128>(product[7]) << 64) | product[6]) + half_carry;
}

// A signed half as its magnitude and sign; wrapping 128-bit arithmetic is
// exact because the true value lies in (-2^127, 2^127).
void set_signed(u128 value, Limbs& magnitude, bool& negative) {
    negative = (value >> 127) != 0;
    u128 abs = negative ? ~value + 1 : value;
    magnitude = {static_cast<uint64_t>(abs), static_cast<uint64_t>(abs >> 64), 0, 0};
}

void split(const Limbs& k, Limbs& k1, bool& k1_negative, Limbs& k2, bool& k2_negative) {
    u128 c1 = mul_round_384(k, kG1);
    u128 c2 = mul_round_384(k, kG2);
    u128 k_low = (static_cast<u128>(k[1]) << 64) | k[0];
    set_signed(k_low - c1 * kA1 - c2 * kA2, k1, k1_negative);
    set_signed(c1 * kB1 - c2 * kB2, k2, k2_negative);
}

}  // namespace glv

// GLS (Galbraith-Lin-Scott): on G2, psi = untwist-Frobenius-twist is the
// multiplication by p mod r = 6u^2 = mu, a 127-bit number (u the BN
// parameter), so k = k1 + k2 mu with k2 = round(k / mu) < 2^127 and
// |k1| <= mu / 2: again 2n points with 127-bit scalars.
namespace gls {

using glv::u128;

constexpr u128 kMu = (u128{0x6f4d8248eeb859fbULL} << 64) | 0xf83e9682e87cfd46ULL;
// round(2^384 / mu), little-endian limbs.
constexpr uint64_t kMuInverse[5] = {0xfd4cab0f3030aa45ULL, 0xcd9e614a70bf4f4cULL,
                                    0x2cb62031c8e01941ULL, 0x4ccef014a773d2d5ULL,
                                    0x0000000000000002ULL};

void split(const Limbs& k, Limbs& k1, bool& k1_negative, Limbs& k2, bool& k2_negative) {
    u128 quotient = glv::mul_round_384(k, kMuInverse);
    u128 k_low = (static_cast<u128>(k[1]) << 64) | k[0];
    glv::set_signed(k_low - quotient * kMu, k1, k1_negative);
    k2 = {static_cast<uint64_t>(quotient), static_cast<uint64_t>(quotient >> 64), 0, 0};
    k2_negative = false;
}

}  // namespace gls

// sum k_i P_i as sum k1_i P_i + k2_i phi(P_i) with the endomorphism phi
// (a multiplication by its eigenvalue on the group) and split(k) = (k1, k2).
template <class Curve, class Endomorphism, class Split>
JacobianPoint<Curve> split_msm(const AffinePoint<Curve>* bases, const Limbs* scalars, size_t n,
                               Endomorphism phi, Split split) {
    using Affine = AffinePoint<Curve>;
    std::vector<Affine> split_bases;
    std::vector<Limbs> split_scalars;
    split_bases.reserve(2 * n);
    split_scalars.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) {
        const Affine& p = bases[i];
        if (p.infinity || bit_length(scalars[i]) == 0) {
            continue;
        }
        Limbs k1, k2;
        bool k1_negative, k2_negative;
        split(scalars[i], k1, k1_negative, k2, k2_negative);
        Affine endo = phi(p);
        split_bases.push_back(k1_negative ? p.neg() : p);
        split_scalars.push_back(k1);
        split_bases.push_back(k2_negative ? endo.neg() : endo);
        split_scalars.push_back(k2);
    }
    JacobianPoint<Curve> sum =
        pippenger(split_bases.data(), split_scalars.data(), split_bases.size());
    if (!split_scalars.empty()) {
        sodium_memzero(split_scalars.data(), split_scalars.size() * sizeof(Limbs));
    }
    return sum;
}


}  // namespace

G1 g1_msm(const G1Affine* bases, const Limbs* scalars, size_t n) {
    static const libverify::Fq beta = libverify::Fq::from_canonical_unchecked(glv::kBeta);
    auto phi = [](const G1Affine& p) { return G1Affine::from_xy(p.x * beta, p.y); };
    return split_msm(bases, scalars, n, phi, glv::split);
}

G2 g2_msm(const G2Affine* bases, const Limbs* scalars, size_t n) {
    // psi of an affine point (z = 1) has z = conj(1) = 1.
    auto phi = [](const G2Affine& p) {
        const G2 q = libverify::g2_psi(G2::from_affine(p));
        return G2Affine::from_xy(q.x, q.y);
    };
    return split_msm(bases, scalars, n, phi, gls::split);
}

}  // namespace prover_steps
