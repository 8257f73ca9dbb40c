#pragma once
// Prime fields below 2^254 in Montgomery form with four 64-bit limbs.
//
// Every operation here runs in constant time unless its name ends in
// _vartime: the same field type carries secrets (EdDSA scalars, the RLN key)
// and public data (proof coordinates), so branch-free is the default.

#include <array>
#include <cstddef>
#include <cstdint>

namespace libverify {

// Little-endian 64-bit limbs of a 256-bit unsigned integer.
using Limbs = std::array<uint64_t, 4>;

namespace detail {

using u128 = unsigned __int128;

// Keeps the compiler from turning mask arithmetic back into branches.
inline uint64_t launder(uint64_t x) {
    __asm__ __volatile__("" : "+r"(x));
    return x;
}

constexpr uint64_t neg_inverse_mod_2_64(uint64_t odd) {
    uint64_t inv = 1;
    for (int i = 0; i < 6; ++i) {  // Newton: correct bits double each step
        inv *= 2 - odd * inv;
    }
    return ~inv + 1;
}

constexpr bool limbs_less(const Limbs& a, const Limbs& b) {
    for (int i = 3; i >= 0; --i) {
        if (a[i] != b[i]) {
            return a[i] < b[i];
        }
    }
    return false;
}

// a - b, returning the borrow (1 when a < b).
constexpr uint64_t limbs_sub(Limbs& out, const Limbs& a, const Limbs& b) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; ++i) {
        u128 d = static_cast<u128>(a[i]) - b[i] - borrow;
        out[i] = static_cast<uint64_t>(d);
        borrow = static_cast<uint64_t>(d >> 64) & 1;
    }
    return borrow;
}

// x * 2^k mod m by repeated doubling, for x < m; m < 2^255 so a doubled
// residue fits.
constexpr Limbs mul_pow2_mod(Limbs x, const Limbs& m, int k) {
    for (int n = 0; n < k; ++n) {
        Limbs d{};
        uint64_t carry = 0;
        for (int i = 0; i < 4; ++i) {
            d[i] = (x[i] << 1) | carry;
            carry = x[i] >> 63;
        }
        if (!limbs_less(d, m)) {
            limbs_sub(d, d, m);
        }
        x = d;
    }
    return x;
}

// 2^k mod m.
constexpr Limbs pow2_mod(const Limbs& m, int k) { return mul_pow2_mod(Limbs{1, 0, 0, 0}, m, k); }

}  // namespace detail

// Params must provide `static constexpr Limbs modulus`, an odd prime whose
// top limb leaves two bits free (the no-carry Montgomery condition).
template <class Params>
class Field {
public:
    static constexpr Limbs kModulus = Params::modulus;
    static constexpr uint64_t kInv = detail::neg_inverse_mod_2_64(kModulus[0]);
    static constexpr Limbs kR = detail::pow2_mod(kModulus, 256);
    static constexpr Limbs kR2 = detail::pow2_mod(kModulus, 512);
    static_assert(kModulus[3] < (uint64_t{1} << 62), "modulus must be below 2^254");
    static_assert((kModulus[0] & 1) == 1, "modulus must be odd");

    constexpr Field() : mont_{0, 0, 0, 0} {}

    static constexpr Field zero() { return Field(); }
    static constexpr Field one() { return from_mont_limbs(kR); }

    static Field from_u64(uint64_t x) { return from_canonical_unchecked(Limbs{x, 0, 0, 0}); }

    // For compile-time constants only: converts by 256 modular doublings, far
    // slower than from_canonical_unchecked at run time. x must be canonical.
    static constexpr Field from_canonical_constexpr(const Limbs& x) {
        return from_mont_limbs(detail::mul_pow2_mod(x, kModulus, 256));
    }

    // Limbs must already be below the modulus; checked callers use
    // from_canonical().
    static Field from_canonical_unchecked(const Limbs& x) {
        Field f = from_mont_limbs(x);
        return f * from_mont_limbs(kR2);
    }

    // Returns false (and leaves out untouched) when x >= modulus.
    static bool from_canonical(const Limbs& x, Field& out) {
        if (!is_canonical(x)) {
            return false;
        }
        out = from_canonical_unchecked(x);
        return true;
    }

    static bool is_canonical(const Limbs& x) {
        Limbs scratch{};
        return detail::limbs_sub(scratch, x, kModulus) == 1;
    }

