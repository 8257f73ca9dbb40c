#pragma once
// BN254 groups: G1 = E(Fq): y^2 = x^3 + 3, prime order r, and G2, the order-r
// subgroup of the sextic twist E'(Fq2): y^2 = x^3 + 3/(9+u), in Jacobian
// coordinates (x = X/Z^2, y = Y/Z^3), plus the compressed codecs of
// docs/libverify.md.
//
// Functions without a _vartime suffix run in constant time with respect to
// their inputs' values (scalars included); _vartime ones branch and are for
// public data only, such as proofs, keys and public inputs.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "libverify/field.hpp"
#include "libverify/status.hpp"
#include "libverify/tower.hpp"

namespace libverify {

// The BN parameter x of BN254: p and r are polynomials in x.
constexpr uint64_t kBn254X = 4965661367192848881ULL;

struct G1Curve {
    using Base = Fq;
    static Fq b() { return Fq::from_mont_limbs(kB); }
    // 3 in Montgomery form.
    static constexpr Limbs kB = {0x7a17caa950ad28d7ULL, 0x1f6ac17ae15521b9ULL,
                                 0x334bea4e696bd284ULL, 0x2a1f6744ce179d8eULL};
};

struct G2Curve {
    using Base = Fq2;
    // 3 / (9 + u), Montgomery form.
    static Fq2 b() {
        return Fq2{Fq::from_mont_limbs({0x3bf938e377b802a8ULL, 0x020b1b273633535dULL,
                                        0x26b7edf049755260ULL, 0x2514c6324384a86dULL}),
                   Fq::from_mont_limbs({0x38e7ecccd1dcff67ULL, 0x65f0b37d93ce0d3eULL,
                                        0xd749d0dd22ac00aaULL, 0x0141b9ce4a688d4dULL})};
    }
};

template <class Curve>
struct AffinePoint {
    using F = typename Curve::Base;
    F x = F::zero();
    F y = F::zero();
    bool infinity = true;

    static AffinePoint identity() { return AffinePoint{}; }
    static AffinePoint from_xy(const F& x_in, const F& y_in) {
        return AffinePoint{x_in, y_in, false};
    }

    bool is_on_curve() const { return infinity || y.square() == x.square() * x + Curve::b(); }
    AffinePoint neg() const { return AffinePoint{x, -y, infinity}; }

    bool operator==(const AffinePoint& o) const {
        if (infinity || o.infinity) {
            return infinity == o.infinity;
        }
        return x == o.x && y == o.y;
    }
    bool operator!=(const AffinePoint& o) const { return !(*this == o); }
};

template <class Curve>
class JacobianPoint {
public:
    using F = typename Curve::Base;
    using Affine = AffinePoint<Curve>;

    F x = F::one();
    F y = F::one();
    F z = F::zero();

    static JacobianPoint identity() { return JacobianPoint{}; }

    static JacobianPoint from_affine(const Affine& a) {
        JacobianPoint p;
        p.x = F::select(a.infinity, a.x, F::one());
        p.y = F::select(a.infinity, a.y, F::one());
        p.z = F::select(a.infinity, F::one(), F::zero());
        return p;
    }

    bool is_identity() const { return z.is_zero(); }

    // Constant time (one field inversion).
    Affine to_affine() const {
        F zi = z.inverse();
        F zi2 = zi.square();
        Affine a;
        a.x = x * zi2;
        a.y = y * zi2 * zi;
        a.infinity = is_identity();
        a.x = F::select(a.infinity, a.x, F::zero());
        a.y = F::select(a.infinity, a.y, F::zero());
        return a;
    }

    JacobianPoint neg() const {
        JacobianPoint p = *this;
        p.y = -p.y;
        return p;
    }

    bool is_on_curve() const {
        F z2 = z.square();
        F z6 = z2.square() * z2;
        return is_identity() || y.square() == x.square() * x + Curve::b() * z6;
    }

    bool operator==(const JacobianPoint& o) const {
        bool id_a = is_identity();
        bool id_b = o.is_identity();
        F z1z1 = z.square();
        F z2z2 = o.z.square();
        bool same_x = x * z2z2 == o.x * z1z1;
        bool same_y = y * z2z2 * o.z == o.y * z1z1 * z;
        return detail::ct_or(detail::ct_and(id_a, id_b),
                             detail::ct_and(detail::ct_and(!id_a, !id_b),
                                            detail::ct_and(same_x, same_y)));
    }
    bool operator!=(const JacobianPoint& o) const { return !(*this == o); }

    // dbl-2009-l (a = 0); the identity maps to itself since Z3 = 2 Y Z.
    JacobianPoint dbl() const {
        F a = x.square();
        F b = y.square();
        F c = b.square();
        F d = ((x + b).square() - a - c).dbl();
        F e = a.dbl() + a;
        F f = e.square();
        JacobianPoint r;
        r.x = f - d.dbl();
        r.y = e * (d - r.x) - c.dbl().dbl().dbl();
        r.z = (y * z).dbl();
        return r;
    }

