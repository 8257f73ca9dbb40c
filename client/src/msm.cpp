// The prover's multi-scalar multiplications: Pippenger's bucket method with
// signed digits and affine buckets filled in batches that share one
// inversion. Variable time in the scalars (see docs/prover.md).
#include <sodium.h>

#include <algorithm>
#include <cstdint>
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

// Additions per batch: a quarter of the buckets, so that few points find
// their bucket already taken in the current batch, at most 1024.
size_t batch_size(size_t n_buckets) {
    return std::min<size_t>(1024, std::max<size_t>(n_buckets / 4, 16));
}

// Window width minimising the estimated field multiplications: per window,
// n batched affine additions (6 each plus a share of the batch's inversion,
// about 100) and the bucket reduction, a mixed and a Jacobian addition
// (about 27) per bucket.
unsigned window_bits(size_t n, unsigned bits) {
    unsigned best = 2;
    double best_cost = 1e300;
    for (unsigned c = 2; c <= 16; ++c) {
        double windows = static_cast<double>(bits / c + 1);
        size_t n_buckets = size_t{1} << (c - 1);
        double per_add = 6.0 + 100.0 / static_cast<double>(batch_size(n_buckets));
        double cost = windows * (per_add * static_cast<double>(n) +
                                 27.0 * static_cast<double>(n_buckets));
        if (cost < best_cost) {
            best_cost = cost;
            best = c;
        }
    }
    return best;
}

// Bucket accumulation with affine buckets: additions are collected in
// batches in which every bucket occurs at most once, so that all their
// slopes share one field inversion (Montgomery's trick). An addition costs
// about 6 multiplications instead of 11 for a mixed Jacobian one. A point
// whose bucket is already in the batch waits for the next one.
template <class Curve>
class AffineBuckets {
public:
    using F = typename Curve::Base;
    using Affine = AffinePoint<Curve>;

    AffineBuckets(const Affine* bases, size_t n_buckets)
        : bases_(bases),
          batch_(batch_size(n_buckets)),
          buckets_(n_buckets),
          batch_stamp_(n_buckets, 0) {
        pending_.reserve(batch_);
        deferred_.reserve(batch_);
        denominators_.resize(batch_);
        prefix_.resize(batch_);
    }

    void reset() { std::fill(buckets_.begin(), buckets_.end(), Affine::identity()); }

    // Queues buckets[bucket] += (negate ? -1 : 1) bases[point]; the base is
    // not the identity.
    void add(uint32_t bucket, uint32_t point, bool negate) {
        Entry e{bucket, point, negate};
        if (batch_stamp_[bucket] == stamp_) {
            deferred_.push_back(e);
            // Bounded, so that re-admitting waiting points stays cheap.
            if (deferred_.size() >= batch_) {
                flush();
            }
            return;
        }
        batch_stamp_[bucket] = stamp_;
        pending_.push_back(e);
        if (pending_.size() == batch_) {
            flush();
        }
    }

    // Completes every queued addition.
    void finish() {
        while (!pending_.empty() || !deferred_.empty()) {
            flush();
        }
    }

    const std::vector<Affine>& buckets() const { return buckets_; }

private:
    struct Entry {
        uint32_t bucket;
        uint32_t point;
        bool negate;
    };

