#pragma once
// Baby Jubjub as circomlib/circomlibjs define it: the twisted Edwards curve
// a x^2 + y^2 = 1 + d x^2 y^2 over Fr (BN254's scalar field) with
// a = 168700, d = 168696, order 8 l, and Base8 generating the order-l
// subgroup. a is a square and d is not, so the addition law used here is
// complete: no input needs special-casing, which keeps scalar
// multiplication branch-free.

#include <cstddef>
#include <cstdint>

#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace libverify {

// l = 2736030358979909402780800718157159386076813972158567259200215660948447373041
struct BabyJubScalarParams {
    static constexpr Limbs modulus = {0x677297dc392126f1ULL, 0xab3eedb83920ee0aULL,
                                      0x370a08b6d0302b0bULL, 0x060c89ce5c263405ULL};
};
using BabyJubScalar = Field<BabyJubScalarParams>;

constexpr size_t kBabyJubPackedBytes = 32;

struct BabyJubAffine {
    Fr x;
    Fr y;
};

// Extended twisted Edwards coordinates (X : Y : T : Z), x = X/Z, y = Y/Z,
// x y = T/Z. Everything is constant time unless marked _vartime.
class BabyJubPoint {
public:
    static BabyJubPoint identity() noexcept;
    static BabyJubPoint base8() noexcept;
    // No check: callers validate with baby_jub_check first.
    static BabyJubPoint from_affine(const BabyJubAffine& p) noexcept;
    BabyJubAffine to_affine() const noexcept;

    BabyJubPoint operator+(const BabyJubPoint& o) const noexcept;
    BabyJubPoint operator-() const noexcept;
    BabyJubPoint dbl() const noexcept;
    bool operator==(const BabyJubPoint& o) const noexcept;
    bool is_identity() const noexcept;
    static BabyJubPoint select(bool choose_b, const BabyJubPoint& a,
                               const BabyJubPoint& b) noexcept;

    // k * this for any 256-bit k (little-endian limbs), constant time in k.
    BabyJubPoint mul(const Limbs& k) const noexcept;
    // k * Base8 for any 256-bit k, constant time in k, from a precomputed
    // table (built once, on first use; 128 KiB).
    static BabyJubPoint mul_base8(const Limbs& k) noexcept;
    // For public scalars only.
    BabyJubPoint mul_vartime(const Limbs& k) const noexcept;
    // a * p + b * q, for public scalars and points only.
    static BabyJubPoint double_mul_vartime(const Limbs& a, const BabyJubPoint& p,
                                           const Limbs& b, const BabyJubPoint& q) noexcept;
    bool in_subgroup_vartime() const noexcept;

private:
    Fr x_, y_, t_, z_;
};

bool baby_jub_is_on_curve(const BabyJubAffine& p) noexcept;

// ok, not_on_curve, or not_in_subgroup (l * p != identity). Variable time:
// for public points.
Status baby_jub_check(const BabyJubAffine& p) noexcept;

// circomlibjs babyJub.packPoint: y as 32 little-endian bytes, and the top bit
// of the last byte set when x > (r - 1) / 2.
void baby_jub_pack(const BabyJubAffine& p, uint8_t out[kBabyJubPackedBytes]) noexcept;

// circomlibjs babyJub.unpackPoint, stricter: y must be canonical (< r; the
// JavaScript reduces it silently). Like circomlibjs it refuses the two points
// with x = 0: identity_point for (0, 1), not_in_subgroup for (0, -1).
// not_on_curve when no x fits y. The result is on the curve but not
// necessarily in the subgroup. Variable time: for public encodings.
Status baby_jub_unpack(const uint8_t in[kBabyJubPackedBytes], BabyJubAffine& out) noexcept;

}  // namespace libverify