    // Complete addition in constant time: computes the generic sum (add-2007-bl)
    // and the doubling, then selects according to the exceptional cases.
    JacobianPoint add(const JacobianPoint& o) const {
        F z1z1 = z.square();
        F z2z2 = o.z.square();
        F u1 = x * z2z2;
        F u2 = o.x * z1z1;
        F s1 = y * o.z * z2z2;
        F s2 = o.y * z * z1z1;
        F h = u2 - u1;
        F i = h.dbl().square();
        F j = h * i;
        F rr = (s2 - s1).dbl();
        F v = u1 * i;
        JacobianPoint sum;
        sum.x = rr.square() - j - v.dbl();
        sum.y = rr * (v - sum.x) - (s1 * j).dbl();
        sum.z = ((z + o.z).square() - z1z1 - z2z2) * h;

        bool same_x = h.is_zero();
        bool same_y = rr.is_zero();
        bool a_id = is_identity();
        bool b_id = o.is_identity();
        JacobianPoint doubled = dbl();
        JacobianPoint r = select(detail::ct_and(same_x, same_y), sum, doubled);
        r = select(detail::ct_and(same_x, !same_y), r, identity());
        r = select(b_id, r, *this);
        r = select(a_id, r, o);
        return r;
    }

    JacobianPoint add_vartime(const JacobianPoint& o) const {
        if (is_identity()) {
            return o;
        }
        if (o.is_identity()) {
            return *this;
        }
        F z1z1 = z.square();
        F z2z2 = o.z.square();
        F u1 = x * z2z2;
        F u2 = o.x * z1z1;
        F s1 = y * o.z * z2z2;
        F s2 = o.y * z * z1z1;
        F h = u2 - u1;
        F rr = (s2 - s1).dbl();
        if (h.is_zero()) {
            return rr.is_zero() ? dbl() : identity();
        }
        F i = h.dbl().square();
        F j = h * i;
        F v = u1 * i;
        JacobianPoint r;
        r.x = rr.square() - j - v.dbl();
        r.y = rr * (v - r.x) - (s1 * j).dbl();
        r.z = ((z + o.z).square() - z1z1 - z2z2) * h;
        return r;
    }

    // madd-2007-bl: the other point affine.
    JacobianPoint add_mixed_vartime(const Affine& o) const {
        if (o.infinity) {
            return *this;
        }
        if (is_identity()) {
            return from_affine(o);
        }
        F z1z1 = z.square();
        F u2 = o.x * z1z1;
        F s2 = o.y * z * z1z1;
        F h = u2 - x;
        F rr = (s2 - y).dbl();
        if (h.is_zero()) {
            return rr.is_zero() ? dbl() : identity();
        }
        F hh = h.square();
        F i = hh.dbl().dbl();
        F j = h * i;
        F v = x * i;
        JacobianPoint r;
        r.x = rr.square() - j - v.dbl();
        r.y = rr * (v - r.x) - (y * j).dbl();
        r.z = (z + h).square() - z1z1 - hh;
        return r;
    }

    static JacobianPoint select(bool choose_b, const JacobianPoint& a, const JacobianPoint& b) {
        JacobianPoint r;
        r.x = F::select(choose_b, a.x, b.x);
        r.y = F::select(choose_b, a.y, b.y);
        r.z = F::select(choose_b, a.z, b.z);
        return r;
    }

    // Constant time in the scalar (any 256-bit value): fixed 4-bit windows,
    // table lookups that touch every entry, complete additions.
    JacobianPoint mul(const Limbs& k) const {
        JacobianPoint table[16];
        table[0] = identity();
        table[1] = *this;
        for (int i = 2; i < 16; ++i) {
            table[i] = (i % 2 == 0) ? table[i / 2].dbl() : table[i - 1].add(*this);
        }
        JacobianPoint acc = identity();
        for (int window = 63; window >= 0; --window) {
            for (int d = 0; d < 4; ++d) {
                acc = acc.dbl();
            }
            unsigned digit = static_cast<unsigned>((k[window / 16] >> (4 * (window % 16))) & 15);
            JacobianPoint chosen = identity();
            for (unsigned i = 0; i < 16; ++i) {
                chosen = select(detail::launder(i ^ digit) == 0, chosen, table[i]);
            }
            acc = acc.add(chosen);
        }
        return acc;
    }

