#include "zkclient/fast_field.hpp"

#include <gmp.h>

namespace zkclient::fast {

void detail_invert_limbs(const uint64_t* x, const uint64_t* m, uint64_t* out) {
    static_assert(sizeof(mp_limb_t) == sizeof(uint64_t), "64-bit GMP limbs expected");
    mpz_t a, mod, inv;
    mpz_init(inv);
    mpz_roinit_n(a, reinterpret_cast<const mp_limb_t*>(x), 4);
    mpz_roinit_n(mod, reinterpret_cast<const mp_limb_t*>(m), 4);
    mpz_invert(inv, a, mod);
    for (size_t i = 0; i < 4; ++i) {
        out[i] = mpz_getlimbn(inv, static_cast<mp_size_t>(i));
    }
    mpz_clear(inv);
}

}  // namespace zkclient::fast
