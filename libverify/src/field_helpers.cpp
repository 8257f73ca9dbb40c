#include "libverify/field_helpers.hpp"

#include <sodium.h>

namespace libverify {

Fr hash_to_field(std::string_view domain_tag, const uint8_t* data, size_t len) noexcept {
    Fr out = Fr::zero();
    if (hash_to_field_checked(domain_tag, data, len, out) != Status::ok) {
        return Fr::zero();
    }
    return out;
}

Status hash_to_field_checked(std::string_view domain_tag, const uint8_t* data, size_t len,
                             Fr& out) noexcept {
    if (domain_tag.size() > kMaxDomainTagBytes) {
        return Status::bad_length;
    }
    crypto_generichash_state state;
    if (crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES_MAX) != 0) {
        return Status::internal_error;
    }
    const uint8_t tag_len = static_cast<uint8_t>(domain_tag.size());
    uint8_t digest[crypto_generichash_BYTES_MAX];
    static_assert(sizeof digest == 64, "BLAKE2b-512 output expected");
    if (crypto_generichash_update(&state, &tag_len, 1) != 0 ||
        crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(domain_tag.data()),
                                  domain_tag.size()) != 0 ||
        (len > 0 && crypto_generichash_update(&state, data, len) != 0) ||
        crypto_generichash_final(&state, digest, sizeof digest) != 0) {
        sodium_memzero(&state, sizeof state);
        return Status::internal_error;
    }
    out = Fr::from_bytes_le_wide_reduce(digest);
    sodium_memzero(&state, sizeof state);
    sodium_memzero(digest, sizeof digest);
    return Status::ok;
}

Status recover_rln_key(const Fr& x1, const Fr& y1, const Fr& x2, const Fr& y2, Fr& k) noexcept {
    const Fr dx = x2 - x1;
    if (dx.is_zero()) {
        return Status::input_out_of_range;
    }
    k = (y1 * x2 - y2 * x1) * dx.inverse();
    return Status::ok;
}

}  // namespace libverify
