#pragma once
// Groth16 prover over BN254 for snarkjs proving keys, computing exactly what
// snarkjs's groth16_prove computes (with fresh r and s), so its proofs
// verify under snarkjs and libverify alike.
//
// The prover handles the user's secrets (the witness) and runs in variable
// time in the multi-scalar multiplications and FFTs, like snarkjs and
// rapidsnark: it is meant for the user's own machine, not for a shared
// service that an attacker can time. The blinding factors r and s are used
// with constant-time scalar multiplication and wiped.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <sodium.h>

#include "libverify/curve.hpp"
#include "libverify/field.hpp"
#include "libverify/groth16.hpp"
#include "libverify/status.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient {

using libverify::Fr;
using libverify::G1;
using libverify::G2;
using libverify::Limbs;
using libverify::Proof;
using libverify::Status;

// Builds a proof for the witness (circom wire order, witness[0] == 1) and
// returns the public inputs (witness[1 .. n_public]). bad_length when the
// witness size is not key.n_vars(), bad_encoding when witness[0] != 1,
// internal_error on allocation failure. A witness that does not satisfy the
// circuit yields a proof that fails verification; callers that need to know
// verify it (libverify::groth16_verify, about a millisecond).
// threads: how many threads share the five MSMs and the FFTs; 0 means
// std::thread::hardware_concurrency(). The result does not depend on it.
Status groth16_prove(const ProvingKey& key, const std::vector<Fr>& witness, Proof& proof,
                     std::vector<Fr>& public_inputs, unsigned threads = 0) noexcept;

// snarkjs's proof.json and public.json texts (projective coordinates with
// z = 1, decimal strings), e.g. for snarkjs.groth16.verify.
std::string proof_to_json(const Proof& proof);
std::string public_inputs_to_json(const std::vector<Fr>& inputs);

// The steps of groth16_prove, exposed for the benchmarks and tests.
namespace prover_steps {

// Radix-2 FFT over the 2^power-th roots of unity of ffjavascript (w_k =
// 5^((r-1)/2^28) squared 28-k times), in place, natural order in and out.
class FftDomain {
public:
    explicit FftDomain(uint32_t power);
    size_t size() const { return size_t{1} << power_; }
    // values[i] <- sum_j values[j] w^(ij)
    void fft(Fr* values) const;
    // values[i] <- n^-1 sum_j values[j] w^(-ij)
    void ifft(Fr* values) const;
    // From the values at the domain's points to the values at its coset
    // shift * w^i: ifft, coefficient i times shift^i, fft, without the two
    // bit-reversal permutations.
    void to_coset(Fr* values) const;
    // The 2^(power+1)-th root of unity that shifts the domain onto its odd
    // points (snarkjs's "inc"), or ffjavascript's shift when power is 28.
    const Fr& coset_shift() const { return coset_shift_; }

private:
    // Decimation in frequency: natural order in, bit-reversed out.
    void dif(Fr* values, const std::vector<Fr>& twiddles) const;
    // Decimation in time: bit-reversed in, natural order out.
    void dit(Fr* values, const std::vector<Fr>& twiddles) const;
    void bit_reverse(Fr* values) const;

    uint32_t power_;
    std::vector<Fr> twiddles_;          // w^i, i < n/2
    std::vector<Fr> inverse_twiddles_;  // w^-i, i < n/2
    Fr size_inverse_;
    Fr coset_shift_;
    std::vector<Fr> coset_factors_;  // shift^i / n at bit-reversed position i
};

// Root of unity of order 2^k (k <= 28) as ffjavascript defines it.
Fr root_of_unity(uint32_t k);

// The evaluations of A, B, C over the domain, built from the key's
// coefficient section; C = A * B pointwise as in snarkjs.
void evaluate_abc(const ProvingKey& key, const std::vector<Fr>& witness, std::vector<Fr>& a,
                  std::vector<Fr>& b, std::vector<Fr>& c);

// The H scalars: (A B - C) at the odd points of the doubled domain, i.e.
// after to_coset of each of A, B, C. Consumes (and wipes) a, b and c.
std::vector<Fr> compute_h(const FftDomain& domain, std::vector<Fr>& a, std::vector<Fr>& b,
                          std::vector<Fr>& c);

// sum scalars[i] * bases[i] by Pippenger's bucket method with signed
// windows; scalars are canonical integers below r (variable time). Each
// scalar is first split in two halves of 127 bits by an endomorphism: GLV
// on G1 ((x, y) -> (beta x, y)), GLS on G2 (psi, the multiplication by
// p mod r = 6u^2).
G1 g1_msm(const libverify::G1Affine* bases, const Limbs* scalars, size_t n);
G2 g2_msm(const libverify::G2Affine* bases, const Limbs* scalars, size_t n);

// Runs each task once on up to `threads` threads (this one included);
// rethrows the first exception a task threw once all have stopped.
void run_tasks(const std::vector<std::function<void()>>& tasks, unsigned threads);
// `threads`, or std::thread::hardware_concurrency() for 0.
unsigned thread_count(unsigned threads);
std::vector<Limbs> canonical_scalars(const std::vector<Fr>& values);

template <class T>
void wipe_vector(std::vector<T>& v) noexcept {
    if (!v.empty()) {
        sodium_memzero(v.data(), v.size() * sizeof(T));
    }
}

// A proof's sums before the blinding r, s: A = alpha1 + sum w_i A_i,
// B = beta2 + sum w_i B2_i, B1 = beta1 + sum w_i B1_i,
// C = sum_{i > nPublic} w_i C_i + sum h_i H_i.
struct UnblindedProof {
    G1 a;
    G2 b;
    G1 b1;
    G1 c;
};
// The four sums for a witness of the key's size (unchecked); the five MSMs
// and the FFTs on up to `threads` threads (0: every hardware thread).
UnblindedProof unblinded_sums(const ProvingKey& key, const std::vector<Fr>& witness,
                              unsigned threads);
// The Groth16 proof of the sums with blinding r, s (constant time in r, s):
// pi_A = A + r delta1, pi_B = B + s delta2, pi_C = C + s A + r B1 + r s delta1.
// internal_error if a point fails libverify's checks.
Status blind_proof(const libverify::G1Affine& delta1, const libverify::G2Affine& delta2,
                   const UnblindedProof& sums, const Fr& r, const Fr& s, Proof& out) noexcept;
// Uniform in Fr from 64 bytes of randombytes_buf.
Fr random_scalar() noexcept;
// groth16_prove with the caller's r and s (tests compare provers with it).
Status groth16_prove_blinded(const ProvingKey& key, const std::vector<Fr>& witness, const Fr& r,
                             const Fr& s, Proof& proof, std::vector<Fr>& public_inputs,
                             unsigned threads = 0) noexcept;

}  // namespace prover_steps

}  // namespace zkclient
