#include "zkclient/prover.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "libverify/decimal.hpp"

namespace zkclient {

using libverify::G1Affine;
using libverify::G2Affine;

namespace prover_steps {

namespace {

void wipe_fast(std::vector<fast::Fr>& v) {
    if (!v.empty()) {
        sodium_memzero(v.data(), v.size() * sizeof(fast::Fr));
    }
}

}  // namespace

Fr root_of_unity(uint32_t k) {
    // 5 is the smallest quadratic non-residue mod r; r - 1 = 2^28 t.
    constexpr Limbs kOddPart = {0x9b9709143e1f593fULL, 0x181585d2833e8487ULL,
                                0x131a029b85045b68ULL, 0x000000030644e72eULL};
    Fr w = Fr::from_u64(5).pow_vartime(kOddPart);
    for (uint32_t i = k; i < 28; ++i) {
        w = w.square();
    }
    return w;
}

FftDomain::FftDomain(uint32_t power) : power_(power) {
    size_t half = size() / 2;
    fast::Fr w(root_of_unity(power));
    fast::Fr w_inv(root_of_unity(power).inverse());
    twiddles_.resize(std::max<size_t>(half, 1));
    inverse_twiddles_.resize(twiddles_.size());
    twiddles_[0] = fast::Fr::one();
    inverse_twiddles_[0] = fast::Fr::one();
    for (size_t i = 1; i < half; ++i) {
        twiddles_[i] = twiddles_[i - 1] * w;
        inverse_twiddles_[i] = inverse_twiddles_[i - 1] * w_inv;
    }
    size_inverse_ = fast::Fr(Fr::from_u64(size()).inverse());
    // ffjavascript's shift is nqr^2 = 25 at the top of the 2-adic tower.
    coset_shift_ = power < 28 ? root_of_unity(power + 1) : Fr::from_u64(25);
}

// Iterative Cooley-Tukey: bit-reversal permutation, then butterflies with
// stride-indexed twiddles from the one table of w^i.
void FftDomain::transform(fast::Fr* values, const std::vector<fast::Fr>& twiddles) const {
    size_t n = size();
    for (size_t i = 1, j = 0; i < n; ++i) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) {
            j ^= bit;
        }
        j ^= bit;
        if (i < j) {
            std::swap(values[i], values[j]);
        }
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t half = len / 2;
        size_t stride = n / len;
        for (size_t start = 0; start < n; start += len) {
            fast::Fr* lo = values + start;
            fast::Fr* hi = lo + half;
            for (size_t k = 0; k < half; ++k) {
                fast::Fr t = hi[k] * twiddles[k * stride];
                hi[k] = lo[k] - t;
                lo[k] = lo[k] + t;
            }
        }
    }
}

void FftDomain::fft(fast::Fr* values) const { transform(values, twiddles_); }

void FftDomain::ifft(fast::Fr* values) const {
    transform(values, inverse_twiddles_);
    for (size_t i = 0; i < size(); ++i) {
        values[i] = values[i] * size_inverse_;
    }
}

namespace {

std::vector<fast::Fr> to_fast(const std::vector<Fr>& v) {
    std::vector<fast::Fr> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        out[i] = fast::Fr(v[i]);
    }
    return out;
}

void from_fast(const std::vector<fast::Fr>& v, Fr* out) {
    for (size_t i = 0; i < v.size(); ++i) {
        out[i] = v[i].slow();
    }
}

}  // namespace

void FftDomain::fft(Fr* values) const {
    std::vector<fast::Fr> v = to_fast(std::vector<Fr>(values, values + size()));
    fft(v.data());
    from_fast(v, values);
}

void FftDomain::ifft(Fr* values) const {
    std::vector<fast::Fr> v = to_fast(std::vector<Fr>(values, values + size()));
    ifft(v.data());
    from_fast(v, values);
}

void evaluate_abc(const ProvingKey& key, const std::vector<Fr>& witness, std::vector<Fr>& a,
                  std::vector<Fr>& b, std::vector<Fr>& c) {
    size_t n = key.domain_size();
    std::vector<fast::Fr> fa(n), fb(n);
    for (const QapCoefficient& q : key.coefficients()) {
        std::vector<fast::Fr>& out = q.matrix == 0 ? fa : fb;
        out[q.constraint] += fast::Fr(q.value) * fast::Fr(witness[q.signal]);
    }
    a.resize(n);
    b.resize(n);
    c.resize(n);
    for (size_t i = 0; i < n; ++i) {
        a[i] = fa[i].slow();
        b[i] = fb[i].slow();
        c[i] = (fa[i] * fb[i]).slow();
    }
    wipe_fast(fa);
    wipe_fast(fb);
}

