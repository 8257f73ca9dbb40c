#pragma once
// A Groth16 "setup" with a known trapdoor: every key element is a known
// multiple of a generator, so valid proofs for any public inputs can be
// computed algebraically: with A = sa G1, B = sb G2 and
// C = (sa sb - alpha beta - gamma (ic0 + sum x_j ic_j)) / delta * G1,
// e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta) holds.

#include <gmp.h>

#include <string>
#include <vector>

#include "libverify/curve.hpp"
#include "libverify/groth16.hpp"
#include "test_util.hpp"

namespace libverify {
namespace testing_util {

inline std::string to_decimal(const Limbs& x) {
    mpz_t z;
    mpz_init(z);
    limbs_to_mpz(z, x);
    char* s = mpz_get_str(nullptr, 10, z);
    std::string out(s);
    void (*free_fn)(void*, size_t);
    mp_get_memory_functions(nullptr, nullptr, &free_fn);
    free_fn(s, out.size() + 1);
    mpz_clear(z);
    return out;
}

inline std::string dec(const Fq& x) { return "\"" + to_decimal(x.to_canonical()) + "\""; }
inline std::string dec(const Fr& x) { return "\"" + to_decimal(x.to_canonical()) + "\""; }

inline std::string g1_json(const G1Affine& p) {
    if (p.infinity) {
        return "[\"0\",\"1\",\"0\"]";
    }
    return "[" + dec(p.x) + "," + dec(p.y) + ",\"1\"]";
}

inline std::string g2_json(const G2Affine& q) {
    if (q.infinity) {
        return "[[\"0\",\"0\"],[\"1\",\"0\"],[\"0\",\"0\"]]";
    }
    return "[[" + dec(q.x.c0) + "," + dec(q.x.c1) + "],[" + dec(q.y.c0) + "," + dec(q.y.c1) +
           "],[\"1\",\"0\"]]";
}

struct RawProof {
    G1Affine a;
    G2Affine b;
    G1Affine c;
};

inline std::string proof_json(const RawProof& p) {
    return "{\"pi_a\":" + g1_json(p.a) + ",\"pi_b\":" + g2_json(p.b) + ",\"pi_c\":" +
           g1_json(p.c) + ",\"protocol\":\"groth16\",\"curve\":\"bn128\"}";
}

inline std::string inputs_json(const std::vector<Fr>& xs) {
    std::string s = "[";
    for (size_t i = 0; i < xs.size(); ++i) {
        s += (i ? "," : "") + dec(xs[i]);
    }
    return s + "]";
}

inline std::vector<uint8_t> inputs_bytes(const std::vector<Fr>& xs) {
    std::vector<uint8_t> out(32 * xs.size());
    for (size_t i = 0; i < xs.size(); ++i) {
        xs[i].to_bytes_be(out.data() + 32 * i);
    }
    return out;
}

inline std::vector<uint8_t> compact(const RawProof& p) {
    std::vector<uint8_t> out(128);
    g1_encode_compressed(p.a, out.data());
    g2_encode_compressed(p.b, out.data() + 32);
    g1_encode_compressed(p.c, out.data() + 96);
    return out;
}

class TrapdoorSetup {
public:
    TrapdoorSetup(size_t n_public, uint64_t seed) : rng_(seed) {
        alpha_ = fr();
        beta_ = fr();
        gamma_ = fr();
        delta_ = fr();
        for (size_t i = 0; i <= n_public; ++i) {
            ic_.push_back(fr());
        }
    }

    std::string vk_json() const {
        std::string s = "{\"protocol\":\"groth16\",\"curve\":\"bn128\",\"nPublic\":" +
                        std::to_string(ic_.size() - 1) + ",\"vk_alpha_1\":" + g1_json(g1(alpha_)) +
                        ",\"vk_beta_2\":" + g2_json(g2(beta_)) + ",\"vk_gamma_2\":" +
                        g2_json(g2(gamma_)) + ",\"vk_delta_2\":" + g2_json(g2(delta_)) +
                        ",\"IC\":[";
        for (size_t i = 0; i < ic_.size(); ++i) {
            s += (i ? "," : "") + g1_json(g1(ic_[i]));
        }
        return s + "]}";
    }

    std::vector<Fr> random_inputs() {
        std::vector<Fr> xs;
        for (size_t i = 0; i + 1 < ic_.size(); ++i) {
            xs.push_back(fr());
        }
        return xs;
    }

    RawProof prove(const std::vector<Fr>& inputs) {
        Fr sa = fr();
        Fr sb = fr();
        Fr vk_x = ic_[0];
        for (size_t j = 0; j < inputs.size(); ++j) {
            vk_x += inputs[j] * ic_[j + 1];
        }
        Fr sc = (sa * sb - alpha_ * beta_ - gamma_ * vk_x) * delta_.inverse();
        return RawProof{g1(sa), g2(sb), g1(sc)};
    }

    static G1Affine g1(const Fr& k) {
        return G1::from_affine(g1_generator()).mul_vartime(k.to_canonical()).to_affine();
    }
    static G2Affine g2(const Fr& k) {
        return G2::from_affine(g2_generator()).mul_vartime(k.to_canonical()).to_affine();
    }

    Rng& rng() { return rng_; }

private:
    Fr fr() { return Fr::from_canonical_unchecked(rng_.scalar()); }

    Rng rng_;
    Fr alpha_, beta_, gamma_, delta_;
    std::vector<Fr> ic_;
};

}  // namespace testing_util
}  // namespace libverify
