#include "zkclient/split_prover.hpp"

#include <sodium.h>

#include <functional>

#include "zkclient/prover.hpp"

namespace zkclient {

using libverify::G1;
using libverify::G2;
using libverify::Limbs;

namespace prover_steps {

std::array<std::vector<Fr>, 3> split_quotient(const ProvingKey& key, const std::vector<Fr>& base,
                                              const std::vector<Fr>& slope) {
    std::vector<Fr> a0, b0, c0, ad, bd, c2, c1;
    std::array<std::vector<Fr>, 3> h;
    auto wipe_all = [&] {
        for (std::vector<Fr>* v : {&a0, &b0, &c0, &ad, &bd, &c2, &c1}) {
            wipe_vector(*v);
        }
    };
    try {
        evaluate_abc(key, base, a0, b0, c0);
        evaluate_abc(key, slope, ad, bd, c2);
        size_t n = key.domain_size();
        c1.resize(n);
        for (size_t i = 0; i < n; ++i) {
            c1[i] = a0[i] * bd[i] + ad[i] * b0[i];
        }
        FftDomain domain(key.domain_power());
        for (std::vector<Fr>* v : {&a0, &b0, &c0, &ad, &bd, &c1, &c2}) {
            domain.to_coset(v->data());
        }
        for (std::vector<Fr>& v : h) {
            v.resize(n);
        }
        for (size_t i = 0; i < n; ++i) {
            h[0][i] = a0[i] * b0[i] - c0[i];
            h[1][i] = a0[i] * bd[i] + ad[i] * b0[i] - c1[i];
            h[2][i] = ad[i] * bd[i] - c2[i];
        }
    } catch (...) {
        wipe_all();
        for (std::vector<Fr>& v : h) {
            wipe_vector(v);
        }
        throw;
    }
    wipe_all();
    return h;
}

UnblindedProof split_sums(const SplitProof& split, const Fr& t) {
    // t is a public input: variable-time multiplications by it.
    const Limbs t_limbs = t.to_canonical();
    UnblindedProof sums;
    sums.a = G1::from_affine(split.a[0]).add(G1::from_affine(split.a[1]).mul_vartime(t_limbs));
    sums.b1 = G1::from_affine(split.b1[0]).add(G1::from_affine(split.b1[1]).mul_vartime(t_limbs));
    sums.b = G2::from_affine(split.b2[0]).add(G2::from_affine(split.b2[1]).mul_vartime(t_limbs));
    // C0 + t (C1 + t C2)
    G1 c_slope = G1::from_affine(split.c[1]).add(G1::from_affine(split.c[2]).mul_vartime(t_limbs));
    sums.c = G1::from_affine(split.c[0]).add(c_slope.mul_vartime(t_limbs));
    sodium_memzero(&c_slope, sizeof c_slope);
    return sums;
}

Status split_finish_blinded(const SplitProof& split, const Fr& t, const Fr& r, const Fr& s,
                            Proof& proof, std::vector<Fr>& public_inputs) noexcept {
    if (split.n_public > kMaxSplitPublicInputs) {
        return Status::internal_error;
    }
    try {
        UnblindedProof sums = split_sums(split, t);
        Proof built;
        Status st = blind_proof(split.delta1, split.delta2, sums, r, s, built);
        sodium_memzero(&sums, sizeof sums);
        if (st != Status::ok) {
            return st;
        }
        std::vector<Fr> inputs(split.n_public);
        for (size_t i = 0; i < inputs.size(); ++i) {
            inputs[i] = split.public_base[i] + t * split.public_slope[i];
        }
        public_inputs = std::move(inputs);
        proof = built;
        return Status::ok;
    } catch (...) {
        return Status::internal_error;
    }
}

}  // namespace prover_steps

Status split_precompute(const ProvingKey& key, const std::vector<Fr>& base,
                        const std::vector<Fr>& slope, SplitProof& out, unsigned threads) noexcept {
    using namespace prover_steps;
    const size_t n = key.n_vars();
    if (base.size() != n || slope.size() != n || n == 0 ||
        key.n_public() > kMaxSplitPublicInputs) {
        return Status::bad_length;
    }
    if (base[0] != Fr::one() || !slope[0].is_zero()) {
        return Status::bad_encoding;
    }
    const size_t first_private = size_t{key.n_public()} + 1;
    std::vector<Limbs> base_scalars, slope_scalars;
    std::array<std::vector<Fr>, 3> h;
    std::array<std::vector<Limbs>, 3> h_scalars;
    G1 a[2], b1[2], c[2], h_sum[3];
    G2 b2[2];
    auto wipe_all = [&] {
        wipe_vector(base_scalars);
        wipe_vector(slope_scalars);
        for (size_t i = 0; i < 3; ++i) {
            wipe_vector(h[i]);
            wipe_vector(h_scalars[i]);
        }
        sodium_memzero(a, sizeof a);
        sodium_memzero(b1, sizeof b1);
        sodium_memzero(c, sizeof c);
        sodium_memzero(h_sum, sizeof h_sum);
        sodium_memzero(b2, sizeof b2);
    };
    try {
        base_scalars = canonical_scalars(base);
        slope_scalars = canonical_scalars(slope);
        const Limbs* w[2] = {base_scalars.data(), slope_scalars.data()};
        threads = thread_count(threads);
        // Largest first; the slope's sums have a handful of terms.
        std::vector<std::function<void()>> witness_tasks = {
            [&] { b2[0] = g2_msm(key.b2().data(), w[0], n); },
            [&] {
                h = split_quotient(key, base, slope);
                for (size_t i = 0; i < 3; ++i) {
                    h_scalars[i] = canonical_scalars(h[i]);
                    wipe_vector(h[i]);
                }
            },
            [&] { a[0] = g1_msm(key.a().data(), w[0], n); },
            [&] { c[0] = g1_msm(key.c().data(), w[0] + first_private, n - first_private); },
            [&] { b1[0] = g1_msm(key.b1().data(), w[0], n); },
            [&] {
                a[1] = g1_msm(key.a().data(), w[1], n);
                b1[1] = g1_msm(key.b1().data(), w[1], n);
                b2[1] = g2_msm(key.b2().data(), w[1], n);
                c[1] = g1_msm(key.c().data(), w[1] + first_private, n - first_private);
            },
        };
        run_tasks(witness_tasks, threads);
        std::vector<std::function<void()>> quotient_tasks;
        for (size_t i = 0; i < 3; ++i) {
            quotient_tasks.push_back([&, i] {
                h_sum[i] = g1_msm(key.h().data(), h_scalars[i].data(), h_scalars[i].size());
            });
        }
        run_tasks(quotient_tasks, threads);

        SplitProof split;
        split.a[0] = a[0].add(G1::from_affine(key.alpha1())).to_affine();
        split.a[1] = a[1].to_affine();
        split.b1[0] = b1[0].add(G1::from_affine(key.beta1())).to_affine();
        split.b1[1] = b1[1].to_affine();
        split.b2[0] = b2[0].add(G2::from_affine(key.beta2())).to_affine();
        split.b2[1] = b2[1].to_affine();
        split.c[0] = c[0].add(h_sum[0]).to_affine();
        split.c[1] = c[1].add(h_sum[1]).to_affine();
        split.c[2] = h_sum[2].to_affine();
        split.delta1 = key.delta1();
        split.delta2 = key.delta2();
        split.n_public = key.n_public();
        for (size_t i = 0; i < key.n_public(); ++i) {
            split.public_base[i] = base[i + 1];
            split.public_slope[i] = slope[i + 1];
        }
        out = split;
        sodium_memzero(&split, sizeof split);
    } catch (...) {
        wipe_all();
        return Status::internal_error;
    }
    wipe_all();
    return Status::ok;
}

Status split_finish(const SplitProof& split, const Fr& t, Proof& proof,
                    std::vector<Fr>& public_inputs) noexcept {
    Fr r = prover_steps::random_scalar();
    Fr s = prover_steps::random_scalar();
    Status st = prover_steps::split_finish_blinded(split, t, r, s, proof, public_inputs);
    sodium_memzero(&r, sizeof r);
    sodium_memzero(&s, sizeof s);
    return st;
}

}  // namespace zkclient
