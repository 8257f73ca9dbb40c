#pragma once
// Variable-time field and curve arithmetic for the prover's FFTs and
// multi-scalar multiplications, which handle many elements and no
// per-element secret control flow beyond what the bucket method already
// has. Same Montgomery representation as libverify::Field (R = 2^256), so
// values convert by copying limbs. Faster than libverify's constant-time
// arithmetic: the final subtraction is a branch and the compiler is not held
// back by its branch-free barriers.

#include <cstdint>

#include "libverify/curve.hpp"
#include "libverify/field.hpp"
#include "libverify/tower.hpp"

namespace zkclient::fast {

using libverify::Limbs;
using u128 = unsigned __int128;

// out = x^-1 mod m for 4-limb x coprime to m (GMP, variable time).
void detail_invert_limbs(const uint64_t* x, const uint64_t* m, uint64_t* out);

template <class Params>
class Field {
public:
    static constexpr Limbs kModulus = Params::modulus;
    using Slow = libverify::Field<Params>;

    constexpr Field() : m_{0, 0, 0, 0} {}
    explicit Field(const Slow& v) : m_(v.mont_limbs()) {}
    Slow slow() const { return Slow::from_mont_limbs(m_); }

    static Field zero() { return Field(); }
    static Field one() { return Field(Slow::one()); }

    const Limbs& mont_limbs() const { return m_; }

    bool is_zero() const { return (m_[0] | m_[1] | m_[2] | m_[3]) == 0; }
    bool operator==(const Field& o) const { return m_ == o.m_; }
    bool operator!=(const Field& o) const { return !(m_ == o.m_); }

    static Field select(bool choose_b, const Field& a, const Field& b) { return choose_b ? b : a; }

    Field operator+(const Field& o) const {
        Field r;
        u128 s = static_cast<u128>(m_[0]) + o.m_[0];
        r.m_[0] = static_cast<uint64_t>(s);
        s = static_cast<u128>(m_[1]) + o.m_[1] + static_cast<uint64_t>(s >> 64);
        r.m_[1] = static_cast<uint64_t>(s);
        s = static_cast<u128>(m_[2]) + o.m_[2] + static_cast<uint64_t>(s >> 64);
        r.m_[2] = static_cast<uint64_t>(s);
        r.m_[3] = m_[3] + o.m_[3] + static_cast<uint64_t>(s >> 64);
        r.reduce_once();
        return r;
    }

    Field operator-(const Field& o) const {
        Field r;
        u128 d = static_cast<u128>(m_[0]) - o.m_[0];
        r.m_[0] = static_cast<uint64_t>(d);
        uint64_t borrow = static_cast<uint64_t>(d >> 64) & 1;
        d = static_cast<u128>(m_[1]) - o.m_[1] - borrow;
        r.m_[1] = static_cast<uint64_t>(d);
        borrow = static_cast<uint64_t>(d >> 64) & 1;
        d = static_cast<u128>(m_[2]) - o.m_[2] - borrow;
        r.m_[2] = static_cast<uint64_t>(d);
        borrow = static_cast<uint64_t>(d >> 64) & 1;
        d = static_cast<u128>(m_[3]) - o.m_[3] - borrow;
        r.m_[3] = static_cast<uint64_t>(d);
        if ((static_cast<uint64_t>(d >> 64) & 1) != 0) {
            u128 s = static_cast<u128>(r.m_[0]) + kModulus[0];
            r.m_[0] = static_cast<uint64_t>(s);
            s = static_cast<u128>(r.m_[1]) + kModulus[1] + static_cast<uint64_t>(s >> 64);
            r.m_[1] = static_cast<uint64_t>(s);
            s = static_cast<u128>(r.m_[2]) + kModulus[2] + static_cast<uint64_t>(s >> 64);
            r.m_[2] = static_cast<uint64_t>(s);
            r.m_[3] = r.m_[3] + kModulus[3] + static_cast<uint64_t>(s >> 64);
        }
        return r;
    }

    Field operator-() const { return zero() - *this; }
    Field dbl() const { return *this + *this; }
    Field& operator+=(const Field& o) { return *this = *this + o; }
    Field& operator-=(const Field& o) { return *this = *this - o; }
    Field& operator*=(const Field& o) { return *this = *this * o; }

    // CIOS Montgomery multiplication; the modulus leaves the top two bits
    // free, so no carry word beyond four limbs is needed.
    Field operator*(const Field& o) const {
        uint64_t t[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4; ++i) {
            u128 acc = static_cast<u128>(m_[0]) * o.m_[i] + t[0];
            uint64_t a_carry = static_cast<uint64_t>(acc >> 64);
            uint64_t m = static_cast<uint64_t>(acc) * Slow::kInv;
            u128 red = static_cast<u128>(m) * kModulus[0] + static_cast<uint64_t>(acc);
            uint64_t c_carry = static_cast<uint64_t>(red >> 64);
            for (int j = 1; j < 4; ++j) {
                acc = static_cast<u128>(m_[j]) * o.m_[i] + t[j] + a_carry;
                a_carry = static_cast<uint64_t>(acc >> 64);
                red = static_cast<u128>(m) * kModulus[j] + static_cast<uint64_t>(acc) + c_carry;
                c_carry = static_cast<uint64_t>(red >> 64);
                t[j - 1] = static_cast<uint64_t>(red);
            }
            t[3] = a_carry + c_carry;
        }
        Field r;
        r.m_ = {t[0], t[1], t[2], t[3]};
        r.reduce_once();
        return r;
    }

