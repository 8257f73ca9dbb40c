#include "libverify/baby_jubjub.hpp"

namespace libverify {

namespace {

constexpr Fr kA = Fr::from_canonical_constexpr(Limbs{168700, 0, 0, 0});
constexpr Fr kD = Fr::from_canonical_constexpr(Limbs{168696, 0, 0, 0});
constexpr Fr kBase8X = Fr::from_canonical_constexpr(
    Limbs{0x2893f3f6bb957051ULL, 0x2ab8d8010534e0b6ULL, 0x4eacb2e09d6277c1ULL,
          0x0bb77a6ad63e739bULL});
constexpr Fr kBase8Y = Fr::from_canonical_constexpr(
    Limbs{0x4b3c257a872d7d8bULL, 0xfce0051fb9e13377ULL, 0x25572e1cd16bf9edULL,
          0x25797203f7a0b249ULL});

// (r - 1) / 2: circomlibjs's sign threshold for x.
constexpr Limbs kHalfR = {0xa1f0fac9f8000000ULL, 0x9419f4243cdcb848ULL, 0xdc2822db40c0ac2eULL,
                          0x183227397098d014ULL};
// r - 1 = 2^28 * kOddPart.
constexpr int kTwoAdicity = 28;
constexpr Limbs kOddPart = {0x9b9709143e1f593fULL, 0x181585d2833e8487ULL,
                            0x131a029b85045b68ULL, 0x000000030644e72eULL};
constexpr Limbs kOddPartPlusOneHalf = {0xcdcb848a1f0faca0ULL, 0x0c0ac2e9419f4243ULL,
                                       0x098d014dc2822db4ULL, 0x0000000183227397ULL};
constexpr uint64_t kNonResidue = 5;

constexpr int kWindowBits = 4;
constexpr int kTableSize = 1 << kWindowBits;
constexpr int kWindows = 256 / kWindowBits;

inline unsigned window(const Limbs& k, int w) {
    const int bit = w * kWindowBits;
    return static_cast<unsigned>((k[bit / 64] >> (bit % 64)) & (kTableSize - 1));
}

void fill_table(const BabyJubPoint& p, BabyJubPoint* table) {
    table[0] = BabyJubPoint::identity();
    for (int i = 1; i < kTableSize; ++i) {
        table[i] = table[i - 1] + p;
    }
}

// Reads every entry so that the memory trace does not depend on index.
BabyJubPoint lookup_ct(const BabyJubPoint* table, unsigned index) {
    BabyJubPoint r = table[0];
    for (unsigned i = 1; i < static_cast<unsigned>(kTableSize); ++i) {
        uint64_t diff = static_cast<uint64_t>(i ^ index);
        bool hit = detail::launder((diff - 1) >> 63) != 0;
        r = BabyJubPoint::select(hit, r, table[i]);
    }
    return r;
}

bool limbs_greater(const Limbs& a, const Limbs& b) { return detail::limbs_less(b, a); }

// Tonelli-Shanks; any of the two roots. Variable time: public inputs only.
bool sqrt_vartime(const Fr& a, Fr& out) {
    if (a.is_zero()) {
        out = a;
        return true;
    }
    Fr c = Fr::from_u64(kNonResidue).pow_vartime(kOddPart);
    Fr t = a.pow_vartime(kOddPart);
    Fr root = a.pow_vartime(kOddPartPlusOneHalf);
    int m = kTwoAdicity;
    const Fr one = Fr::one();
    while (t != one) {
        int i = 0;
        Fr probe = t;
        while (probe != one) {
            probe = probe.square();
            if (++i == m) {
                return false;
            }
        }
        Fr b = c;
        for (int j = 0; j < m - i - 1; ++j) {
            b = b.square();
        }
        m = i;
        c = b.square();
        t = t * c;
        root = root * b;
    }
    out = root;
    return true;
}

}  // namespace

BabyJubPoint BabyJubPoint::identity() noexcept {
    BabyJubPoint p;
    p.x_ = Fr::zero();
    p.y_ = Fr::one();
    p.t_ = Fr::zero();
    p.z_ = Fr::one();
    return p;
}

BabyJubPoint BabyJubPoint::base8() noexcept { return from_affine(BabyJubAffine{kBase8X, kBase8Y}); }

BabyJubPoint BabyJubPoint::from_affine(const BabyJubAffine& a) noexcept {
    BabyJubPoint p;
    p.x_ = a.x;
    p.y_ = a.y;
    p.t_ = a.x * a.y;
    p.z_ = Fr::one();
    return p;
}

BabyJubAffine BabyJubPoint::to_affine() const noexcept {
    Fr z_inv = z_.inverse();
    return BabyJubAffine{x_ * z_inv, y_ * z_inv};
}

// add-2008-hwcd (Hisil, Wong, Carter, Dawson), unified and, for a square and
// d non-square, complete.
BabyJubPoint BabyJubPoint::operator+(const BabyJubPoint& o) const noexcept {
    Fr a = x_ * o.x_;
    Fr b = y_ * o.y_;
    Fr c = kD * t_ * o.t_;
    Fr d = z_ * o.z_;
    Fr e = (x_ + y_) * (o.x_ + o.y_) - a - b;
    Fr f = d - c;
    Fr g = d + c;
    Fr h = b - kA * a;
    BabyJubPoint r;
    r.x_ = e * f;
    r.y_ = g * h;
    r.t_ = e * h;
    r.z_ = f * g;
    return r;
}

// dbl-2008-hwcd; its denominators a x^2 + y^2 and 2 - a x^2 - y^2 vanish
// only if d times a square were a square, so it is complete too.
BabyJubPoint BabyJubPoint::dbl() const noexcept {
    Fr a = x_.square();
    Fr b = y_.square();
    Fr c = z_.square().dbl();
    Fr d = kA * a;
    Fr e = (x_ + y_).square() - a - b;
    Fr g = d + b;
    Fr f = g - c;
    Fr h = d - b;
    BabyJubPoint r;
    r.x_ = e * f;
    r.y_ = g * h;
    r.t_ = e * h;
    r.z_ = f * g;
    return r;
}

BabyJubPoint BabyJubPoint::operator-() const noexcept {
    BabyJubPoint r = *this;
    r.x_ = -x_;
    r.t_ = -t_;
    return r;
}

bool BabyJubPoint::operator==(const BabyJubPoint& o) const noexcept {
    bool same_x = x_ * o.z_ == o.x_ * z_;
    bool same_y = y_ * o.z_ == o.y_ * z_;
    return same_x & same_y;
}

bool BabyJubPoint::is_identity() const noexcept {
    // Both comparisons always run: no early exit on a secret-derived point.
    bool x_zero = x_.is_zero();
    bool y_is_z = y_ == z_;
    return x_zero & y_is_z;
}

BabyJubPoint BabyJubPoint::select(bool choose_b, const BabyJubPoint& a,
                                  const BabyJubPoint& b) noexcept {
    BabyJubPoint r;
    r.x_ = Fr::select(choose_b, a.x_, b.x_);
    r.y_ = Fr::select(choose_b, a.y_, b.y_);
    r.t_ = Fr::select(choose_b, a.t_, b.t_);
    r.z_ = Fr::select(choose_b, a.z_, b.z_);
    return r;
}

BabyJubPoint BabyJubPoint::mul(const Limbs& k) const noexcept {
    BabyJubPoint table[kTableSize];
    fill_table(*this, table);
    BabyJubPoint acc = identity();
    for (int w = kWindows - 1; w >= 0; --w) {
        for (int i = 0; i < kWindowBits; ++i) {
            acc = acc.dbl();
        }
        acc = acc + lookup_ct(table, window(k, w));
    }
    return acc;
}

namespace {

// kBase8Table.rows[w][j] = j * 16^w * Base8: one row per 4-bit window, so a
// fixed-base multiplication is 64 additions and no doublings.
struct Base8Table {
    BabyJubPoint rows[kWindows][kTableSize];

