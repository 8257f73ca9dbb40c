#pragma once
// Groth16 over BN254, compatible with snarkjs (verification_key.json,
// proof.json, public.json) and with the 128-byte compact proof of
// docs/libverify.md.
//
// Every function is noexcept and reports through Status; outputs are written
// only on success. Parsing validates completely (canonical encoding, curve,
// subgroup), so a VerifyingKey or Proof object always holds valid points.
// Verification handles public data only and runs in variable time.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "libverify/curve.hpp"
#include "libverify/field.hpp"
#include "libverify/pairing.hpp"
#include "libverify/status.hpp"

namespace libverify {

constexpr size_t kCompactProofSize = 128;
constexpr size_t kPublicInputSize = 32;
// Keys with more public inputs are refused (bad_length) to bound allocation.
constexpr size_t kMaxPublicInputs = 4096;

class VerifyingKey;
class Proof;
Status groth16_verify(const VerifyingKey& vk, const Proof& proof,
                      const std::vector<Fr>& inputs) noexcept;
Status groth16_verify_batch(const VerifyingKey& vk, const Proof* proofs,
                            const std::vector<Fr>* inputs, size_t n, const uint8_t* seed32,
                            Status* verdicts) noexcept;
Status groth16_verify_json(const VerifyingKey& vk, std::string_view proof_json,
                           std::string_view public_json) noexcept;

class VerifyingKey {
public:
    // snarkjs verification_key.json. Errors: bad_encoding (not JSON, wrong
    // shape, protocol other than "groth16", curve other than "bn128",
    // non-canonical number), bad_length (IC size != nPublic + 1, or nPublic
    // too large), identity_point (alpha, beta, gamma or delta at infinity;
    // IC points may be), not_on_curve, not_in_subgroup. vk_alphabeta_12 is
    // ignored: it is recomputed here.
    static Status from_json(std::string_view json, VerifyingKey& out) noexcept;

    size_t n_public() const noexcept { return ic_.size() - 1; }
    const G1Affine& alpha() const noexcept { return alpha_; }
    const G2Affine& beta() const noexcept { return beta_; }
    const G2Affine& gamma() const noexcept { return gamma_; }
    const G2Affine& delta() const noexcept { return delta_; }
    const std::vector<G1Affine>& ic() const noexcept { return ic_; }
    // e(alpha, beta), in this library's Fq12 representation.
    const Fq12& alpha_beta() const noexcept { return alpha_beta_; }

private:
    friend Status groth16_verify(const VerifyingKey&, const Proof&,
                                 const std::vector<Fr>&) noexcept;
    friend Status groth16_verify_batch(const VerifyingKey&, const Proof*,
                                       const std::vector<Fr>*, size_t, const uint8_t*,
                                       Status*) noexcept;

    G1Affine alpha_;
    G2Affine beta_;
    G2Affine gamma_;
    G2Affine delta_;
    std::vector<G1Affine> ic_{G1Affine::identity()};
    Fq12 alpha_beta_ = Fq12::one();
    G2Prepared neg_beta_;
    G2Prepared neg_gamma_;
    G2Prepared neg_delta_;
    G1MsmTable ic_table_;  // IC[1..]
};

class Proof {
public:
    // snarkjs proof.json. Errors in this order: bad_encoding, identity_point,
    // not_on_curve, not_in_subgroup (each over all three points before the next).
    static Status from_json(std::string_view json, Proof& out) noexcept;
    // A || B || C compressed; bad_length unless exactly 128 bytes, then the
    // same order as from_json.
    static Status from_compact(const uint8_t* data, size_t len, Proof& out) noexcept;
    void to_compact(uint8_t* out128) const noexcept;

    const G1Affine& a() const noexcept { return a_; }
    const G2Affine& b() const noexcept { return b_; }
    const G1Affine& c() const noexcept { return c_; }

private:
    friend Status groth16_verify_json(const VerifyingKey&, std::string_view,
                                      std::string_view) noexcept;

    G1Affine a_;
    G2Affine b_;
    G1Affine c_;
};

// public.json: an array of decimal strings. bad_encoding (not an array of
// canonical decimal strings) before input_out_of_range (a value >= r).
Status public_inputs_from_json(std::string_view json, std::vector<Fr>& out) noexcept;

// Concatenated 32-byte big-endian values. bad_length unless len is a multiple
// of 32; input_out_of_range for a value >= r.
Status public_inputs_from_bytes(const uint8_t* data, size_t len, std::vector<Fr>& out) noexcept;

// e(A, B) == e(alpha, beta) e(IC0 + sum x_i IC_i, gamma) e(C, delta).
// wrong_input_count if inputs.size() != vk.n_public(); else ok or invalid_proof.
Status groth16_verify(const VerifyingKey& vk, const Proof& proof,
                      const std::vector<Fr>& inputs) noexcept;

// One-shot forms that apply the documented order of checks across proof and
// inputs together: length/count, encoding, identity, curve, subgroup, input
// range, pairing.
Status groth16_verify_json(const VerifyingKey& vk, std::string_view proof_json,
                           std::string_view public_json) noexcept;
Status groth16_verify_compact(const VerifyingKey& vk, const uint8_t* proof, size_t proof_len,
                              const uint8_t* inputs, size_t inputs_len) noexcept;

// Verifies n proofs under one key with a random linear combination: one
// multi-Miller loop over n + 3 pairs and one final exponentiation. The 128-bit
// coefficients are BLAKE2b outputs keyed by the caller's 32-byte secret seed
// over a digest of the whole batch, so the library does no I/O; the seed must
// be unpredictable to provers (e.g. fresh randombytes per batch or per process).
// Returns ok iff every proof verifies. Otherwise every proof is verified on
// its own and the status of the first failing one is returned; when verdicts
// is not null it receives each proof's own status (ok, wrong_input_count or
// invalid_proof), in both the success and the failure case.
Status groth16_verify_batch(const VerifyingKey& vk, const Proof* proofs,
                            const std::vector<Fr>* inputs, size_t n, const uint8_t* seed32,
                            Status* verdicts) noexcept;

}  // namespace libverify