std::vector<Fr> compute_h(const FftDomain& domain, std::vector<Fr>& a, std::vector<Fr>& b,
                          std::vector<Fr>& c) {
    size_t n = domain.size();
    // The shift powers are shared by the three polynomials.
    std::vector<fast::Fr> shift_powers(n);
    fast::Fr shift(domain.coset_shift());
    fast::Fr power = fast::Fr::one();
    for (size_t i = 0; i < n; ++i) {
        shift_powers[i] = power;
        power = power * shift;
    }
    std::vector<fast::Fr> odd[3];
    std::vector<Fr>* polys[3] = {&a, &b, &c};
    for (int p = 0; p < 3; ++p) {
        odd[p] = to_fast(*polys[p]);
        domain.ifft(odd[p].data());
        for (size_t i = 0; i < n; ++i) {
            odd[p][i] = odd[p][i] * shift_powers[i];
        }
        domain.fft(odd[p].data());
    }
    std::vector<Fr> h(n);
    for (size_t i = 0; i < n; ++i) {
        h[i] = (odd[0][i] * odd[1][i] - odd[2][i]).slow();
    }
    for (auto& v : odd) {
        wipe_fast(v);
    }
    return h;
}

namespace {

// Signed base-2^c digits of a canonical scalar (< 2^254), least significant
// first: each in [-2^(c-1), 2^(c-1)], the carry absorbed by one extra window.
void signed_digits(const Limbs& k, unsigned c, size_t n_windows, int32_t* out) {
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
        out[w] = static_cast<int32_t>(digit);
    }
}

// Additions per batch: a quarter of the buckets, so that few points find
// their bucket already taken in the current batch, at most 1024.
size_t batch_size(size_t n_buckets) { return std::min<size_t>(1024, std::max<size_t>(n_buckets / 4, 16)); }

