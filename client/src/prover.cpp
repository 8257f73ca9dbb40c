#include "zkclient/prover.hpp"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <thread>

#include "libverify/decimal.hpp"

namespace zkclient {

using libverify::G1Affine;
using libverify::G2Affine;

namespace {

template <class T>
void wipe_vector(std::vector<T>& v) {
    if (!v.empty()) {
        sodium_memzero(v.data(), v.size() * sizeof(T));
    }
}

}  // namespace

namespace prover_steps {

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

namespace {

size_t reverse_bits(size_t i, uint32_t power) {
    size_t r = 0;
    for (uint32_t b = 0; b < power; ++b) {
        r = (r << 1) | ((i >> b) & 1);
    }
    return r;
}

}  // namespace

FftDomain::FftDomain(uint32_t power) : power_(power) {
    size_t half = size() / 2;
    Fr w = root_of_unity(power);
    Fr w_inv = w.inverse();
    twiddles_.resize(std::max<size_t>(half, 1));
    inverse_twiddles_.resize(twiddles_.size());
    twiddles_[0] = Fr::one();
    inverse_twiddles_[0] = Fr::one();
    for (size_t i = 1; i < half; ++i) {
        twiddles_[i] = twiddles_[i - 1] * w;
        inverse_twiddles_[i] = inverse_twiddles_[i - 1] * w_inv;
    }
    size_inverse_ = Fr::from_u64(size()).inverse();
    // ffjavascript's shift is nqr^2 = 25 at the top of the 2-adic tower.
    coset_shift_ = power < 28 ? root_of_unity(power + 1) : Fr::from_u64(25);
    coset_factors_.resize(size());
    Fr factor = size_inverse_;
    for (size_t i = 0; i < size(); ++i) {
        coset_factors_[reverse_bits(i, power_)] = factor;
        factor *= coset_shift_;
    }
}

void FftDomain::bit_reverse(Fr* values) const {
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
}

// Butterflies (lo, hi) <- (lo + hi, (lo - hi) w^k), from the widest span
// down; the first butterfly of each block has w^0 = 1.
void FftDomain::dif(Fr* values, const std::vector<Fr>& twiddles) const {
    size_t n = size();
    for (size_t len = n; len >= 2; len >>= 1) {
        size_t half = len / 2;
        size_t stride = n / len;
        for (size_t start = 0; start < n; start += len) {
            Fr* lo = values + start;
            Fr* hi = lo + half;
            Fr sum = lo[0] + hi[0];
            hi[0] = lo[0] - hi[0];
            lo[0] = sum;
            for (size_t k = 1; k < half; ++k) {
                Fr s = lo[k] + hi[k];
                hi[k] = (lo[k] - hi[k]) * twiddles[k * stride];
                lo[k] = s;
            }
        }
    }
}

// Butterflies (lo, hi) <- (lo + hi w^k, lo - hi w^k), from the narrowest
// span up.
void FftDomain::dit(Fr* values, const std::vector<Fr>& twiddles) const {
    size_t n = size();
    for (size_t len = 2; len <= n; len <<= 1) {
        size_t half = len / 2;
        size_t stride = n / len;
        for (size_t start = 0; start < n; start += len) {
            Fr* lo = values + start;
            Fr* hi = lo + half;
            Fr t = hi[0];
            hi[0] = lo[0] - t;
            lo[0] = lo[0] + t;
            for (size_t k = 1; k < half; ++k) {
                t = hi[k] * twiddles[k * stride];
                hi[k] = lo[k] - t;
                lo[k] = lo[k] + t;
            }
        }
    }
}

void FftDomain::fft(Fr* values) const {
    bit_reverse(values);
    dit(values, twiddles_);
}

void FftDomain::ifft(Fr* values) const {
    dif(values, inverse_twiddles_);
    bit_reverse(values);
    for (size_t i = 0; i < size(); ++i) {
        values[i] *= size_inverse_;
    }
}

void FftDomain::to_coset(Fr* values) const {
    dif(values, inverse_twiddles_);
    for (size_t i = 0; i < size(); ++i) {
        values[i] *= coset_factors_[i];
    }
    dit(values, twiddles_);
}

void evaluate_abc(const ProvingKey& key, const std::vector<Fr>& witness, std::vector<Fr>& a,
                  std::vector<Fr>& b, std::vector<Fr>& c) {
    size_t n = key.domain_size();
    a.assign(n, Fr::zero());
    b.assign(n, Fr::zero());
    for (const QapCoefficient& q : key.coefficients()) {
        std::vector<Fr>& out = q.matrix == 0 ? a : b;
        out[q.constraint] += q.value * witness[q.signal];
    }
    c.resize(n);
    for (size_t i = 0; i < n; ++i) {
        c[i] = a[i] * b[i];
    }
}

std::vector<Fr> compute_h(const FftDomain& domain, std::vector<Fr>& a, std::vector<Fr>& b,
                          std::vector<Fr>& c) {
    domain.to_coset(a.data());
    domain.to_coset(b.data());
    domain.to_coset(c.data());
    for (size_t i = 0; i < domain.size(); ++i) {
        a[i] = a[i] * b[i] - c[i];
    }
    wipe_vector(b);
    wipe_vector(c);
    return std::move(a);
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

namespace {

// Runs the tasks on up to `threads` threads (this one included), each task
// once; rethrows the first exception a task threw once all have stopped.
void run_tasks(const std::vector<std::function<void()>>& tasks, unsigned threads) {
    std::atomic<size_t> next{0};
    std::exception_ptr failure;
    std::atomic<bool> failed{false};
    auto work = [&] {
        for (size_t i = next++; i < tasks.size(); i = next++) {
            try {
                tasks[i]();
            } catch (...) {
                if (!failed.exchange(true)) {
                    failure = std::current_exception();
                }
            }
        }
    };
    std::vector<std::thread> workers;
    size_t extra = std::min<size_t>(threads, tasks.size()) - 1;
    try {
        workers.reserve(extra);
        for (size_t i = 0; i < extra; ++i) {
            workers.emplace_back(work);
        }
    } catch (...) {
        // Fewer threads than asked for: the ones running share the work.
    }
    work();
    for (std::thread& t : workers) {
        t.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

}  // namespace

Status groth16_prove(const ProvingKey& key, const std::vector<Fr>& witness, Proof& proof,
                     std::vector<Fr>& public_inputs, unsigned threads) noexcept {
    using namespace prover_steps;
    if (witness.size() != key.n_vars() || key.n_vars() == 0) {
        return Status::bad_length;
    }
    if (witness[0] != Fr::one()) {
        return Status::bad_encoding;
    }
    if (threads == 0) {
        threads = std::max(1u, std::thread::hardware_concurrency());
    }
    std::vector<Fr> a, b, c, h;
    std::vector<Limbs> scalars, h_scalars;
    Fr r, s;
    auto wipe_all = [&] {
        wipe_vector(a);
        wipe_vector(b);
        wipe_vector(c);
        wipe_vector(h);
        wipe_vector(scalars);
        wipe_vector(h_scalars);
        sodium_memzero(&r, sizeof r);
        sodium_memzero(&s, sizeof s);
    };
    try {
        size_t n = witness.size();
        size_t first_private = size_t{key.n_public()} + 1;
        scalars.resize(n);
        for (size_t i = 0; i < n; ++i) {
            scalars[i] = witness[i].to_canonical();
        }
        G1 pi_a, pi_b1, pi_c, pi_h;
        G2 pi_b;
        // Largest first, so that the last task to start is a short one. The
        // FFTs feed only the H MSM.
        std::vector<std::function<void()>> tasks = {
            [&] { pi_b = g2_msm(key.b2().data(), scalars.data(), n); },
            [&] {
                evaluate_abc(key, witness, a, b, c);
                FftDomain domain(key.domain_power());
                h = compute_h(domain, a, b, c);
                h_scalars.resize(h.size());
                for (size_t i = 0; i < h.size(); ++i) {
                    h_scalars[i] = h[i].to_canonical();
                }
                pi_h = g1_msm(key.h().data(), h_scalars.data(), h.size());
            },
            [&] { pi_a = g1_msm(key.a().data(), scalars.data(), n); },
            [&] {
                pi_c = g1_msm(key.c().data(), scalars.data() + first_private, n - first_private);
            },
            [&] { pi_b1 = g1_msm(key.b1().data(), scalars.data(), n); },
        };
        run_tasks(tasks, threads);
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
        wipe_all();
        return st == Status::ok ? Status::ok : Status::internal_error;
    } catch (...) {
        wipe_all();
        return Status::internal_error;
    }
}

}  // namespace zkclient
