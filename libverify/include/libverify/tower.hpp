#pragma once
// The BN254 extension tower used by the pairing:
//   Fq2  = Fq[u]  / (u^2 + 1)
//   Fq6  = Fq2[v] / (v^3 - xi),  xi = 9 + u
//   Fq12 = Fq6[w] / (w^2 - v)
// This is the tower of EIP-197 and of snarkjs/ffjavascript, so coefficients
// line up one to one with snarkjs's JSON (c0 before c1 at every level).
//
// Arithmetic is constant time like Field; only pow_vartime and the
// *_vartime helpers branch on their inputs.

#include <cstddef>
#include <cstdint>

#include "libverify/field.hpp"

namespace libverify {

// An Fq2 element with double-width coefficients, each a residue modulo
// N = p 2^256 (see FieldWide): unreduced products that the tower adds and
// subtracts before one reduction per coefficient.
struct Fq2Wide {
    FqWide c0;
    FqWide c1;

    LIBVERIFY_INLINE Fq2Wide operator+(const Fq2Wide& o) const {
        return Fq2Wide{c0 + o.c0, c1 + o.c1};
    }
    LIBVERIFY_INLINE Fq2Wide operator-(const Fq2Wide& o) const {
        return Fq2Wide{c0 - o.c0, c1 - o.c1};
    }

    // Multiplication by xi = 9 + u, (9a - b) + (a + 9b)u, all mod N.
    LIBVERIFY_INLINE Fq2Wide mul_by_xi() const {
        FqWide a9 = c0.dbl().dbl().dbl() + c0;
        FqWide b9 = c1.dbl().dbl().dbl() + c1;
        return Fq2Wide{a9 - c1, c0 + b9};
    }

    // One Montgomery reduction per coefficient.
    LIBVERIFY_INLINE struct Fq2 reduce() const;
};

struct Fq2 {
    Fq c0;
    Fq c1;

    static Fq2 zero() { return Fq2{Fq::zero(), Fq::zero()}; }
    static Fq2 one() { return Fq2{Fq::one(), Fq::zero()}; }

    LIBVERIFY_INLINE Fq2 operator+(const Fq2& o) const { return Fq2{c0 + o.c0, c1 + o.c1}; }
    LIBVERIFY_INLINE Fq2 operator-(const Fq2& o) const { return Fq2{c0 - o.c0, c1 - o.c1}; }
    Fq2 operator-() const { return Fq2{-c0, -c1}; }
    LIBVERIFY_INLINE Fq2 dbl() const { return Fq2{c0.dbl(), c1.dbl()}; }
    Fq2& operator+=(const Fq2& o) { return *this = *this + o; }
    Fq2& operator-=(const Fq2& o) { return *this = *this - o; }
    Fq2& operator*=(const Fq2& o) { return *this = *this * o; }

    // Karatsuba with double-width products: three base products and two
    // reductions. The sums feeding the third product stay unreduced (below
    // 2p, so the product is below 4p^2 < N). The imaginary part
    // (a0 + a1)(b0 + b1) - a0 b0 - a1 b1 = a0 b1 + a1 b0 is a plain
    // non-negative integer below 2p^2; the real part a0 b0 - a1 b1 is taken
    // mod N. Operands must be reduced.
    LIBVERIFY_INLINE Fq2Wide mul_wide(const Fq2& o) const {
        FqWide v0 = FqWide::mul(c0, o.c0);
        FqWide v1 = FqWide::mul(c1, o.c1);
        FqWide cross = FqWide::mul(c0.add_unreduced(c1), o.c0.add_unreduced(o.c1));
        return Fq2Wide{v0 - v1, cross.sub_no_wrap(v0).sub_no_wrap(v1)};
    }

    // (a + bu)^2 = (a + b)(a - b) + 2ab u: two double-width products, each
    // below 2p^2.
    LIBVERIFY_INLINE Fq2Wide square_wide() const {
        FqWide ab = FqWide::mul(c0, c1);
        return Fq2Wide{FqWide::mul(c0.add_unreduced(c1), c0 - c1), ab.add_no_wrap(ab)};
    }

