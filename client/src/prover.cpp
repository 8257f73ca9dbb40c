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

namespace prover_steps {

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
    size_t extra = std::min<size_t>(std::max(threads, 1u), tasks.size()) - 1;
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

unsigned thread_count(unsigned threads) {
    return threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}

std::vector<Limbs> canonical_scalars(const std::vector<Fr>& values) {
    std::vector<Limbs> out(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        out[i] = values[i].to_canonical();
    }
    return out;
}

UnblindedProof unblinded_sums(const ProvingKey& key, const std::vector<Fr>& witness,
                              unsigned threads) {
    size_t n = witness.size();
    size_t first_private = size_t{key.n_public()} + 1;
    std::vector<Fr> a, b, c, h;
    std::vector<Limbs> scalars, h_scalars;
    auto wipe_all = [&] {
        wipe_vector(a);
        wipe_vector(b);
        wipe_vector(c);
        wipe_vector(h);
        wipe_vector(scalars);
        wipe_vector(h_scalars);
    };
    UnblindedProof sums;
    try {
        scalars = canonical_scalars(witness);
        G1 pi_h;
        // Largest first, so that the last task to start is a short one. The
        // FFTs feed only the H MSM.
        std::vector<std::function<void()>> tasks = {
            [&] { sums.b = g2_msm(key.b2().data(), scalars.data(), n); },
            [&] {
                evaluate_abc(key, witness, a, b, c);
                FftDomain domain(key.domain_power());
                h = compute_h(domain, a, b, c);
                h_scalars = canonical_scalars(h);
                pi_h = g1_msm(key.h().data(), h_scalars.data(), h.size());
            },
            [&] { sums.a = g1_msm(key.a().data(), scalars.data(), n); },
            [&] {
                sums.c = g1_msm(key.c().data(), scalars.data() + first_private, n - first_private);
            },
            [&] { sums.b1 = g1_msm(key.b1().data(), scalars.data(), n); },
        };
        run_tasks(tasks, thread_count(threads));
        sums.a = sums.a.add(G1::from_affine(key.alpha1()));
        sums.b = sums.b.add(G2::from_affine(key.beta2()));
        sums.b1 = sums.b1.add(G1::from_affine(key.beta1()));
        sums.c = sums.c.add(pi_h);
    } catch (...) {
        wipe_all();
        throw;
    }
    wipe_all();
    return sums;
}

// With A = alpha + sum w A_i and B1 = beta1 + sum w B1_i:
//   pi_A = A + r delta1, pi_B = B2 + s delta2,
//   pi_C = C + s pi_A + r (B1 + s delta1) - r s delta1
//        = C + s A + r B1 + r s delta1,
// snarkjs's proof with four constant-time G1 and one G2 multiplication.
Status blind_proof(const G1Affine& delta1, const G2Affine& delta2, const UnblindedProof& sums,
                   const Fr& r, const Fr& s, Proof& out) noexcept {
    Limbs r_limbs = r.to_canonical();
    Limbs s_limbs = s.to_canonical();
    Limbs rs_limbs = (r * s).to_canonical();
    G1 delta = G1::from_affine(delta1);
    G1 pi_a = sums.a.add(delta.mul(r_limbs));
    G2 pi_b = sums.b.add(G2::from_affine(delta2).mul(s_limbs));
    G1 pi_c = sums.c.add(sums.a.mul(s_limbs)).add(sums.b1.mul(r_limbs)).add(delta.mul(rs_limbs));
    sodium_memzero(&r_limbs, sizeof r_limbs);
    sodium_memzero(&s_limbs, sizeof s_limbs);
    sodium_memzero(&rs_limbs, sizeof rs_limbs);
    uint8_t compact[libverify::kCompactProofSize];
    libverify::g1_encode_compressed(pi_a.to_affine(), compact);
    libverify::g2_encode_compressed(pi_b.to_affine(), compact + 32);
    libverify::g1_encode_compressed(pi_c.to_affine(), compact + 96);
    Status st = Proof::from_compact(compact, sizeof compact, out);
    return st == Status::ok ? Status::ok : Status::internal_error;
}

Fr random_scalar() noexcept {
    uint8_t bytes[64];
    randombytes_buf(bytes, sizeof bytes);
    Fr v = Fr::from_bytes_le_wide_reduce(bytes);
    sodium_memzero(bytes, sizeof bytes);
    return v;
}

Status groth16_prove_blinded(const ProvingKey& key, const std::vector<Fr>& witness, const Fr& r,
                             const Fr& s, Proof& proof, std::vector<Fr>& public_inputs,
                             unsigned threads) noexcept {
    if (witness.size() != key.n_vars() || key.n_vars() == 0) {
        return Status::bad_length;
    }
    if (witness[0] != Fr::one()) {
        return Status::bad_encoding;
    }
    try {
        UnblindedProof sums = unblinded_sums(key, witness, threads);
        Proof built;
        Status st = blind_proof(key.delta1(), key.delta2(), sums, r, s, built);
        sodium_memzero(&sums, sizeof sums);
        if (st != Status::ok) {
            return st;
        }
        public_inputs.assign(witness.begin() + 1, witness.begin() + key.n_public() + 1);
        proof = built;
        return Status::ok;
    } catch (...) {
        return Status::internal_error;
    }
}

}  // namespace prover_steps

Status groth16_prove(const ProvingKey& key, const std::vector<Fr>& witness, Proof& proof,
                     std::vector<Fr>& public_inputs, unsigned threads) noexcept {
    Fr r = prover_steps::random_scalar();
    Fr s = prover_steps::random_scalar();
    Status st = prover_steps::groth16_prove_blinded(key, witness, r, s, proof, public_inputs,
                                                    threads);
    sodium_memzero(&r, sizeof r);
    sodium_memzero(&s, sizeof s);
    return st;
}

}  // namespace zkclient
