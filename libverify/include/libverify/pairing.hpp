#pragma once
// Optimal ate pairing on BN254: e(P, Q) = f_{6x+2,Q}(P) * l_{[6x+2]Q, pi(Q)}(P)
// * l_{[6x+2]Q + pi(Q), -pi^2(Q)}(P), raised to (p^12 - 1) / r.
//
// All of it is variable time: pairings here only ever see public data.

#include <cstddef>
#include <vector>

#include "libverify/curve.hpp"
#include "libverify/tower.hpp"

namespace libverify {

// A Miller-loop line evaluated at P = (xP, yP) is a*yP + b*xP*w + c*w^3 (up to
// an Fq2 factor, which the final exponentiation removes).
struct LineCoeffs {
    Fq2 a;
    Fq2 b;
    Fq2 c;
};

// A prepared line divided by its coefficient a: at P it evaluates to
// 1 + b (xP / yP) w + c (1 / yP) w^3, the line times 1 / (a yP), a factor in
// Fq2 that the final exponentiation removes. The leading 1 makes the
// multiplication into the Miller-loop accumulator cheaper.
struct NormalisedLine {
    Fq2 b;
    Fq2 c;
};

// A G2 point with all its Miller-loop lines precomputed, for points that are
// paired many times (verifying-key points). The point must lie in G2 (then
// no line has a = 0).
class G2Prepared {
public:
    G2Prepared() = default;  // the point at infinity
    explicit G2Prepared(const G2Affine& q);

    bool is_identity() const { return lines_.empty(); }
    const std::vector<NormalisedLine>& lines() const { return lines_; }

private:
    std::vector<NormalisedLine> lines_;
};

// Product of Miller loops f_i over prepared pairs (p_prep[i], q_prep[i]) and
// unprepared pairs (p_var[i], q_var[i]), sharing the Fq12 squarings, up to a
// factor that the final exponentiation removes (prepared lines are
// normalised). Pairs with a point at infinity contribute 1. G2 inputs must
// lie in G2.
Fq12 multi_miller_loop(const G1Affine* p_prep, const G2Prepared* const* q_prep, size_t n_prep,
                       const G1Affine* p_var, const G2Affine* q_var, size_t n_var);

// f^((p^12 - 1) / r): easy part by Frobenius and one (variable-time)
// inversion, hard part by the Scott et al. addition chain, whose three powers
// f^x run over a width-4 NAF of x with cyclotomic squarings. Public data only.
Fq12 final_exponentiation(const Fq12& f);

Fq12 pairing(const G1Affine& p, const G2Affine& q);

// Whether prod e(ps[i], qs[i]) == 1, with one final exponentiation.
bool pairing_product_is_one(const G1Affine* ps, const G2Affine* qs, size_t n);

}  // namespace libverify
