#include "zkregistry/encoding.hpp"

#include <array>

#include "libverify/decimal.hpp"
#include "zkregistry/error.hpp"

namespace zkregistry {

using libverify::Fr;

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

libverify::Limbs parse_limbs(std::string_view text, std::string_view what) {
    libverify::Limbs limbs{};
    switch (libverify::limbs_from_decimal(text, limbs)) {
    case libverify::Status::ok:
        return limbs;
    case libverify::Status::input_out_of_range:
        throw Error(ErrorKind::invalid_input, std::string(what) + " is too large");
    default:
        throw Error(ErrorKind::invalid_input,
                    std::string(what) +
                        " must be a decimal number without sign or leading zeros");
    }
}

}  // namespace

std::string fr_to_hex(const Fr& value) {
    std::array<uint8_t, 32> bytes{};
    value.to_bytes_be(bytes.data());
    std::string out(kFieldHexChars, '0');
    for (size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = kHexDigits[bytes[i] >> 4];
        out[2 * i + 1] = kHexDigits[bytes[i] & 0x0f];
    }
    return out;
}

bool fr_from_hex(std::string_view text, Fr& out) {
    if (text.size() != kFieldHexChars) {
        return false;
    }
    std::array<uint8_t, 32> bytes{};
    for (size_t i = 0; i < bytes.size(); ++i) {
        const int hi = hex_value(text[2 * i]);
        const int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return Fr::from_bytes_be(bytes.data(), out);
}

std::string fr_to_decimal(const Fr& value) {
    char digits[libverify::kMaxDecimalDigits];
    const size_t n = libverify::fr_to_decimal(value, digits);
    return std::string(digits, n);
}

Fr parse_field_decimal(std::string_view text, std::string_view what) {
    const libverify::Limbs limbs = parse_limbs(text, what);
    Fr value;
    if (!Fr::from_canonical(limbs, value)) {
        throw Error(ErrorKind::invalid_input,
                    std::string(what) + " is not below the BN254 scalar field modulus r");
    }
    return value;
}

uint64_t parse_u64(std::string_view text, std::string_view what) {
    const libverify::Limbs limbs = parse_limbs(text, what);
    if (limbs[1] != 0 || limbs[2] != 0 || limbs[3] != 0) {
        throw Error(ErrorKind::invalid_input, std::string(what) + " must be below 2^64");
    }
    return limbs[0];
}

uint64_t parse_deposit(std::string_view text) {
    const uint64_t amount = parse_u64(text, "deposit");
    if (amount == 0) {
        throw Error(ErrorKind::invalid_input, "deposit must be at least 1 credit unit");
    }
    return amount;
}

}  // namespace zkregistry