    LIBVERIFY_INLINE Fq2 operator*(const Fq2& o) const;
    LIBVERIFY_INLINE Fq2 square() const;

    LIBVERIFY_INLINE Fq2 mul_fq(const Fq& s) const { return Fq2{c0 * s, c1 * s}; }

    // Multiplication by xi = 9 + u: (9a - b) + (a + 9b)u.
    LIBVERIFY_INLINE Fq2 mul_by_xi() const {
        Fq a9 = c0.dbl().dbl().dbl() + c0;
        Fq b9 = c1.dbl().dbl().dbl() + c1;
        return Fq2{a9 - c1, c0 + b9};
    }

    // The p-power Frobenius of Fq2 is conjugation.
    Fq2 conj() const { return Fq2{c0, -c1}; }

    // Constant time; the inverse of zero is zero.
    Fq2 inverse() const { return times_norm_inverse((c0.square() + c1.square()).inverse()); }
    Fq2 inverse_vartime() const {
        return times_norm_inverse((c0.square() + c1.square()).inverse_vartime());
    }

    bool is_zero() const { return detail::ct_and(c0.is_zero(), c1.is_zero()); }
    bool operator==(const Fq2& o) const { return detail::ct_and(c0 == o.c0, c1 == o.c1); }
    bool operator!=(const Fq2& o) const { return !(*this == o); }

    static Fq2 select(bool choose_b, const Fq2& a, const Fq2& b) {
        return Fq2{Fq::select(choose_b, a.c0, b.c0), Fq::select(choose_b, a.c1, b.c1)};
    }

private:
    // conj(x) / N(x), given 1 / N(x).
    Fq2 times_norm_inverse(const Fq& norm_inv) const {
        return Fq2{c0 * norm_inv, -(c1 * norm_inv)};
    }
};

LIBVERIFY_INLINE Fq2 Fq2Wide::reduce() const { return Fq2{c0.reduce(), c1.reduce()}; }
LIBVERIFY_INLINE Fq2 Fq2::operator*(const Fq2& o) const { return mul_wide(o).reduce(); }
LIBVERIFY_INLINE Fq2 Fq2::square() const { return square_wide().reduce(); }

struct Fq6 {
    Fq2 c0;
    Fq2 c1;
    Fq2 c2;

    static Fq6 zero() { return Fq6{Fq2::zero(), Fq2::zero(), Fq2::zero()}; }
    static Fq6 one() { return Fq6{Fq2::one(), Fq2::zero(), Fq2::zero()}; }

    Fq6 operator+(const Fq6& o) const { return Fq6{c0 + o.c0, c1 + o.c1, c2 + o.c2}; }
    Fq6 operator-(const Fq6& o) const { return Fq6{c0 - o.c0, c1 - o.c1, c2 - o.c2}; }
    Fq6 operator-() const { return Fq6{-c0, -c1, -c2}; }
    Fq6 dbl() const { return Fq6{c0.dbl(), c1.dbl(), c2.dbl()}; }

    // Karatsuba over three coefficients: six Fq2 multiplications.
    Fq6 operator*(const Fq6& o) const;

    // Chung-Hasan SQR2: two multiplications and three squarings in Fq2.
    Fq6 square() const;

    // Multiplication by v: (c0, c1, c2) -> (xi c2, c0, c1).
    Fq6 mul_by_v() const { return Fq6{c2.mul_by_xi(), c0, c1}; }

    Fq6 mul_fq2(const Fq2& s) const { return Fq6{c0 * s, c1 * s, c2 * s}; }

    // Multiplication by the sparse element d0 + d1 v: five Fq2 multiplications.
    Fq6 mul_by_01(const Fq2& d0, const Fq2& d1) const;

    Fq6 inverse() const;
    Fq6 inverse_vartime() const;

