#include "libverify/decimal.hpp"

namespace libverify {

Status limbs_from_decimal(std::string_view text, Limbs& out) noexcept {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) {
        return Status::bad_encoding;
    }
    Limbs acc{};
    uint64_t overflow = 0;
    // Once the value passes 2^256 the digits are still checked to the end, so
    // that a malformed numeral is bad_encoding whatever its length.
    for (char ch : text) {
        if (ch < '0' || ch > '9') {
            return Status::bad_encoding;
        }
        uint64_t carry = static_cast<uint64_t>(ch - '0');
        for (int i = 0; i < 4; ++i) {
            detail::u128 v = static_cast<detail::u128>(acc[i]) * 10 + carry;
            acc[i] = static_cast<uint64_t>(v);
            carry = static_cast<uint64_t>(v >> 64);
        }
        overflow |= carry;
    }
    if (overflow != 0) {
        return Status::input_out_of_range;
    }
    out = acc;
    return Status::ok;
}

Status fr_from_decimal(std::string_view text, Fr& out) noexcept {
    Limbs value{};
    Status st = limbs_from_decimal(text, value);
    if (st != Status::ok) {
        return st;
    }
    if (!Fr::from_canonical(value, out)) {
        return Status::input_out_of_range;
    }
    return Status::ok;
}

size_t limbs_to_decimal(const Limbs& value, char* out) noexcept {
    char reversed[kMaxDecimalDigits];
    Limbs rest = value;
    size_t n = 0;
    do {
        uint64_t rem = 0;
        for (int i = 3; i >= 0; --i) {
            detail::u128 cur = (static_cast<detail::u128>(rem) << 64) | rest[i];
            rest[i] = static_cast<uint64_t>(cur / 10);
            rem = static_cast<uint64_t>(cur % 10);
        }
        reversed[n++] = static_cast<char>('0' + rem);
    } while ((rest[0] | rest[1] | rest[2] | rest[3]) != 0);
    for (size_t i = 0; i < n; ++i) {
        out[i] = reversed[n - 1 - i];
    }
    return n;
}

size_t fr_to_decimal(const Fr& value, char* out) noexcept {
    return limbs_to_decimal(value.to_canonical(), out);
}

}  // namespace libverify