    // 32 bytes, most significant first; rejects values >= modulus.
    static bool from_bytes_be(const uint8_t* in, Field& out) {
        return from_canonical(limbs_from_bytes_be(in), out);
    }

    // Any 32 bytes, little-endian, reduced modulo the modulus.
    static Field from_bytes_le_reduce(const uint8_t* in) {
        return from_canonical_unchecked(reduce_full(limbs_from_bytes_le(in)));
    }

    // Any 64 bytes, little-endian, reduced modulo the modulus.
    static Field from_bytes_le_wide_reduce(const uint8_t* in) {
        Field lo = from_bytes_le_reduce(in);
        Field hi = from_bytes_le_reduce(in + 32);
        return lo + hi * from_mont_limbs(kR2);  // from_mont_limbs(R2) is 2^256
    }

    static Limbs limbs_from_bytes_le(const uint8_t* in) {
        Limbs x{};
        for (int i = 0; i < 32; ++i) {
            x[i / 8] |= static_cast<uint64_t>(in[i]) << (8 * (i % 8));
        }
        return x;
    }

    static Limbs limbs_from_bytes_be(const uint8_t* in) {
        Limbs x{};
        for (int i = 0; i < 32; ++i) {
            x[3 - i / 8] |= static_cast<uint64_t>(in[i]) << (8 * (7 - i % 8));
        }
        return x;
    }

    Limbs to_canonical() const {
        Field one_plain = from_mont_limbs(Limbs{1, 0, 0, 0});
        return (*this * one_plain).mont_;
    }

    void to_bytes_be(uint8_t* out) const {
        Limbs x = to_canonical();
        for (int i = 0; i < 32; ++i) {
            out[i] = static_cast<uint8_t>(x[3 - i / 8] >> (8 * (7 - i % 8)));
        }
    }

    void to_bytes_le(uint8_t* out) const {
        Limbs x = to_canonical();
        for (int i = 0; i < 32; ++i) {
            out[i] = static_cast<uint8_t>(x[i / 8] >> (8 * (i % 8)));
        }
    }

    const Limbs& mont_limbs() const { return mont_; }
    static constexpr Field from_mont_limbs(const Limbs& m) {
        Field f;
        f.mont_ = m;
        return f;
    }

    bool is_zero() const {
        uint64_t acc = mont_[0] | mont_[1] | mont_[2] | mont_[3];
        return detail::launder(acc) == 0;
    }

    bool operator==(const Field& o) const {
        uint64_t acc = 0;
        for (int i = 0; i < 4; ++i) {
            acc |= mont_[i] ^ o.mont_[i];
        }
        return detail::launder(acc) == 0;
    }
    bool operator!=(const Field& o) const { return !(*this == o); }

    // Picks b when choose_b is true, without a branch.
    static Field select(bool choose_b, const Field& a, const Field& b) {
        uint64_t mask = detail::launder(0 - static_cast<uint64_t>(choose_b));
        Field r;
        for (int i = 0; i < 4; ++i) {
            r.mont_[i] = (a.mont_[i] & ~mask) | (b.mont_[i] & mask);
        }
        return r;
    }

    Field operator+(const Field& o) const {
        Field r;
        uint64_t carry = 0;
        for (int i = 0; i < 4; ++i) {
            detail::u128 s = static_cast<detail::u128>(mont_[i]) + o.mont_[i] + carry;
            r.mont_[i] = static_cast<uint64_t>(s);
            carry = static_cast<uint64_t>(s >> 64);
        }
        r.reduce_once();
        return r;
    }

    Field operator-(const Field& o) const {
        Field r;
        uint64_t borrow = detail::limbs_sub(r.mont_, mont_, o.mont_);
        uint64_t mask = detail::launder(0 - borrow);
        uint64_t carry = 0;
        for (int i = 0; i < 4; ++i) {
            detail::u128 s = static_cast<detail::u128>(r.mont_[i]) + (kModulus[i] & mask) + carry;
            r.mont_[i] = static_cast<uint64_t>(s);
            carry = static_cast<uint64_t>(s >> 64);
        }
        return r;
    }

    Field operator-() const { return zero() - *this; }
    Field dbl() const { return *this + *this; }

    Field& operator+=(const Field& o) { return *this = *this + o; }
    Field& operator-=(const Field& o) { return *this = *this - o; }
    Field& operator*=(const Field& o) { return *this = *this * o; }