    // Width-5 wNAF; public scalars only.
    JacobianPoint mul_vartime(const Limbs& k) const;
};

using G1Affine = AffinePoint<G1Curve>;
using G2Affine = AffinePoint<G2Curve>;
using G1 = JacobianPoint<G1Curve>;
using G2 = JacobianPoint<G2Curve>;

// Signed width-w NAF digits of a 256-bit scalar, least significant first;
// every nonzero digit is odd with |d| < 2^(w-1).
std::vector<int8_t> wnaf_digits(const Limbs& k, int w);

// Converts many points to affine with one inversion (public data).
template <class Curve>
void batch_to_affine_vartime(const JacobianPoint<Curve>* in, size_t n, AffinePoint<Curve>* out);

template <class Curve>
JacobianPoint<Curve> JacobianPoint<Curve>::mul_vartime(const Limbs& k) const {
    constexpr int kWindow = 5;
    JacobianPoint odd[1 << (kWindow - 2)];
    odd[0] = *this;
    JacobianPoint twice = dbl();
    for (int i = 1; i < (1 << (kWindow - 2)); ++i) {
        odd[i] = odd[i - 1].add_vartime(twice);
    }
    std::vector<int8_t> digits = wnaf_digits(k, kWindow);
    JacobianPoint acc = identity();
    for (size_t i = digits.size(); i-- > 0;) {
        acc = acc.dbl();
        int d = digits[i];
        if (d > 0) {
            acc = acc.add_vartime(odd[d / 2]);
        } else if (d < 0) {
            acc = acc.add_vartime(odd[-d / 2].neg());
        }
    }
    return acc;
}

template <class Curve>
void batch_to_affine_vartime(const JacobianPoint<Curve>* in, size_t n, AffinePoint<Curve>* out) {
    using F = typename Curve::Base;
    std::vector<F> prefix(n);
    F acc = F::one();
    for (size_t i = 0; i < n; ++i) {
        prefix[i] = acc;
        if (!in[i].is_identity()) {
            acc = acc * in[i].z;
        }
    }
    F inv = acc.inverse_vartime();
    for (size_t i = n; i-- > 0;) {
        if (in[i].is_identity()) {
            out[i] = AffinePoint<Curve>::identity();
            continue;
        }
        F zi = inv * prefix[i];
        inv = inv * in[i].z;
        F zi2 = zi.square();
        out[i] = AffinePoint<Curve>::from_xy(in[i].x * zi2, in[i].y * zi2 * zi);
    }
}

// Precomputed affine odd multiples of fixed G1 bases (e.g. a verifying key's
// IC points) for variable-time multi-scalar multiplication by public scalars.
//
// With chunks > 1, a scalar k = sum_j k_j 2^(c j), c = 256 / chunks, is cut
// into c-bit pieces and the table also holds the odd multiples of the bases
// [2^(c j)] P for j > 0, so that k P = sum_j k_j ([2^(c j)] P): the MSM then
// runs c shared doublings instead of 256, for the same number of additions.
// For fixed bases this gives what the GLV endomorphism gives (two half-size
// scalars) without a scalar decomposition, and splits further.
class G1MsmTable {
public:
    G1MsmTable() = default;
    // window in [2, 8]: each base and chunk stores 2^(window-2) affine
    // points; chunks is 1, 2 or 4 (anything else is taken as 1).
    G1MsmTable(const std::vector<G1Affine>& bases, int window, int chunks = 1);

    size_t size() const { return n_bases_; }

    // sum scalars[i] * bases[i]; scalars are canonical 256-bit integers.
    G1 msm_vartime(const Limbs* scalars, size_t n) const;

private:
    size_t n_bases_ = 0;
    int window_ = 2;
    int chunks_ = 1;
    // n_bases_ * chunks_ rows of 2^(window_-2) points: row b * chunks_ + j
    // holds the odd multiples of [2^(256 j / chunks_)] bases[b].
    std::vector<G1Affine> odd_multiples_;
};

// sum scalars[i] * bases[i] for public data (Straus with width-5 wNAF).
G1 g1_msm_vartime(const G1Affine* bases, const Limbs* scalars, size_t n);

// The untwist-Frobenius-twist endomorphism psi of E'(Fq2); on G2 it acts as
// multiplication by p.
G2 g2_psi(const G2& q);

// Subgroup membership for points on the twist, via
// [x+1]Q + psi([x]Q) + psi^2([x]Q) == psi^3([2x]Q) with x the BN parameter
// (El Housni-Guillevic-Piellard 2022); tests compare it with [r]Q == O.
bool g2_in_subgroup_vartime(const G2& q);

G1Affine g1_generator();
G2Affine g2_generator();

// Compressed encodings (docs/libverify.md). Decoders check in the order
// bad_encoding, not_on_curve, not_in_subgroup (G2), accept the point at
// infinity, and write out only on success.
Status g1_decode_compressed(const uint8_t* in32, G1Affine& out) noexcept;
void g1_encode_compressed(const G1Affine& p, uint8_t* out32) noexcept;
Status g2_decode_compressed(const uint8_t* in64, G2Affine& out) noexcept;
void g2_encode_compressed(const G2Affine& p, uint8_t* out64) noexcept;

}  // namespace libverify
