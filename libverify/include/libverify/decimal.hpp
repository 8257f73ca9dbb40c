#pragma once
// Strict decimal text for field elements and 256-bit integers, the form
// snarkjs and circomlibjs use in JSON: digits only, no sign, no leading
// zeros except "0" itself. Meant for public values: the running time depends
// on the number of digits.

#include <cstddef>
#include <string_view>

#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace libverify {

// 2^256 - 1 has 78 decimal digits.
constexpr size_t kMaxDecimalDigits = 78;

// bad_encoding for anything but a strict decimal numeral, input_out_of_range
// for a value at or above 2^256 (however many digits it has).
Status limbs_from_decimal(std::string_view text, Limbs& out) noexcept;

// As limbs_from_decimal, and input_out_of_range for a value at or above r.
Status fr_from_decimal(std::string_view text, Fr& out) noexcept;

// Writes the digits (no terminator) to out, which must hold
// kMaxDecimalDigits characters; returns how many were written.
size_t limbs_to_decimal(const Limbs& value, char* out) noexcept;
size_t fr_to_decimal(const Fr& value, char* out) noexcept;

}  // namespace libverify
