#include "libverify/base64url.hpp"

#include <array>

namespace libverify {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_reverse_table() {
    std::array<int8_t, 256> table{};
    for (auto& v : table) {
        v = -1;
    }
    for (int i = 0; i < 64; ++i) {
        table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
    }
    return table;
}

constexpr std::array<int8_t, 256> kReverse = make_reverse_table();

}  // namespace

void base64url_encode(const uint8_t* in, size_t n, char* out) noexcept {
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
        *out++ = kAlphabet[(v >> 18) & 63];
        *out++ = kAlphabet[(v >> 12) & 63];
        *out++ = kAlphabet[(v >> 6) & 63];
        *out++ = kAlphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = uint32_t{in[i]} << 16;
        *out++ = kAlphabet[(v >> 18) & 63];
        *out++ = kAlphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
        *out++ = kAlphabet[(v >> 18) & 63];
        *out++ = kAlphabet[(v >> 12) & 63];
        *out++ = kAlphabet[(v >> 6) & 63];
    }
}

Status base64url_decode_exact(std::string_view text, uint8_t* out, size_t expected) noexcept {
    if (text.size() != base64url_encoded_size(expected)) {
        return Status::bad_length;
    }
    uint32_t acc = 0;
    int bits = 0;
    size_t produced = 0;
    // Decode into a scratch buffer first: out stays untouched on failure.
    uint8_t scratch[512];
    if (expected > sizeof(scratch)) {
        return Status::bad_length;
    }
    for (char ch : text) {
        int8_t v = kReverse[static_cast<uint8_t>(ch)];
        if (v < 0) {
            return Status::bad_encoding;
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            scratch[produced++] = static_cast<uint8_t>(acc >> bits);
            acc &= (uint32_t{1} << bits) - 1;
        }
    }
    if (acc != 0) {
        return Status::bad_encoding;  // non-zero unused bits: a second spelling
    }
    for (size_t i = 0; i < expected; ++i) {
        out[i] = scratch[i];
    }
    return Status::ok;
}

}  // namespace libverify