// Window width minimising the estimated field multiplications: per window,
// n batched affine additions (6 each plus a share of the batch's inversion,
// about 400) and the bucket reduction, two Jacobian additions (about 14
// each) per bucket.
unsigned window_bits(size_t n) {
    unsigned best = 2;
    double best_cost = 1e300;
    for (unsigned c = 2; c <= 16; ++c) {
        double windows = static_cast<double>(254 / c + 2);
        size_t n_buckets = size_t{1} << (c - 1);
        double per_add = 6.0 + 400.0 / static_cast<double>(batch_size(n_buckets));
        double cost = windows * (per_add * static_cast<double>(n) +
                                 28.0 * static_cast<double>(n_buckets));
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
    using Affine = libverify::AffinePoint<Curve>;

    explicit AffineBuckets(size_t n_buckets)
        : batch_(batch_size(n_buckets)), buckets_(n_buckets), batch_stamp_(n_buckets, 0) {
        pending_.reserve(batch_);
        deferred_.reserve(batch_);
        denominators_.resize(batch_);
        prefix_.resize(batch_);
    }

    void reset() { std::fill(buckets_.begin(), buckets_.end(), Affine::identity()); }

    // Queues bucket[index] += p (p not the identity).
    void add(uint32_t index, const Affine& p) {
        if (batch_stamp_[index] == stamp_) {
            deferred_.push_back({index, p});
            // Bounded, so that re-admitting waiting points stays cheap.
            if (deferred_.size() >= batch_) {
                flush();
            }
            return;
        }
        batch_stamp_[index] = stamp_;
        pending_.push_back({index, p});
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
        uint32_t index;
        Affine point;
    };

    void flush() {
        size_t m = pending_.size();
        // Slopes' denominators: x2 - x1, or 2 y for a doubling; entries whose
        // result needs no slope (empty bucket, P + (-P)) use 1 and are
        // resolved directly.
        F acc = F::one();
        for (size_t i = 0; i < m; ++i) {
            const Affine& b = buckets_[pending_[i].index];
            const Affine& p = pending_[i].point;
            F d = F::one();
            if (!b.infinity) {
                d = p.x - b.x;
                if (d.is_zero()) {
                    d = (p.y == b.y) ? b.y.dbl() : F::one();
                }
            }
            denominators_[i] = d;
            prefix_[i] = acc;
            acc = acc * d;
        }
        F inv = acc.inverse();
        for (size_t i = m; i-- > 0;) {
            F d_inv = inv * prefix_[i];
            inv = inv * denominators_[i];
            Affine& b = buckets_[pending_[i].index];
            const Affine& p = pending_[i].point;
            if (b.infinity) {
                b = p;
                continue;
            }
            F lambda;
            if (p.x == b.x) {
                if (p.y != b.y || b.y.is_zero()) {
                    b = Affine::identity();
                    continue;
                }
                F xx = b.x.square();
                lambda = (xx.dbl() + xx) * d_inv;
            } else {
                lambda = (p.y - b.y) * d_inv;
            }
            F x3 = lambda.square() - b.x - p.x;
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
            if (pending_.size() < batch_ && batch_stamp_[e.index] != stamp_) {
                batch_stamp_[e.index] = stamp_;
                pending_.push_back(e);
            } else {
                deferred_[kept++] = e;
            }
        }
        deferred_.resize(kept);
    }

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
libverify::JacobianPoint<Curve> pippenger(const libverify::AffinePoint<Curve>* bases,
                                          const Limbs* scalars, size_t n) {
    using Point = libverify::JacobianPoint<Curve>;
    if (n == 0) {
        return Point::identity();
    }
    unsigned c = window_bits(n);
    size_t n_windows = 254 / c + 2;
    std::vector<int32_t> digits(n * n_windows);
    for (size_t i = 0; i < n; ++i) {
        signed_digits(scalars[i], c, n_windows, &digits[i * n_windows]);
    }
    AffineBuckets<Curve> buckets(size_t{1} << (c - 1));
    Point result = Point::identity();
    for (size_t w = n_windows; w-- > 0;) {
        for (unsigned d = 0; d < c; ++d) {
            result = result.dbl();
        }
        buckets.reset();
        for (size_t i = 0; i < n; ++i) {
            int32_t digit = digits[i * n_windows + w];
            if (digit == 0 || bases[i].infinity) {
                continue;
            }
            if (digit > 0) {
                buckets.add(static_cast<uint32_t>(digit - 1), bases[i]);
            } else {
                buckets.add(static_cast<uint32_t>(-digit - 1), bases[i].neg());
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
    return result;
}

}  // namespace

G1 g1_msm(const G1Affine* bases, const Limbs* scalars, size_t n) {
    std::vector<fast::G1Affine> fast_bases(n);
    for (size_t i = 0; i < n; ++i) {
        fast_bases[i] = fast::to_fast(bases[i]);
    }
    return fast::to_slow(pippenger(fast_bases.data(), scalars, n));
}

G2 g2_msm(const G2Affine* bases, const Limbs* scalars, size_t n) {
    std::vector<fast::G2Affine> fast_bases(n);
    for (size_t i = 0; i < n; ++i) {
        fast_bases[i] = fast::to_fast(bases[i]);
    }
    return fast::to_slow(pippenger(fast_bases.data(), scalars, n));
}

}  // namespace prover_steps

namespace {

Fr random_scalar() {
    uint8_t bytes[64];
    randombytes_buf(bytes, sizeof bytes);
    Fr v = Fr::from_bytes_le_wide_reduce(bytes);
    sodium_memzero(bytes, sizeof bytes);
    return v;
}

Status make_proof(const G1& a, const G2& b, const G1& c, Proof& out) {
    uint8_t compact[libverify::kCompactProofSize];
    libverify::g1_encode_compressed(a.to_affine(), compact);
    libverify::g2_encode_compressed(b.to_affine(), compact + 32);
    libverify::g1_encode_compressed(c.to_affine(), compact + 96);
    return Proof::from_compact(compact, sizeof compact, out);
}

}  // namespace

namespace {

std::string decimal(const Limbs& value) {
    char digits[libverify::kMaxDecimalDigits];
    size_t n = libverify::limbs_to_decimal(value, digits);
    return "\"" + std::string(digits, n) + "\"";
}

std::string fq_json(const libverify::Fq& v) { return decimal(v.to_canonical()); }

std::string g1_json(const G1Affine& p) {
    if (p.infinity) {
        return "[\"0\",\"1\",\"0\"]";
    }
    return "[" + fq_json(p.x) + "," + fq_json(p.y) + ",\"1\"]";
}

std::string g2_json(const G2Affine& p) {
    if (p.infinity) {
        return "[[\"0\",\"0\"],[\"1\",\"0\"],[\"0\",\"0\"]]";
    }
    return "[[" + fq_json(p.x.c0) + "," + fq_json(p.x.c1) + "],[" + fq_json(p.y.c0) + "," +
           fq_json(p.y.c1) + "],[\"1\",\"0\"]]";
}

template <class T>
void wipe_vector(std::vector<T>& v) {
    if (!v.empty()) {
        sodium_memzero(v.data(), v.size() * sizeof(T));
    }
}

}  // namespace

std::string proof_to_json(const Proof& proof) {
    return "{\"pi_a\":" + g1_json(proof.a()) + ",\"pi_b\":" + g2_json(proof.b()) +
           ",\"pi_c\":" + g1_json(proof.c()) + ",\"protocol\":\"groth16\",\"curve\":\"bn128\"}";
}

std::string public_inputs_to_json(const std::vector<Fr>& inputs) {
    std::string out = "[";
    for (size_t i = 0; i < inputs.size(); ++i) {
        out += (i == 0 ? "" : ",") + decimal(inputs[i].to_canonical());
    }
    return out + "]";
}

Status groth16_prove(const ProvingKey& key, const std::vector<Fr>& witness, Proof& proof,
                     std::vector<Fr>& public_inputs) noexcept {
    using namespace prover_steps;
    if (witness.size() != key.n_vars() || key.n_vars() == 0) {
        return Status::bad_length;
    }
    if (witness[0] != Fr::one()) {
        return Status::bad_encoding;
    }
    std::vector<Fr> a, b, c, h;
    std::vector<Limbs> scalars;
    Fr r, s;
    try {
        evaluate_abc(key, witness, a, b, c);
        FftDomain domain(key.domain_power());
        h = compute_h(domain, a, b, c);

        scalars.resize(std::max<size_t>(witness.size(), h.size()));
        for (size_t i = 0; i < witness.size(); ++i) {
            scalars[i] = witness[i].to_canonical();
        }
        size_t n = witness.size();
        size_t first_private = size_t{key.n_public()} + 1;
        G1 pi_a = g1_msm(key.a().data(), scalars.data(), n);
        G1 pi_b1 = g1_msm(key.b1().data(), scalars.data(), n);
        G2 pi_b = g2_msm(key.b2().data(), scalars.data(), n);
        G1 pi_c = g1_msm(key.c().data(), scalars.data() + first_private, n - first_private);
        for (size_t i = 0; i < h.size(); ++i) {
            scalars[i] = h[i].to_canonical();
        }
        G1 pi_h = g1_msm(key.h().data(), scalars.data(), h.size());

        r = random_scalar();
        s = random_scalar();
        Limbs r_limbs = r.to_canonical();
        Limbs s_limbs = s.to_canonical();
        Limbs neg_rs_limbs = (-(r * s)).to_canonical();
        G1 delta1 = G1::from_affine(key.delta1());
        G2 delta2 = G2::from_affine(key.delta2());

        pi_a = pi_a.add(G1::from_affine(key.alpha1())).add(delta1.mul(r_limbs));
        pi_b = pi_b.add(G2::from_affine(key.beta2())).add(delta2.mul(s_limbs));
        pi_b1 = pi_b1.add(G1::from_affine(key.beta1())).add(delta1.mul(s_limbs));
        pi_c = pi_c.add(pi_h)
                   .add(pi_a.mul(s_limbs))
                   .add(pi_b1.mul(r_limbs))
                   .add(delta1.mul(neg_rs_limbs));
        sodium_memzero(&r_limbs, sizeof r_limbs);
        sodium_memzero(&s_limbs, sizeof s_limbs);
        sodium_memzero(&neg_rs_limbs, sizeof neg_rs_limbs);

        Proof built;
        Status st = make_proof(pi_a, pi_b, pi_c, built);
        if (st == Status::ok) {
            public_inputs.assign(witness.begin() + 1, witness.begin() + first_private);
            proof = built;
        }
        wipe_vector(a);
        wipe_vector(b);
        wipe_vector(c);
        wipe_vector(h);
        wipe_vector(scalars);
        sodium_memzero(&r, sizeof r);
        sodium_memzero(&s, sizeof s);
        return st == Status::ok ? Status::ok : Status::internal_error;
    } catch (...) {
        wipe_vector(a);
        wipe_vector(b);
        wipe_vector(c);
        wipe_vector(h);
        wipe_vector(scalars);
        sodium_memzero(&r, sizeof r);
        sodium_memzero(&s, sizeof s);
        return Status::internal_error;
    }
}

}  // namespace zkclient
