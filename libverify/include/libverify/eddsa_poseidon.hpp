#pragma once
// EdDSA over Baby Jubjub with Poseidon as the challenge hash, bit-compatible
// with circomlibjs eddsa (prv2pub, signPoseidon, verifyPoseidon,
// packSignature, unpackSignature) and circomlib's EdDSAPoseidonVerifier.
//
// Key derivation, for a 32-byte private key k:
//   h = BLAKE-512(k); s = LE(h[0..32]) with bits 0..2 and 255 cleared and
//   bit 254 set; A = ((s >> 3) mod l) * Base8.
// Signing a field element m:
//   r = LE(BLAKE-512(h[32..64] || LE32(m))) mod l; R8 = r * Base8;
//   hm = Poseidon(R8.x, R8.y, A.x, A.y, m); S = (r + hm * s) mod l.
// Verification: S * Base8 == R8 + (8 * hm) * A.

#include <cstddef>
#include <cstdint>
#include <iosfwd>

#include "libverify/baby_jubjub.hpp"
#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace libverify {

constexpr size_t kEddsaPrivateKeyBytes = 32;
constexpr size_t kEddsaSignatureBytes = 64;

// Holds the 32 secret bytes. It cannot be copied, compared or streamed
// (GoogleTest and friends print "<redacted>"), and it wipes itself.
class EddsaPrivateKey {
public:
    EddsaPrivateKey() noexcept;  // all-zero placeholder until from_bytes
    ~EddsaPrivateKey();
    EddsaPrivateKey(const EddsaPrivateKey&) = delete;
    EddsaPrivateKey& operator=(const EddsaPrivateKey&) = delete;

    // bad_length unless len == kEddsaPrivateKeyBytes.
    static Status from_bytes(const uint8_t* in, size_t len, EddsaPrivateKey& out) noexcept;

    friend std::ostream& operator<<(std::ostream& os, const EddsaPrivateKey&);
    friend void PrintTo(const EddsaPrivateKey&, std::ostream* os);

private:
    friend struct EddsaKeyAccess;
    uint8_t bytes_[kEddsaPrivateKeyBytes];
};

// A private key expanded once for signing many messages: the pruned
// scalar, the nonce prefix and the public key, derived at construction
// instead of at every signature (derivation is a third of the signing
// cost). Same rules as EddsaPrivateKey: no copies, no printing, wiped.
class EddsaSigningKey {
public:
    explicit EddsaSigningKey(const EddsaPrivateKey& key) noexcept;
    ~EddsaSigningKey();
    EddsaSigningKey(const EddsaSigningKey&) = delete;
    EddsaSigningKey& operator=(const EddsaSigningKey&) = delete;

    const BabyJubAffine& public_key() const noexcept { return public_key_; }

    friend std::ostream& operator<<(std::ostream& os, const EddsaSigningKey&);
    friend void PrintTo(const EddsaSigningKey&, std::ostream* os);

private:
    friend struct EddsaKeyAccess;
    uint8_t digest_[64];  // BLAKE-512 of the private key, scalar half pruned
    BabyJubAffine public_key_;
};

struct EddsaSignature {
    BabyJubAffine r8;
    Limbs s;  // as unpacked: may be >= l, which verification rejects
};

BabyJubAffine eddsa_prv2pub(const EddsaPrivateKey& key) noexcept;

EddsaSignature eddsa_sign_poseidon(const EddsaPrivateKey& key, const Fr& msg) noexcept;
EddsaSignature eddsa_sign_poseidon(const EddsaSigningKey& key, const Fr& msg) noexcept;

// ok or the first failed check, in this order: input_out_of_range (S >= l),
// not_on_curve (R8, then A), not_in_subgroup (R8, then A), identity_point
// (A is the identity), invalid_signature (the equation). circomlibjs checks
// only S < l and that both points are on the curve; the subgroup checks and
// the identity check are extra. Variable time: all inputs are public.
Status eddsa_verify_poseidon(const Fr& msg, const EddsaSignature& sig,
                             const BabyJubAffine& pub) noexcept;

// packed R8 (baby_jub_pack) || S as 32 little-endian bytes.
void eddsa_pack_signature(const EddsaSignature& sig, uint8_t out[kEddsaSignatureBytes]) noexcept;

// Fails as baby_jub_unpack does for R8; S is taken as is (checked on verify).
Status eddsa_unpack_signature(const uint8_t in[kEddsaSignatureBytes],
                              EddsaSignature& out) noexcept;

}  // namespace libverify