    void flush() {
        size_t m = pending_.size();
        // Slopes' denominators: x2 - x1, or 2 y for a doubling; entries whose
        // result needs no slope (empty bucket, P + (-P)) use 1 and are
        // resolved directly.
        F acc = F::one();
        for (size_t i = 0; i < m; ++i) {
            const Affine& b = buckets_[pending_[i].bucket];
            const Affine& p = bases_[pending_[i].point];
            F d = F::one();
            if (!b.infinity) {
                d = p.x - b.x;
                if (d.is_zero()) {
                    F py = pending_[i].negate ? -p.y : p.y;
                    d = (py == b.y && !b.y.is_zero()) ? b.y.dbl() : F::one();
                }
            }
            denominators_[i] = d;
            prefix_[i] = acc;
            acc = acc * d;
        }
        F inv = inverse_vartime(acc);
        for (size_t i = m; i-- > 0;) {
            const Entry& e = pending_[i];
            F d_inv = inv * prefix_[i];
            inv = inv * denominators_[i];
            Affine& b = buckets_[e.bucket];
            const Affine& base = bases_[e.point];
            F py = e.negate ? -base.y : base.y;
            if (b.infinity) {
                b = Affine::from_xy(base.x, py);
                continue;
            }
            F lambda;
            if (base.x == b.x) {
                if (py != b.y || b.y.is_zero()) {
                    b = Affine::identity();
                    continue;
                }
                F xx = b.x.square();
                lambda = (xx.dbl() + xx) * d_inv;
            } else {
                lambda = (py - b.y) * d_inv;
            }
            F x3 = lambda.square() - b.x - base.x;
            b.y = lambda * (b.x - x3) - b.y;
            b.x = x3;
        }
        pending_.clear();
        ++stamp_;
        // Waiting points start the next batch, in order, as far as their
        // buckets allow.
        size_t kept = 0;
        for (size_t i = 0; i < deferred_.size(); ++i) {
            const Entry& e = deferred_[i];
            if (pending_.size() < batch_ && batch_stamp_[e.bucket] != stamp_) {
                batch_stamp_[e.bucket] = stamp_;
                pending_.push_back(e);
            } else {
                deferred_[kept++] = e;
            }
        }
        deferred_.resize(kept);
    }

    const Affine* bases_;
    size_t batch_;
    std::vector<Affine> buckets_;
    std::vector<uint64_t> batch_stamp_;
    uint64_t stamp_ = 1;
    std::vector<Entry> pending_;
    std::vector<Entry> deferred_;
    std::vector<F> denominators_;
    std::vector<F> prefix_;
};

template <class Curve>
JacobianPoint<Curve> pippenger(const AffinePoint<Curve>* bases, const Limbs* scalars, size_t n) {
    using Point = JacobianPoint<Curve>;
    // Zero scalars and identity bases contribute nothing: most of B2's
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
    // Window-major, so that each window reads its digits in sequence.
    std::vector<int32_t> digits(m * n_windows);
    for (size_t j = 0; j < m; ++j) {
        signed_digits(scalars[active[j]], c, n_windows, &digits[j], m);
    }
    AffineBuckets<Curve> buckets(bases, size_t{1} << (c - 1));
    Point result = Point::identity();
    for (size_t w = n_windows; w-- > 0;) {
        for (unsigned d = 0; d < c && !result.is_identity(); ++d) {
            result = result.dbl();
        }
        buckets.reset();
        const int32_t* window = &digits[w * m];
        for (size_t j = 0; j < m; ++j) {
            int32_t digit = window[j];
            if (digit > 0) {
                buckets.add(static_cast<uint32_t>(digit - 1), active[j], false);
            } else if (digit < 0) {
                buckets.add(static_cast<uint32_t>(-digit - 1), active[j], true);
            }
        }
        buckets.finish();
        // sum_b (b + 1) bucket[b] as a running sum from the top.
        Point running = Point::identity();
        Point window_sum = Point::identity();
        const auto& sums = buckets.buckets();
        for (size_t b = sums.size(); b-- > 0;) {
            running = running.add_mixed_vartime(sums[b]);
            window_sum = window_sum.add_vartime(running);
        }
        result = result.add_vartime(window_sum);
    }
    sodium_memzero(digits.data(), digits.size() * sizeof(int32_t));
    return result;
}

}  // namespace

G1 g1_msm(const G1Affine* bases, const Limbs* scalars, size_t n) {
    return pippenger(bases, scalars, n);
}

G2 g2_msm(const G2Affine* bases, const Limbs* scalars, size_t n) {
    return pippenger(bases, scalars, n);
}

}  // namespace prover_steps
