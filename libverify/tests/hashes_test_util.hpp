#pragma once
// Conversions shared by the tests.

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libverify/decimal.hpp"
#include "libverify/field.hpp"

namespace hashes_test {

inline std::vector<uint8_t> from_hex(const std::string& hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::vector<uint8_t> out;
    EXPECT_EQ(hex.size() % 2, 0u) << hex;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        int hi = nibble(hex[i]);
        int lo = nibble(hex[i + 1]);
        EXPECT_TRUE(hi >= 0 && lo >= 0) << hex;
        out.push_back(static_cast<uint8_t>((hi << 4) | lo));
    }
    return out;
}

inline std::string to_hex(const uint8_t* data, size_t len) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < len; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

inline libverify::Fr fr(const std::string& decimal) {
    libverify::Fr out;
    EXPECT_EQ(libverify::fr_from_decimal(decimal, out), libverify::Status::ok) << decimal;
    return out;
}

inline libverify::Limbs limbs(const std::string& decimal) {
    libverify::Limbs out{};
    EXPECT_EQ(libverify::limbs_from_decimal(decimal, out), libverify::Status::ok) << decimal;
    return out;
}

inline std::string dec(const libverify::Limbs& x) {
    char buf[libverify::kMaxDecimalDigits];
    return std::string(buf, libverify::limbs_to_decimal(x, buf));
}

inline std::string dec(const libverify::Fr& x) { return dec(x.to_canonical()); }

inline libverify::Fr fr_hex(const std::string& hex_be) {
    std::vector<uint8_t> bytes = from_hex(std::string(64 - hex_be.size(), '0') + hex_be);
    libverify::Fr out;
    EXPECT_TRUE(libverify::Fr::from_bytes_be(bytes.data(), out)) << hex_be;
    return out;
}

// Loads ZKC_VECTORS_DIR/relative: false (the caller skips) when the file is
// absent; a file that is there but does not parse fails the test.
// A vector file's string value; a missing key or another type throws, which
// fails the test.
inline const std::string& str(const nlohmann::json& j) {
    return j.get_ref<const std::string&>();
}

inline bool load_vectors(const std::string& relative, nlohmann::json& out) {
    const std::string path = std::string(ZKC_VECTORS_DIR) + "/" + relative;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    out = nlohmann::json::parse(in, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << path << " is not valid JSON";
    return !out.is_discarded();
}

}  // namespace hashes_test

namespace libverify {
// Lets GoogleTest print field elements in failure messages.
inline void PrintTo(const Fr& x, std::ostream* os) { *os << hashes_test::dec(x); }
}  // namespace libverify
