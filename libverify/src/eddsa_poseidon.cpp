#include "libverify/eddsa_poseidon.hpp"

#include <sodium.h>

#include <cstring>
#include <ostream>

#include "libverify/blake512.hpp"
#include "libverify/poseidon.hpp"

namespace libverify {

struct EddsaKeyAccess {
    static const uint8_t* bytes(const EddsaPrivateKey& k) { return k.bytes_; }
    static const uint8_t* pruned_scalar(const EddsaSigningKey& k) { return k.digest_; }
    static const uint8_t* nonce_prefix(const EddsaSigningKey& k) { return k.digest_ + 32; }
};

namespace {

template <class T>
void wipe(T& value) {
    sodium_memzero(&value, sizeof value);
}

// (s >> 3) mod l as limbs; s is below 2^255 so the shift fits 252 bits.
Limbs public_scalar(const uint8_t pruned_scalar[32]) {
    uint8_t shifted[32];
    const uint8_t* s = pruned_scalar;
    for (int i = 0; i < 32; ++i) {
        uint8_t next = i < 31 ? s[i + 1] : 0;
        shifted[i] = static_cast<uint8_t>((s[i] >> 3) | (next << 5));
    }
    BabyJubScalar a = BabyJubScalar::from_bytes_le_reduce(shifted);
    Limbs out = a.to_canonical();
    sodium_memzero(shifted, sizeof shifted);
    wipe(a);
    return out;
}

BabyJubAffine derive_public(const uint8_t pruned_scalar[32]) {
    Limbs a = public_scalar(pruned_scalar);
    BabyJubAffine pub = BabyJubPoint::mul_base8(a).to_affine();
    wipe(a);
    return pub;
}

Fr challenge(const BabyJubAffine& r8, const BabyJubAffine& pub, const Fr& msg) {
    const Fr inputs[5] = {r8.x, r8.y, pub.x, pub.y, msg};
    return poseidon(inputs, 5);
}

BabyJubScalar fr_mod_l(const Fr& x) {
    uint8_t le[32];
    x.to_bytes_le(le);
    BabyJubScalar out = BabyJubScalar::from_bytes_le_reduce(le);
    sodium_memzero(le, sizeof le);
    return out;
}

}  // namespace

EddsaPrivateKey::EddsaPrivateKey() noexcept { std::memset(bytes_, 0, sizeof bytes_); }

EddsaPrivateKey::~EddsaPrivateKey() { sodium_memzero(bytes_, sizeof bytes_); }

Status EddsaPrivateKey::from_bytes(const uint8_t* in, size_t len, EddsaPrivateKey& out) noexcept {
    if (len != kEddsaPrivateKeyBytes) {
        return Status::bad_length;
    }
    std::memcpy(out.bytes_, in, kEddsaPrivateKeyBytes);
    return Status::ok;
}

std::ostream& operator<<(std::ostream& os, const EddsaPrivateKey&) {
    return os << "<redacted>";
}

void PrintTo(const EddsaPrivateKey&, std::ostream* os) { *os << "<redacted>"; }

EddsaSigningKey::EddsaSigningKey(const EddsaPrivateKey& key) noexcept {
    static_assert(sizeof digest_ == kBlake512DigestBytes, "the expansion is one BLAKE-512");
    blake512(EddsaKeyAccess::bytes(key), kEddsaPrivateKeyBytes, digest_);
    digest_[0] &= 0xf8;
    digest_[31] &= 0x7f;
    digest_[31] |= 0x40;
    public_key_ = derive_public(digest_);
}

EddsaSigningKey::~EddsaSigningKey() { sodium_memzero(digest_, sizeof digest_); }

std::ostream& operator<<(std::ostream& os, const EddsaSigningKey&) {
    return os << "<redacted>";
}

void PrintTo(const EddsaSigningKey&, std::ostream* os) { *os << "<redacted>"; }

BabyJubAffine eddsa_prv2pub(const EddsaPrivateKey& key) noexcept {
    return EddsaSigningKey(key).public_key();
}

EddsaSignature eddsa_sign_poseidon(const EddsaPrivateKey& key, const Fr& msg) noexcept {
    return eddsa_sign_poseidon(EddsaSigningKey(key), msg);
}

EddsaSignature eddsa_sign_poseidon(const EddsaSigningKey& key, const Fr& msg) noexcept {
    const BabyJubAffine& pub = key.public_key();

    uint8_t nonce_input[64];
    std::memcpy(nonce_input, EddsaKeyAccess::nonce_prefix(key), 32);
    msg.to_bytes_le(nonce_input + 32);
    uint8_t nonce_digest[kBlake512DigestBytes];
    blake512(nonce_input, sizeof nonce_input, nonce_digest);
    BabyJubScalar r = BabyJubScalar::from_bytes_le_wide_reduce(nonce_digest);
    sodium_memzero(nonce_input, sizeof nonce_input);
    sodium_memzero(nonce_digest, sizeof nonce_digest);

    Limbs r_limbs = r.to_canonical();
    BabyJubAffine r8 = BabyJubPoint::mul_base8(r_limbs).to_affine();
    wipe(r_limbs);

    BabyJubScalar hm = fr_mod_l(challenge(r8, pub, msg));
    BabyJubScalar s = BabyJubScalar::from_bytes_le_reduce(EddsaKeyAccess::pruned_scalar(key));
    BabyJubScalar sig_s = r + hm * s;
    wipe(r);
    wipe(s);
    return EddsaSignature{r8, sig_s.to_canonical()};
}

Status eddsa_verify_poseidon(const Fr& msg, const EddsaSignature& sig,
                             const BabyJubAffine& pub) noexcept {
    if (!BabyJubScalar::is_canonical(sig.s)) {
        return Status::input_out_of_range;
    }
    if (!baby_jub_is_on_curve(sig.r8) || !baby_jub_is_on_curve(pub)) {
        return Status::not_on_curve;
    }
    const BabyJubPoint r8 = BabyJubPoint::from_affine(sig.r8);
    const BabyJubPoint a = BabyJubPoint::from_affine(pub);
    if (!r8.in_subgroup_vartime() || !a.in_subgroup_vartime()) {
        return Status::not_in_subgroup;
    }
    if (a.is_identity()) {
        return Status::identity_point;
    }
    // A is in the subgroup, so (8 hm) * A may take 8 hm mod l.
    BabyJubScalar h8 = fr_mod_l(challenge(sig.r8, pub, msg)) * BabyJubScalar::from_u64(8);
    const Limbs minus_h8 = (-h8).to_canonical();
    const BabyJubPoint lhs =
        BabyJubPoint::double_mul_vartime(sig.s, BabyJubPoint::base8(), minus_h8, a);
    return lhs == r8 ? Status::ok : Status::invalid_signature;
}

void eddsa_pack_signature(const EddsaSignature& sig,
                          uint8_t out[kEddsaSignatureBytes]) noexcept {
    baby_jub_pack(sig.r8, out);
    for (int i = 0; i < 32; ++i) {
        out[32 + i] = static_cast<uint8_t>(sig.s[i / 8] >> (8 * (i % 8)));
    }
}

Status eddsa_unpack_signature(const uint8_t in[kEddsaSignatureBytes],
                              EddsaSignature& out) noexcept {
    BabyJubAffine r8;
    Status st = baby_jub_unpack(in, r8);
    if (st != Status::ok) {
        return st;
    }
    out = EddsaSignature{r8, Fr::limbs_from_bytes_le(in + 32)};
    return Status::ok;
}

}  // namespace libverify
