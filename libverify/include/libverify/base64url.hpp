#pragma once
// base64url (RFC 4648 section 5) without padding, decoded strictly: every
// value has exactly one accepted text, so a credential cannot be re-encoded
// into a second spelling of itself.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libverify/status.hpp"

namespace libverify {

constexpr size_t base64url_encoded_size(size_t n) noexcept {
    return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

// Writes base64url_encoded_size(n) characters (no terminator).
void base64url_encode(const uint8_t* in, size_t n, char* out) noexcept;

// Decodes exactly `expected` bytes. bad_length when the text has any other
// length; bad_encoding for a character outside the alphabet (padding and
// white space included) or non-zero unused bits in the last character.
// out is written only on success.
Status base64url_decode_exact(std::string_view text, uint8_t* out, size_t expected) noexcept;

}  // namespace libverify