    bool is_zero() const {
        return detail::ct_and(detail::ct_and(c0.is_zero(), c1.is_zero()), c2.is_zero());
    }
    bool operator==(const Fq6& o) const {
        return detail::ct_and(detail::ct_and(c0 == o.c0, c1 == o.c1), c2 == o.c2);
    }
    bool operator!=(const Fq6& o) const { return !(*this == o); }
};

struct Fq12 {
    Fq6 c0;
    Fq6 c1;

    static Fq12 zero() { return Fq12{Fq6::zero(), Fq6::zero()}; }
    static Fq12 one() { return Fq12{Fq6::one(), Fq6::zero()}; }

    Fq12 operator+(const Fq12& o) const { return Fq12{c0 + o.c0, c1 + o.c1}; }
    Fq12 operator-(const Fq12& o) const { return Fq12{c0 - o.c0, c1 - o.c1}; }

    Fq12 operator*(const Fq12& o) const;
    Fq12& operator*=(const Fq12& o) { return *this = *this * o; }

    // (a + bw)^2 = (a + b)(a + bv) - ab - abv + 2ab w.
    Fq12 square() const;

    // The p^6-power Frobenius; the inverse on the cyclotomic subgroup.
    Fq12 conj() const { return Fq12{c0, -c1}; }

    Fq12 inverse() const;
    Fq12 inverse_vartime() const;

    // Multiplication by a Miller-loop line l = d0 + (d1 + d2 v) w, i.e. the
    // sparse element with nonzero coefficients at 1, w and w^3.
    Fq12 mul_by_line(const Fq2& d0, const Fq2& d1, const Fq2& d2) const;

    // Multiplication by a line with d0 = 1: (c0 + c1 w)(1 + D w) with
    // D = d1 + d2 v is (c0 + c1 D v) + (c1 + c0 D) w, ten Fq2 multiplications
    // against thirteen.
    Fq12 mul_by_normalised_line(const Fq2& d1, const Fq2& d2) const;

    // x^(p^k) for k = 1, 2, 3, with precomputed constants xi^(k (p^n - 1) / 6).
    Fq12 frobenius(int k) const;

    // Granger-Scott squaring; correct only on the cyclotomic subgroup
    // (elements after the easy part of the final exponentiation).
    Fq12 cyclotomic_square() const;

    Fq12 pow_vartime(const uint64_t* exponent_limbs, size_t n_limbs) const;

    bool is_one() const { return *this == one(); }
    bool operator==(const Fq12& o) const { return detail::ct_and(c0 == o.c0, c1 == o.c1); }
    bool operator!=(const Fq12& o) const { return !(*this == o); }
};

// Square roots in Fq (p = 3 mod 4) and Fq2, for public values (point
// decompression); false when none exists, and then out is untouched. The root
// returned is one of the two; callers pick the sign.
bool fq_sqrt_vartime(const Fq& a, Fq& out);
bool fq2_sqrt_vartime(const Fq2& a, Fq2& out);

// Parity of the canonical integer, the G1 y_sign bit.
inline bool fq_is_odd(const Fq& a) { return (a.to_canonical()[0] & 1) != 0; }

// sgn0 of RFC 9380 section 4.1 for m = 2, the G2 y_sign bit.
inline bool fq2_sgn0(const Fq2& a) {
    bool sign0 = fq_is_odd(a.c0);
    bool zero0 = a.c0.is_zero();
    bool sign1 = fq_is_odd(a.c1);
    return detail::ct_or(sign0, detail::ct_and(zero0, sign1));
}

namespace tower_constants {
// gamma1[k] = xi^(k (p - 1) / 6), gamma2[k] = xi^(k (p^2 - 1) / 6) (in Fq),
// gamma3[k] = xi^(k (p^3 - 1) / 6), for k = 0..5 (k = 0 is one).
extern const Fq2 kGamma1[6];
extern const Fq kGamma2[6];
extern const Fq2 kGamma3[6];
}  // namespace tower_constants

}  // namespace libverify
