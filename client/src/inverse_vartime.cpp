#include "inverse_vartime.hpp"

#include <gmp.h>

namespace zkclient {

using libverify::Fq;
using libverify::Fq2;

Fq inverse_vartime(const Fq& x) {
    static_assert(sizeof(mp_limb_t) == sizeof(uint64_t), "64-bit GMP limbs expected");
    if (x.is_zero()) {
        return Fq::zero();
    }
    // GMP inverts the integer a R, giving a^-1 R^-1; a Montgomery
    // multiplication by R^3 turns that into the residue a^-1 R.
    static const Fq r_cubed = Fq::from_mont_limbs(Fq::kR2) * Fq::from_mont_limbs(Fq::kR2);
    mpz_t a, modulus, inverse;
    mpz_init(inverse);
    mpz_roinit_n(a, reinterpret_cast<const mp_limb_t*>(x.mont_limbs().data()), 4);
    mpz_roinit_n(modulus, reinterpret_cast<const mp_limb_t*>(Fq::kModulus.data()), 4);
    mpz_invert(inverse, a, modulus);
    libverify::Limbs limbs{};
    for (size_t i = 0; i < 4; ++i) {
        limbs[i] = mpz_getlimbn(inverse, static_cast<mp_size_t>(i));
    }
    mpz_clear(inverse);
    return Fq::from_mont_limbs(limbs) * r_cubed;
}

Fq2 inverse_vartime(const Fq2& x) {
    Fq norm_inverse = inverse_vartime(x.c0.square() + x.c1.square());
    return Fq2{x.c0 * norm_inverse, -(x.c1 * norm_inverse)};
}

}  // namespace zkclient
