#include "libverify/blake512.hpp"

#include <sodium.h>

#include <cstring>

namespace libverify {

namespace {

// The initial value is SHA-512's; the constants are the first digits of pi.
constexpr uint64_t kIv[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

constexpr uint64_t kC[16] = {
    0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL,
    0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL, 0xc0ac29b7c97c50ddULL, 0x3f84d5b5b5470917ULL,
    0x9216d5d98979fb1bULL, 0xd1310ba698dfb5acULL, 0x2ffd72dbd01adfb7ULL, 0xb8e1afed6a267e96ULL,
    0xba7c9045f12c7f99ULL, 0x24a19947b3916cf7ULL, 0x0801f2e2858efc16ULL, 0x636920d871574e69ULL,
};

constexpr uint8_t kSigma[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

constexpr int kRounds = 16;

inline uint64_t rotr(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

inline uint64_t load_be64(const uint8_t* p) {
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) {
        x = (x << 8) | p[i];
    }
    return x;
}

inline void store_be64(uint8_t* p, uint64_t x) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<uint8_t>(x);
        x >>= 8;
    }
}

inline void g(uint64_t* v, const uint64_t* m, const uint8_t* sigma, int i, int a, int b, int c,
              int d) {
    const int j = sigma[2 * i];
    const int k = sigma[2 * i + 1];
    v[a] += v[b] + (m[j] ^ kC[k]);
    v[d] = rotr(v[d] ^ v[a], 32);
    v[c] += v[d];
    v[b] = rotr(v[b] ^ v[c], 25);
    v[a] += v[b] + (m[k] ^ kC[j]);
    v[d] = rotr(v[d] ^ v[a], 16);
    v[c] += v[d];
    v[b] = rotr(v[b] ^ v[c], 11);
}

}  // namespace

Blake512::Blake512() noexcept {
    std::memcpy(h_, kIv, sizeof h_);
    std::memset(buf_, 0, sizeof buf_);
}

Blake512::~Blake512() {
    sodium_memzero(h_, sizeof h_);
    sodium_memzero(buf_, sizeof buf_);
}

void Blake512::compress(const uint8_t block[128], uint64_t counter_lo,
                        uint64_t counter_hi) noexcept {
    uint64_t m[16];
    uint64_t v[16];
    for (int i = 0; i < 16; ++i) {
        m[i] = load_be64(block + 8 * i);
    }
    for (int i = 0; i < 8; ++i) {
        v[i] = h_[i];
        v[i + 8] = kC[i];  // salt is zero
    }
    v[12] ^= counter_lo;
    v[13] ^= counter_lo;
    v[14] ^= counter_hi;
    v[15] ^= counter_hi;
    for (int r = 0; r < kRounds; ++r) {
        const uint8_t* s = kSigma[r % 10];
        g(v, m, s, 0, 0, 4, 8, 12);
        g(v, m, s, 1, 1, 5, 9, 13);
        g(v, m, s, 2, 2, 6, 10, 14);
        g(v, m, s, 3, 3, 7, 11, 15);
        g(v, m, s, 4, 0, 5, 10, 15);
        g(v, m, s, 5, 1, 6, 11, 12);
        g(v, m, s, 6, 2, 7, 8, 13);
        g(v, m, s, 7, 3, 4, 9, 14);
    }
    for (int i = 0; i < 8; ++i) {
        h_[i] ^= v[i] ^ v[i + 8];
    }
    sodium_memzero(m, sizeof m);
    sodium_memzero(v, sizeof v);
}

void Blake512::update(const uint8_t* data, size_t len) noexcept {
    while (len > 0) {
        size_t take = sizeof buf_ - buf_len_;
        if (take > len) {
            take = len;
        }
        std::memcpy(buf_ + buf_len_, data, take);
        buf_len_ += take;
        data += take;
        len -= take;
        if (buf_len_ == sizeof buf_) {
            bits_lo_ += 1024;
            bits_hi_ += bits_lo_ < 1024 ? 1 : 0;
            compress(buf_, bits_lo_, bits_hi_);
            buf_len_ = 0;
        }
    }
}

// Padding: a 1 bit, zeros, a 1 bit at bit 895 of the last block (the marker
// of the 512-bit variant), then the 128-bit big-endian message length. A
// block that holds no message bits is compressed with a zero counter.
void Blake512::finish(uint8_t out[kBlake512DigestBytes]) noexcept {
    const uint64_t tail_bits = static_cast<uint64_t>(buf_len_) * 8;
    uint64_t total_lo = bits_lo_ + tail_bits;
    uint64_t total_hi = bits_hi_ + (total_lo < tail_bits ? 1 : 0);
    uint8_t length[16];
    store_be64(length, total_hi);
    store_be64(length + 8, total_lo);

    std::memset(buf_ + buf_len_, 0, sizeof buf_ - buf_len_);
    buf_[buf_len_] = 0x80;
    if (buf_len_ < 112) {
        buf_[111] |= 0x01;
        std::memcpy(buf_ + 112, length, 16);
        const bool has_message = buf_len_ > 0;
        compress(buf_, has_message ? total_lo : 0, has_message ? total_hi : 0);
    } else {
        compress(buf_, total_lo, total_hi);
        std::memset(buf_, 0, sizeof buf_);
        buf_[111] = 0x01;
        std::memcpy(buf_ + 112, length, 16);
        compress(buf_, 0, 0);
    }
    for (int i = 0; i < 8; ++i) {
        store_be64(out + 8 * i, h_[i]);
    }
    buf_len_ = 0;
}

void blake512(const uint8_t* data, size_t len, uint8_t out[kBlake512DigestBytes]) noexcept {
    Blake512 state;
    state.update(data, len);
    state.finish(out);
}

}  // namespace libverify
