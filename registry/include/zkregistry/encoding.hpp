#pragma once
// Text forms the registry reads and writes: field elements as the gateway
// stores them in Redis (64 lower-case hex digits, big-endian), and the
// decimal numbers an operator types.

#include <cstdint>
#include <string>
#include <string_view>

#include "libverify/field.hpp"

namespace zkregistry {

constexpr size_t kFieldHexChars = 64;

std::string fr_to_hex(const libverify::Fr& value);

// Exactly 64 lower-case hex digits of a value below r; false otherwise, and
// out is left untouched.
bool fr_from_hex(std::string_view text, libverify::Fr& out);

std::string fr_to_decimal(const libverify::Fr& value);

// Strict decimal (no sign, no leading zeros) below r; throws
// Error(invalid_input) naming `what` otherwise.
libverify::Fr parse_field_decimal(std::string_view text, std::string_view what);

// Strict decimal in [1, 2^64); throws Error(invalid_input) otherwise.
uint64_t parse_deposit(std::string_view text);

// Strict decimal in [0, 2^64); throws Error(invalid_input) otherwise.
uint64_t parse_u64(std::string_view text, std::string_view what);

}  // namespace zkregistry
