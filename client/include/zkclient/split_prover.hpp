#pragma once
// Split Groth16 proving: everything but one public input ahead of time, the
// rest in about a millisecond once that input is known (docs/prover.md,
// "Split proving").
//
// It applies to a circuit whose witness is affine in one public input t:
// w(t) = base + t * slope for every t, as the credit circuit's witness is
// in the request binding x (only x and signal_y = k + a x depend on it).
// A, B1, B2 and C are linear in w; the quotient is quadratic in t, so its
// sum is H0 + t H1 + t^2 H2 with three precomputed points. The finish is
// five multiplications by the public t and snarkjs's blinding with fresh
// r, s: an ordinary proof, as groth16_prove would make for w(t).
//
// A SplitProof lets anyone who holds it prove the statement for any t:
// for the credit circuit, two proofs for one ticket reveal k. Keep it like
// the witness (locked memory, wiped), and finish it at most once.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "libverify/curve.hpp"
#include "libverify/field.hpp"
#include "libverify/groth16.hpp"
#include "libverify/status.hpp"
#include "zkclient/prover.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient {

using libverify::Fr;
using libverify::Proof;
using libverify::Status;

constexpr size_t kMaxSplitPublicInputs = 16;

// Trivially copyable, so that it can live in sodium_malloc'd memory and be
// wiped with sodium_memzero.
struct SplitProof {
    G1Affine a[2];   // alpha1 + sum base_i A_i,  sum slope_i A_i
    G1Affine b1[2];  // beta1 + sum base_i B1_i,  sum slope_i B1_i
    G2Affine b2[2];  // beta2 + sum base_i B2_i,  sum slope_i B2_i
    G1Affine c[3];   // sum_priv base_i C_i + H0, sum_priv slope_i C_i + H1, H2
    G1Affine delta1;
    G2Affine delta2;
    uint32_t n_public = 0;
    std::array<Fr, kMaxSplitPublicInputs> public_base{};   // base[1 .. n_public]
    std::array<Fr, kMaxSplitPublicInputs> public_slope{};  // slope[1 .. n_public]
};

// Precomputes the proof for w(t) = base + t * slope (two witnesses of the
// key's size; the caller makes sure the witness really is affine in t, e.g.
// from w(0), w(1) and a check at a third point). bad_length for a wrong
// size or more than kMaxSplitPublicInputs public inputs, bad_encoding when
// base[0] != 1 or slope[0] != 0, internal_error on allocation failure.
// Wipes every temporary. threads as for groth16_prove.
Status split_precompute(const ProvingKey& key, const std::vector<Fr>& base,
                        const std::vector<Fr>& slope, SplitProof& out,
                        unsigned threads = 0) noexcept;

// The proof for w(t) with fresh r, s, and its public inputs
// (base + t * slope)[1 .. n_public]. internal_error if the points fail
// libverify's checks (a corrupted SplitProof).
Status split_finish(const SplitProof& split, const Fr& t, Proof& proof,
                    std::vector<Fr>& public_inputs) noexcept;

namespace prover_steps {

// The finish's corrections: the sums of groth16_prove for w(t), by four G1
// and one G2 multiplication by t (variable time: t is public).
UnblindedProof split_sums(const SplitProof& split, const Fr& t);

// split_finish with the caller's r and s: with the same r, s and witness
// w(t) it gives the very proof groth16_prove_blinded gives (tests).
Status split_finish_blinded(const SplitProof& split, const Fr& t, const Fr& r, const Fr& s,
                            Proof& proof, std::vector<Fr>& public_inputs) noexcept;

// The three coset evaluations whose H sums are H0, H1, H2:
// with A(t) = A0 + t Ad (and B, C = A * B pointwise on the domain likewise)
// and hats for the odd coset's values,
//   h0 = ^A0 ^B0 - ^(A0 B0),
//   h1 = ^A0 ^Bd + ^Ad ^B0 - ^(A0 Bd + Ad B0),
//   h2 = ^Ad ^Bd - ^(Ad Bd).
// Exposed for the benchmarks and tests.
std::array<std::vector<Fr>, 3> split_quotient(const ProvingKey& key, const std::vector<Fr>& base,
                                              const std::vector<Fr>& slope);

}  // namespace prover_steps

}  // namespace zkclient