    // CIOS Montgomery multiplication; with two spare bits in the top limb the
    // intermediate never overflows four limbs plus one carry word.
    Field operator*(const Field& o) const {
        uint64_t t[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4; ++i) {
            detail::u128 acc = static_cast<detail::u128>(mont_[0]) * o.mont_[i] + t[0];
            uint64_t a_carry = static_cast<uint64_t>(acc >> 64);
            uint64_t lo = static_cast<uint64_t>(acc);
            uint64_t m = lo * kInv;
            detail::u128 red = static_cast<detail::u128>(m) * kModulus[0] + lo;
            uint64_t c_carry = static_cast<uint64_t>(red >> 64);
            for (int j = 1; j < 4; ++j) {
                acc = static_cast<detail::u128>(mont_[j]) * o.mont_[i] + t[j] + a_carry;
                a_carry = static_cast<uint64_t>(acc >> 64);
                red = static_cast<detail::u128>(m) * kModulus[j] + static_cast<uint64_t>(acc) + c_carry;
                c_carry = static_cast<uint64_t>(red >> 64);
                t[j - 1] = static_cast<uint64_t>(red);
            }
            t[3] = a_carry + c_carry;
        }
        Field r;
        for (int i = 0; i < 4; ++i) {
            r.mont_[i] = t[i];
        }
        r.reduce_once();
        return r;
    }

    Field square() const { return *this * *this; }

    // Exponent is public or secret alike: always square and multiply.
    Field pow(const Limbs& e) const {
        Field acc = one();
        for (int i = 255; i >= 0; --i) {
            acc = acc.square();
            Field prod = acc * *this;
            bool bit = (e[i / 64] >> (i % 64)) & 1;
            acc = select(bit, acc, prod);
        }
        return acc;
    }

    Field pow_vartime(const Limbs& e) const {
        Field acc = one();
        bool started = false;
        for (int i = 255; i >= 0; --i) {
            if (started) {
                acc = acc.square();
            }
            if ((e[i / 64] >> (i % 64)) & 1) {
                acc = started ? acc * *this : *this;
                started = true;
            }
        }
        return acc;
    }

    // Fermat inversion, constant time; the inverse of zero is zero.
    Field inverse() const { return pow(modulus_minus(2)); }

    static constexpr Limbs modulus_minus(uint64_t k) {
        Limbs out{};
        detail::limbs_sub(out, kModulus, Limbs{k, 0, 0, 0});
        return out;
    }

private:
    // Subtracts the modulus once if the value is at or above it.
    void reduce_once() {
        Limbs d{};
        uint64_t borrow = detail::limbs_sub(d, mont_, kModulus);
        mont_ = select(borrow == 0, from_mont_limbs(mont_), from_mont_limbs(d)).mont_;
    }

    // m << k for the largest k that still fits 256 bits.
    static constexpr int kMaxShift = [] {
        int k = 0;
        while ((kModulus[3] << (k + 1)) >> (k + 1) == kModulus[3] && k < 63) {
            ++k;
        }
        return k;
    }();

    static constexpr Limbs shifted_modulus(int k) {
        Limbs out{};
        for (int i = 3; i >= 0; --i) {
            out[i] = kModulus[i] << k;
            if (k > 0 && i > 0) {
                out[i] |= kModulus[i - 1] >> (64 - k);
            }
        }
        return out;
    }

    // Brings any 256-bit value below the modulus in constant time: before
    // the step for shift k the value is below m * 2^(k+1).
    static Limbs reduce_full(Limbs x) {
        for (int k = kMaxShift; k >= 0; --k) {
            Limbs d{};
            uint64_t borrow = detail::limbs_sub(d, x, shifted_modulus(k));
            x = select(borrow == 0, from_mont_limbs(x), from_mont_limbs(d)).mont_;
        }
        return x;
    }

    Limbs mont_;
};

// BN254 (alt_bn128, the circom/Ethereum "bn128" curve): base field modulus p.
struct Bn254FqParams {
    static constexpr Limbs modulus = {0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL,
                                      0xb85045b68181585dULL, 0x30644e72e131a029ULL};
};

// BN254 scalar field modulus r; also the base field of Baby Jubjub.
struct Bn254FrParams {
    static constexpr Limbs modulus = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL,
                                      0xb85045b68181585dULL, 0x30644e72e131a029ULL};
};

using Fq = Field<Bn254FqParams>;
using Fr = Field<Bn254FrParams>;

}  // namespace libverify