    Field square() const { return *this * *this; }

    // Variable time (GMP's extended Euclid); the inverse of zero is zero.
    // For the residue a R this inverts the integer to a^-1 R^-1 and
    // multiplies by R^3 in Montgomery form, giving a^-1 R.
    Field inverse() const {
        Field r;
        if (is_zero()) {
            return r;
        }
        static const Field r_cubed = Field(Slow::from_mont_limbs(Slow::kR2)) *
                                     Field(Slow::from_mont_limbs(Slow::kR2));
        detail_invert_limbs(m_.data(), kModulus.data(), r.m_.data());
        return r * r_cubed;
    }

private:
    void reduce_once() {
        for (int i = 3; i >= 0; --i) {
            if (m_[i] != kModulus[i]) {
                if (m_[i] < kModulus[i]) {
                    return;
                }
                break;
            }
        }
        uint64_t borrow = 0;
        for (int i = 0; i < 4; ++i) {
            u128 d = static_cast<u128>(m_[i]) - kModulus[i] - borrow;
            m_[i] = static_cast<uint64_t>(d);
            borrow = static_cast<uint64_t>(d >> 64) & 1;
        }
    }

    Limbs m_;
};

using Fq = Field<libverify::Bn254FqParams>;
using Fr = Field<libverify::Bn254FrParams>;

struct Fq2 {
    Fq c0;
    Fq c1;

    Fq2() = default;
    Fq2(const Fq& a, const Fq& b) : c0(a), c1(b) {}
    explicit Fq2(const libverify::Fq2& v) : c0(v.c0), c1(v.c1) {}
    libverify::Fq2 slow() const { return libverify::Fq2{c0.slow(), c1.slow()}; }

    static Fq2 zero() { return Fq2(Fq::zero(), Fq::zero()); }
    static Fq2 one() { return Fq2(Fq::one(), Fq::zero()); }

    Fq2 operator+(const Fq2& o) const { return Fq2(c0 + o.c0, c1 + o.c1); }
    Fq2 operator-(const Fq2& o) const { return Fq2(c0 - o.c0, c1 - o.c1); }
    Fq2 operator-() const { return Fq2(-c0, -c1); }
    Fq2 dbl() const { return Fq2(c0.dbl(), c1.dbl()); }
    Fq2 operator*(const Fq2& o) const {
        Fq v0 = c0 * o.c0;
        Fq v1 = c1 * o.c1;
        return Fq2(v0 - v1, (c0 + c1) * (o.c0 + o.c1) - v0 - v1);
    }
    Fq2 square() const { return Fq2((c0 + c1) * (c0 - c1), (c0 * c1).dbl()); }
    Fq2 inverse() const {
        Fq norm_inv = (c0.square() + c1.square()).inverse();
        return Fq2(c0 * norm_inv, -(c1 * norm_inv));
    }
    bool is_zero() const { return c0.is_zero() && c1.is_zero(); }
    bool operator==(const Fq2& o) const { return c0 == o.c0 && c1 == o.c1; }
    bool operator!=(const Fq2& o) const { return !(*this == o); }
    static Fq2 select(bool choose_b, const Fq2& a, const Fq2& b) { return choose_b ? b : a; }
};

struct G1Curve {
    using Base = Fq;
    static Fq b() { return Fq(libverify::G1Curve::b()); }
};

struct G2Curve {
    using Base = Fq2;
    static Fq2 b() { return Fq2(libverify::G2Curve::b()); }
};

using G1Affine = libverify::AffinePoint<G1Curve>;
using G2Affine = libverify::AffinePoint<G2Curve>;
using G1 = libverify::JacobianPoint<G1Curve>;
using G2 = libverify::JacobianPoint<G2Curve>;

inline G1Affine to_fast(const libverify::G1Affine& p) {
    return G1Affine{Fq(p.x), Fq(p.y), p.infinity};
}
inline G2Affine to_fast(const libverify::G2Affine& p) {
    return G2Affine{Fq2(p.x), Fq2(p.y), p.infinity};
}
inline libverify::G1 to_slow(const G1& p) {
    libverify::G1 r;
    r.x = p.x.slow();
    r.y = p.y.slow();
    r.z = p.z.slow();
    return r;
}
inline libverify::G2 to_slow(const G2& p) {
    libverify::G2 r;
    r.x = p.x.slow();
    r.y = p.y.slow();
    r.z = p.z.slow();
    return r;
}

}  // namespace zkclient::fast
