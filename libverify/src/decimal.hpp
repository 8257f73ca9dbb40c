#pragma once
// Strict decimal strings as snarkjs writes them: digits only, no sign, no
// leading zeros except "0" itself.

#include <string_view>

#include "libverify/field.hpp"

namespace libverify {
namespace detail {

enum class Decimal { ok, malformed, too_large };

// Parses s into a 256-bit integer; too_large when the value is >= 2^256
// (the syntax is still checked to the end, so malformed wins).
inline Decimal parse_decimal_u256(std::string_view s, Limbs& out) {
    if (s.empty() || (s.size() > 1 && s[0] == '0')) {
        return Decimal::malformed;
    }
    Limbs acc{};
    bool overflow = false;
    for (char ch : s) {
        if (ch < '0' || ch > '9') {
            return Decimal::malformed;
        }
        if (overflow) {
            continue;
        }
        u128 carry = static_cast<u128>(ch - '0');
        for (auto& limb : acc) {
            u128 t = static_cast<u128>(limb) * 10 + carry;
            limb = static_cast<uint64_t>(t);
            carry = t >> 64;
        }
        overflow = carry != 0;
    }
    if (overflow) {
        return Decimal::too_large;
    }
    out = acc;
    return Decimal::ok;
}

}  // namespace detail
}  // namespace libverify
