#pragma once
// BLAKE-512, the SHA-3 finalist (Aumasson, Henzen, Meier, Phan; final round
// version, 16 rounds) -- not BLAKE2. circomlibjs derives EdDSA keys and
// nonces with it (npm blake-hash, "blake512"). Salt is always zero, as there.
// Constant time: only additions, rotations and xors on the data.

#include <cstddef>
#include <cstdint>

namespace libverify {

constexpr size_t kBlake512DigestBytes = 64;

class Blake512 {
public:
    Blake512() noexcept;
    ~Blake512();  // wipes the state: it may hold key material
    Blake512(const Blake512&) = delete;
    Blake512& operator=(const Blake512&) = delete;

    void update(const uint8_t* data, size_t len) noexcept;
    // Writes 64 bytes; the object must not be used afterwards.
    void finish(uint8_t out[kBlake512DigestBytes]) noexcept;

private:
    void compress(const uint8_t block[128], uint64_t counter_lo, uint64_t counter_hi) noexcept;

    uint64_t h_[8];
    uint64_t bits_lo_ = 0;  // message bits hashed so far, 128-bit counter
    uint64_t bits_hi_ = 0;
    uint8_t buf_[128];
    size_t buf_len_ = 0;
};

void blake512(const uint8_t* data, size_t len, uint8_t out[kBlake512DigestBytes]) noexcept;

}  // namespace libverify
