#include "libverify/tower.hpp"

namespace libverify {

namespace tower_constants {

// Montgomery-form limbs; tests check each against xi^(k (p^n - 1) / 6).
const Fq2 kGamma1[6] = {
    {Fq::one(), Fq::zero()},
    {Fq::from_mont_limbs({0xaf9ba69633144907ULL, 0xca6b1d7387afb78aULL, 0x11bded5ef08a2087ULL,
                          0x02f34d751a1f3a7cULL}),
     Fq::from_mont_limbs({0xa222ae234c492d72ULL, 0xd00f02a4565de15bULL, 0xdc2ff3a253dfc926ULL,
                          0x10a75716b3899551ULL})},
    {Fq::from_mont_limbs({0xb5773b104563ab30ULL, 0x347f91c8a9aa6454ULL, 0x7a007127242e0991ULL,
                          0x1956bcd8118214ecULL}),
     Fq::from_mont_limbs({0x6e849f1ea0aa4757ULL, 0xaa1c7b6d89f89141ULL, 0xb6e713cdfae0ca3aULL,
                          0x26694fbb4e82ebc3ULL})},
    {Fq::from_mont_limbs({0xe4bbdd0c2936b629ULL, 0xbb30f162e133bacbULL, 0x31a9d1b6f9645366ULL,
                          0x253570bea500f8ddULL}),
     Fq::from_mont_limbs({0xa1d77ce45ffe77c7ULL, 0x07affd117826d1dbULL, 0x6d16bd27bb7edc6bULL,
                          0x2c87200285defeccULL})},
    {Fq::from_mont_limbs({0x7361d77f843abe92ULL, 0xa5bb2bd3273411fbULL, 0x9c941f314b3e2399ULL,
                          0x15df9cddbb9fd3ecULL}),
     Fq::from_mont_limbs({0x5dddfd154bd8c949ULL, 0x62cb29a5a4445b60ULL, 0x37bc870a0c7dd2b9ULL,
                          0x24830a9d3171f0fdULL})},
    {Fq::from_mont_limbs({0xc970692f41690fe7ULL, 0xe240342127694b0bULL, 0x32bee66b83c459e8ULL,
                          0x12aabced0ab08841ULL}),
     Fq::from_mont_limbs({0x0d485d2340aebfa9ULL, 0x05193418ab2fcc57ULL, 0xd3b0a40b8a4910f5ULL,
                          0x2f21ebb535d2925aULL})},
};

const Fq kGamma2[6] = {
    Fq::one(),
    Fq::from_mont_limbs({0xca8d800500fa1bf2ULL, 0xf0c5d61468b39769ULL, 0x0e201271ad0d4418ULL,
                         0x04290f65bad856e6ULL}),
    Fq::from_mont_limbs({0x3350c88e13e80b9cULL, 0x7dce557cdb5e56b9ULL, 0x6001b4b8b615564aULL,
                         0x2682e617020217e0ULL}),
    Fq::from_mont_limbs({0x68c3488912edefaaULL, 0x8d087f6872aabf4fULL, 0x51e1a24709081231ULL,
                         0x2259d6b14729c0faULL}),
    Fq::from_mont_limbs({0x71930c11d782e155ULL, 0xa6bb947cffbe3323ULL, 0xaa303344d4741444ULL,
                         0x2c3b3f0d26594943ULL}),
    Fq::from_mont_limbs({0x08cfc388c494f1abULL, 0x19b315148d1373d4ULL, 0x584e90fdcb6c0213ULL,
                         0x09e1685bdf2f8849ULL}),
};

const Fq2 kGamma3[6] = {
    {Fq::one(), Fq::zero()},
    {Fq::from_mont_limbs({0x365316184e46d97dULL, 0x0af7129ed4c96d9fULL, 0x659da72fca1009b5ULL,
                          0x08116d8983a20d23ULL}),
     Fq::from_mont_limbs({0xb1df4af7c39c1939ULL, 0x3d9f02878a73bf7fULL, 0x9b2220928caf0ae0ULL,
                          0x26684515eff054a6ULL})},
    {Fq::from_mont_limbs({0xc9af22f716ad6badULL, 0xb311782a4aa662b2ULL, 0x19eeaf64e248c7f4ULL,
                          0x20273e77e3439f82ULL}),
     Fq::from_mont_limbs({0xacc02860f7ce93acULL, 0x3933d5817ba76b4cULL, 0x69e6188b446c8467ULL,
                          0x0a46036d4417cc55ULL})},
    {Fq::from_mont_limbs({0x5764af0aaf46471eULL, 0xdc50792e873e0fc1ULL, 0x86a673ff881d04f6ULL,
                          0x0b2eddb43c30a74cULL}),
     Fq::from_mont_limbs({0x9a490f32787e8580ULL, 0x8fd16d7ff04af8b1ULL, 0x4b39888ec6027bf2ULL,
                          0x03dd2e705b52a15dULL})},
    {Fq::from_mont_limbs({0x448a93a57b6762dfULL, 0xbfd62df528fdeadfULL, 0xd858f5d00e9bd47aULL,
                          0x06b03d4d3476ec58ULL}),
     Fq::from_mont_limbs({0x2b19daf4bcc936d1ULL, 0xa1a54e7a56f4299fULL, 0xb533eee05adeaef1ULL,
                          0x170c812b84dda0b2ULL})},
    {Fq::from_mont_limbs({0xe0bc4b2275cf559fULL, 0xc238b945c154e60fULL, 0x803982a5929a7d5eULL,
                          0x15ce052df7e4a37eULL}),
     Fq::from_mont_limbs({0x2d28efbdbf3799a7ULL, 0x9b097e3c1ad60773ULL, 0x982d4113af4a535bULL,
                          0x24e18991e3056063ULL})},
};

}  // namespace tower_constants

// Each output coefficient is a sum of double-width products reduced once: 18
// base products and 6 reductions where reducing every product took 18.
Fq6 Fq6::operator*(const Fq6& o) const {
    Fq2Wide v0 = c0.mul_wide(o.c0);
    Fq2Wide v1 = c1.mul_wide(o.c1);
    Fq2Wide v2 = c2.mul_wide(o.c2);
    Fq2Wide cross12 = (c1 + c2).mul_wide(o.c1 + o.c2) - v1 - v2;
    Fq2Wide cross01 = (c0 + c1).mul_wide(o.c0 + o.c1) - v0 - v1;
    Fq2Wide cross02 = (c0 + c2).mul_wide(o.c0 + o.c2) - v0 - v2;
    return Fq6{(cross12.mul_by_xi() + v0).reduce(), (cross01 + v2.mul_by_xi()).reduce(),
               (cross02 + v1).reduce()};
}

Fq6 Fq6::square() const {
    Fq2Wide s0 = c0.square_wide();
    Fq2Wide s1 = c0.mul_wide(c1);
    s1 = s1 + s1;
    Fq2Wide s2 = (c0 - c1 + c2).square_wide();
    Fq2Wide s3 = c1.mul_wide(c2);
    s3 = s3 + s3;
    Fq2Wide s4 = c2.square_wide();
    return Fq6{(s0 + s3.mul_by_xi()).reduce(), (s1 + s4.mul_by_xi()).reduce(),
               (s1 + s2 + s3 - s0 - s4).reduce()};
}

Fq6 Fq6::mul_by_01(const Fq2& d0, const Fq2& d1) const {
    Fq2Wide a0 = c0.mul_wide(d0);
    Fq2Wide a1 = c1.mul_wide(d1);
    // xi (c2 d1) as c2 (xi d1): xi on the reduced d1 is cheaper than on the
    // double-width product.
    Fq2Wide r0 = c2.mul_wide(d1.mul_by_xi()) + a0;
    Fq2Wide r1 = (c0 + c1).mul_wide(d0 + d1) - a0 - a1;
    Fq2Wide r2 = c2.mul_wide(d0) + a1;
    return Fq6{r0.reduce(), r1.reduce(), r2.reduce()};
}

namespace {

// Inversion through the norm to the subfield, which invert_norm inverts (in
// constant or variable time).
template <class InvertNorm>
Fq6 fq6_inverse(const Fq6& a, InvertNorm invert_norm) {
    Fq2 t0 = a.c0.square() - (a.c1 * a.c2).mul_by_xi();
    Fq2 t1 = a.c2.square().mul_by_xi() - a.c0 * a.c1;
    Fq2 t2 = a.c1.square() - a.c0 * a.c2;
    Fq2 norm = a.c0 * t0 + (a.c2 * t1 + a.c1 * t2).mul_by_xi();
    Fq2 norm_inv = invert_norm(norm);
    return Fq6{t0 * norm_inv, t1 * norm_inv, t2 * norm_inv};
}

template <class InvertNorm>
Fq12 fq12_inverse(const Fq12& a, InvertNorm invert_norm) {
    Fq6 norm_inv = invert_norm(a.c0.square() - a.c1.square().mul_by_v());
    return Fq12{a.c0 * norm_inv, -(a.c1 * norm_inv)};
}

}  // namespace

Fq6 Fq6::inverse() const {
    return fq6_inverse(*this, [](const Fq2& n) { return n.inverse(); });
}

Fq6 Fq6::inverse_vartime() const {
    return fq6_inverse(*this, [](const Fq2& n) { return n.inverse_vartime(); });
}

Fq12 Fq12::operator*(const Fq12& o) const {
    Fq6 t0 = c0 * o.c0;
    Fq6 t1 = c1 * o.c1;
    return Fq12{t0 + t1.mul_by_v(), (c0 + c1) * (o.c0 + o.c1) - t0 - t1};
}

Fq12 Fq12::square() const {
    Fq6 ab = c0 * c1;
    Fq6 r0 = (c0 + c1) * (c0 + c1.mul_by_v()) - ab - ab.mul_by_v();
    return Fq12{r0, ab.dbl()};
}

Fq12 Fq12::inverse() const {
    return fq12_inverse(*this, [](const Fq6& n) { return n.inverse(); });
}

Fq12 Fq12::inverse_vartime() const {
    return fq12_inverse(*this, [](const Fq6& n) { return n.inverse_vartime(); });
}

Fq12 Fq12::mul_by_line(const Fq2& d0, const Fq2& d1, const Fq2& d2) const {
    Fq6 t0 = c0.mul_fq2(d0);
    Fq6 t1 = c1.mul_by_01(d1, d2);
    Fq6 r1 = (c0 + c1).mul_by_01(d0 + d1, d2) - t0 - t1;
    return Fq12{t0 + t1.mul_by_v(), r1};
}

Fq12 Fq12::mul_by_normalised_line(const Fq2& d1, const Fq2& d2) const {
    Fq6 c1d = c1.mul_by_01(d1, d2);
    Fq6 c0d = c0.mul_by_01(d1, d2);
    return Fq12{c0 + c1d.mul_by_v(), c1 + c0d};
}

// Writing x = sum g_k w^k (k = 0..5, w^2 = v), the coefficient g_k sits at
// c(k % 2).c(k / 2), and x^(p^n) = sum frob_n(g_k) xi^(k (p^n - 1) / 6) w^k.
Fq12 Fq12::frobenius(int k) const {
    using namespace tower_constants;
    Fq12 r;
    const Fq2* src[6] = {&c0.c0, &c1.c0, &c0.c1, &c1.c1, &c0.c2, &c1.c2};
    Fq2* dst[6] = {&r.c0.c0, &r.c1.c0, &r.c0.c1, &r.c1.c1, &r.c0.c2, &r.c1.c2};
    for (int i = 0; i < 6; ++i) {
        if (k == 2) {
            *dst[i] = src[i]->mul_fq(kGamma2[i]);
        } else if (k == 3) {
            *dst[i] = src[i]->conj() * kGamma3[i];
        } else {
            *dst[i] = src[i]->conj() * kGamma1[i];
        }
    }
    return r;
}

// Over Fq4 = Fq2[s]/(s^2 - xi) with s = w^3, x = A0 + A1 w + A2 w^2 where
// A0 = g0 + g3 s, A1 = g1 + g4 s, A2 = g2 + g5 s. For unitary x:
//   x^2 = (3 A0^2 - 2 conj A0) + (3 s A2^2 + 2 conj A1) w + (3 A1^2 - 2 conj A2) w^2.
Fq12 Fq12::cyclotomic_square() const {
    // (a + b s)^2 = (a^2 + xi b^2) + ((a + b)^2 - a^2 - b^2) s
    auto fq4_square = [](const Fq2& a, const Fq2& b, Fq2& out0, Fq2& out1) {
        Fq2 a2 = a.square();
        Fq2 b2 = b.square();
        out0 = a2 + b2.mul_by_xi();
        out1 = (a + b).square() - a2 - b2;
    };
    const Fq2& g0 = c0.c0;
    const Fq2& g1 = c1.c0;
    const Fq2& g2 = c0.c1;
    const Fq2& g3 = c1.c1;
    const Fq2& g4 = c0.c2;
    const Fq2& g5 = c1.c2;
    Fq2 t0, t1, t2, t3, t4, t5;
    fq4_square(g0, g3, t0, t1);
    fq4_square(g1, g4, t2, t3);
    fq4_square(g2, g5, t4, t5);

    Fq12 r;
    Fq2 h = t0 - g0;
    r.c0.c0 = h.dbl() + t0;
    h = t1 + g3;
    r.c1.c1 = h.dbl() + t1;

    Fq2 s_t5 = t5.mul_by_xi();
    h = s_t5 + g1;
    r.c1.c0 = h.dbl() + s_t5;
    h = t4 - g4;
    r.c0.c2 = h.dbl() + t4;

    h = t2 - g2;
    r.c0.c1 = h.dbl() + t2;
    h = t3 + g5;
    r.c1.c2 = h.dbl() + t3;
    return r;
}

Fq12 Fq12::pow_vartime(const uint64_t* exponent_limbs, size_t n_limbs) const {
    Fq12 acc = one();
    for (size_t i = n_limbs * 64; i-- > 0;) {
        acc = acc.square();
        if ((exponent_limbs[i / 64] >> (i % 64)) & 1) {
            acc = acc * *this;
        }
    }
    return acc;
}

bool fq_sqrt_vartime(const Fq& a, Fq& out) {
    static constexpr Limbs kExp = {0x4f082305b61f3f52ULL, 0x65e05aa45a1c72a3ULL,
                                   0x6e14116da0605617ULL, 0x0c19139cb84c680aULL};  // (p+1)/4
    Fq root = a.pow_vartime(kExp);
    if (root.square() != a) {
        return false;
    }
    out = root;
    return true;
}

// Via the norm: if x = x0 + x1 u squares to a0 + a1 u then x0^2 - x1^2 = a0,
// 2 x0 x1 = a1 and x0^2 + x1^2 = sqrt(a0^2 + a1^2), so x0^2 = (a0 +- n)/2.
bool fq2_sqrt_vartime(const Fq2& a, Fq2& out) {
    static const Fq kHalf = Fq::from_u64(2).inverse();
    Fq2 root;
    if (a.c1.is_zero()) {
        Fq r;
        if (fq_sqrt_vartime(a.c0, r)) {
            root = Fq2{r, Fq::zero()};
        } else if (fq_sqrt_vartime(-a.c0, r)) {  // -1 is a non-residue, so -a0 is a square
            root = Fq2{Fq::zero(), r};
        } else {
            return false;
        }
    } else {
        Fq norm_root;
        if (!fq_sqrt_vartime(a.c0.square() + a.c1.square(), norm_root)) {
            return false;
        }
        Fq x0;
        if (!fq_sqrt_vartime((a.c0 + norm_root) * kHalf, x0) &&
            !fq_sqrt_vartime((a.c0 - norm_root) * kHalf, x0)) {
            return false;
        }
        root = Fq2{x0, a.c1 * (x0.dbl().inverse_vartime())};
    }
    if (root.square() != a) {
        return false;
    }
    out = root;
    return true;
}

}  // namespace libverify