    Base8Table() noexcept {
        BabyJubPoint row_base = BabyJubPoint::base8();
        for (int w = 0; w < kWindows; ++w) {
            fill_table(row_base, rows[w]);
            row_base = rows[w][kTableSize - 1] + row_base;
        }
    }
};

const Base8Table& base8_table() {
    static const Base8Table table;
    return table;
}

}  // namespace

BabyJubPoint BabyJubPoint::mul_base8(const Limbs& k) noexcept {
    const Base8Table& table = base8_table();
    BabyJubPoint acc = identity();
    for (int w = 0; w < kWindows; ++w) {
        acc = acc + lookup_ct(table.rows[w], window(k, w));
    }
    return acc;
}

BabyJubPoint BabyJubPoint::mul_vartime(const Limbs& k) const noexcept {
    BabyJubPoint table[kTableSize];
    fill_table(*this, table);
    BabyJubPoint acc = identity();
    bool started = false;
    for (int w = kWindows - 1; w >= 0; --w) {
        if (started) {
            for (int i = 0; i < kWindowBits; ++i) {
                acc = acc.dbl();
            }
        }
        unsigned digit = window(k, w);
        if (digit != 0) {
            acc = acc + table[digit];
            started = true;
        }
    }
    return acc;
}

BabyJubPoint BabyJubPoint::double_mul_vartime(const Limbs& a, const BabyJubPoint& p,
                                              const Limbs& b, const BabyJubPoint& q) noexcept {
    BabyJubPoint table_p[kTableSize];
    BabyJubPoint table_q[kTableSize];
    fill_table(p, table_p);
    fill_table(q, table_q);
    BabyJubPoint acc = identity();
    bool started = false;
    for (int w = kWindows - 1; w >= 0; --w) {
        if (started) {
            for (int i = 0; i < kWindowBits; ++i) {
                acc = acc.dbl();
            }
        }
        unsigned wa = window(a, w);
        unsigned wb = window(b, w);
        if (wa != 0) {
            acc = acc + table_p[wa];
            started = true;
        }
        if (wb != 0) {
            acc = acc + table_q[wb];
            started = true;
        }
    }
    return acc;
}

bool BabyJubPoint::in_subgroup_vartime() const noexcept {
    return mul_vartime(BabyJubScalarParams::modulus).is_identity();
}

bool baby_jub_is_on_curve(const BabyJubAffine& p) noexcept {
    Fr x2 = p.x.square();
    Fr y2 = p.y.square();
    return kA * x2 + y2 == Fr::one() + kD * x2 * y2;
}

Status baby_jub_check(const BabyJubAffine& p) noexcept {
    if (!baby_jub_is_on_curve(p)) {
        return Status::not_on_curve;
    }
    if (!BabyJubPoint::from_affine(p).in_subgroup_vartime()) {
        return Status::not_in_subgroup;
    }
    return Status::ok;
}

void baby_jub_pack(const BabyJubAffine& p, uint8_t out[kBabyJubPackedBytes]) noexcept {
    p.y.to_bytes_le(out);
    if (limbs_greater(p.x.to_canonical(), kHalfR)) {
        out[31] |= 0x80;
    }
}

Status baby_jub_unpack(const uint8_t in[kBabyJubPackedBytes], BabyJubAffine& out) noexcept {
    uint8_t y_bytes[kBabyJubPackedBytes];
    for (size_t i = 0; i < kBabyJubPackedBytes; ++i) {
        y_bytes[i] = in[i];
    }
    const bool negative = (y_bytes[31] & 0x80) != 0;
    y_bytes[31] &= 0x7f;
    Fr y;
    if (!Fr::from_canonical(Fr::limbs_from_bytes_le(y_bytes), y)) {
        return Status::bad_encoding;
    }
    // x^2 = (1 - y^2) / (a - d y^2); the denominator never vanishes since
    // a / d is not a square.
    Fr y2 = y.square();
    Fr x2 = (Fr::one() - y2) * (kA - kD * y2).inverse();
    if (x2.is_zero()) {
        return y == Fr::one() ? Status::identity_point : Status::not_in_subgroup;
    }
    Fr x;
    if (!sqrt_vartime(x2, x)) {
        return Status::not_on_curve;
    }
    if (limbs_greater(x.to_canonical(), kHalfR)) {
        x = -x;
    }
    if (negative) {
        x = -x;
    }
    out = BabyJubAffine{x, y};
    return Status::ok;
}

}  // namespace libverify
