#pragma once
// Field-level helpers of the zkcredit protocol.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace libverify {

constexpr size_t kMaxDomainTagBytes = 255;

// LE(BLAKE2b-512(len(tag) as one byte || tag || data)) mod r: unkeyed
// BLAKE2b with a 64-byte output, as libsodium's crypto_generichash and
// node's crypto.createHash("blake2b512") compute it, then a wide reduction
// whose bias is below 2^-250. Precondition: tag.size() <= kMaxDomainTagBytes;
// longer tags return zero (use hash_to_field_checked for untrusted tags).
Fr hash_to_field(std::string_view domain_tag, const uint8_t* data, size_t len) noexcept;

// bad_length for a tag longer than kMaxDomainTagBytes.
Status hash_to_field_checked(std::string_view domain_tag, const uint8_t* data, size_t len,
                             Fr& out) noexcept;

// The RLN secret from two shares y_i = k + a * x_i of one epoch:
// k = (y1 x2 - y2 x1) / (x2 - x1). input_out_of_range when x1 == x2 (the same
// share twice reveals nothing). Constant time apart from that check.
Status recover_rln_key(const Fr& x1, const Fr& y1, const Fr& x2, const Fr& y2, Fr& k) noexcept;

}  // namespace libverify
