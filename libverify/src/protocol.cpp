#include "libverify/protocol.hpp"

#include <algorithm>

#include <cstring>
#include <new>
#include <vector>

#include "libverify/poseidon.hpp"

namespace libverify {
namespace {

constexpr size_t kOffRoot = 1;
constexpr size_t kOffKeyHash = 33;
constexpr size_t kOffNullifier = 65;
constexpr size_t kOffSignal = 97;
constexpr size_t kOffCNew = 129;
constexpr size_t kOffNonce = 161;
constexpr size_t kOffProof = 177;
static_assert(kOffProof + kCompactProofSize == kCredentialBytes, "credential layout");

constexpr size_t kOffRefundAmount = 1;
constexpr size_t kOffRefundKeyHash = 9;
constexpr size_t kOffRefundSignature = 41;
static_assert(kOffRefundSignature + kEddsaSignatureBytes == kRefundBytes, "refund layout");

Status field_from(const uint8_t* in, Fr& out) {
    return Fr::from_bytes_be(in, out) ? Status::ok : Status::input_out_of_range;
}

void put_u16be(uint8_t* out, uint16_t v) {
    out[0] = static_cast<uint8_t>(v >> 8);
    out[1] = static_cast<uint8_t>(v);
}

void put_u32be(uint8_t* out, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
    }
}

}  // namespace

Status credential_decode(std::string_view text, Credential& out) noexcept {
    uint8_t raw[kCredentialBytes];
    Status st = base64url_decode_exact(text, raw, sizeof(raw));
    if (st != Status::ok) {
        return st;
    }
    if (raw[0] != kProtocolVersion) {
        return Status::bad_encoding;
    }
    Credential c;
    const size_t offsets[] = {kOffRoot, kOffKeyHash, kOffNullifier, kOffSignal, kOffCNew};
    Fr* fields[] = {&c.root, &c.key_hash, &c.nullifier, &c.signal, &c.c_new};
    for (size_t i = 0; i < 5; ++i) {
        if ((st = field_from(raw + offsets[i], *fields[i])) != Status::ok) {
            return st;
        }
    }
    std::memcpy(c.nonce.data(), raw + kOffNonce, kNonceBytes);
    if ((st = Proof::from_compact(raw + kOffProof, kCompactProofSize, c.proof)) != Status::ok) {
        return st;
    }
    out = c;
    return Status::ok;
}

void credential_encode(const Credential& credential, char* out) noexcept {
    uint8_t raw[kCredentialBytes];
    raw[0] = kProtocolVersion;
    credential.root.to_bytes_be(raw + kOffRoot);
    credential.key_hash.to_bytes_be(raw + kOffKeyHash);
    credential.nullifier.to_bytes_be(raw + kOffNullifier);
    credential.signal.to_bytes_be(raw + kOffSignal);
    credential.c_new.to_bytes_be(raw + kOffCNew);
    std::memcpy(raw + kOffNonce, credential.nonce.data(), kNonceBytes);
    credential.proof.to_compact(raw + kOffProof);
    base64url_encode(raw, sizeof(raw), out);
}

RequestBinder::RequestBinder() noexcept {
    (void)start("", "");
}

// The binding message streams into the hash_to_field BLAKE2b state:
// len(tag) || tag || u8 1 || u16be len(method) || method || u32be len(target)
// || target, then SHA-256(body) || nonce at the end.
Status RequestBinder::start(std::string_view method, std::string_view target) noexcept {
    if (method.size() > 0xffff || target.size() > 0xffffffffULL) {
        return Status::bad_length;
    }
    crypto_generichash_init(&binding_, nullptr, 0, crypto_generichash_BYTES_MAX);
    uint8_t tag_len = static_cast<uint8_t>(kRequestBindingTag.size());
    crypto_generichash_update(&binding_, &tag_len, 1);
    crypto_generichash_update(&binding_,
                              reinterpret_cast<const uint8_t*>(kRequestBindingTag.data()),
                              kRequestBindingTag.size());
    uint8_t prefix[3];
    prefix[0] = 1;
    put_u16be(prefix + 1, static_cast<uint16_t>(method.size()));
    crypto_generichash_update(&binding_, prefix, sizeof(prefix));
    crypto_generichash_update(&binding_, reinterpret_cast<const uint8_t*>(method.data()),
                              method.size());
    uint8_t target_len[4];
    put_u32be(target_len, static_cast<uint32_t>(target.size()));
    crypto_generichash_update(&binding_, target_len, sizeof(target_len));
    crypto_generichash_update(&binding_, reinterpret_cast<const uint8_t*>(target.data()),
                              target.size());
    crypto_hash_sha256_init(&body_);
    return Status::ok;
}

void RequestBinder::update_body(const uint8_t* data, size_t len) noexcept {
    crypto_hash_sha256_update(&body_, data, len);
}

Fr RequestBinder::finish(const uint8_t nonce[kNonceBytes]) noexcept {
    uint8_t body_digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&body_, body_digest);
    crypto_generichash_update(&binding_, body_digest, sizeof(body_digest));
    crypto_generichash_update(&binding_, nonce, kNonceBytes);
    uint8_t wide[crypto_generichash_BYTES_MAX];
    crypto_generichash_final(&binding_, wide, sizeof(wide));
    return Fr::from_bytes_le_wide_reduce(wide);
}

std::array<Fr, kCreditPublicInputs> credit_public_inputs(const Deployment& deployment,
                                                         const Credential& credential,
                                                         const Fr& x) noexcept {
    return {credential.root,     deployment.scope,
            Fr::from_u64(deployment.c_max), credential.key_hash,
            x,                   credential.nullifier,
            credential.signal,   credential.c_new};
}

Status credential_verify(const Deployment& deployment, const Credential& credential,
                         const Fr& x) noexcept {
    if (deployment.vk == nullptr) {
        return Status::internal_error;
    }
    try {
        auto inputs = credit_public_inputs(deployment, credential, x);
        return groth16_verify(*deployment.vk, credential.proof,
                              std::vector<Fr>(inputs.begin(), inputs.end()));
    } catch (const std::bad_alloc&) {
        return Status::internal_error;
    }
}

void credential_verify_batch(const Deployment& deployment, const Credential* const* credentials,
                             const Fr* const* xs, size_t n, const uint8_t* seed32,
                             Status* verdicts) noexcept {
    // What is left unset by a failure (an allocation) is an internal error.
    std::fill(verdicts, verdicts + n, Status::internal_error);
    if (deployment.vk == nullptr) {
        return;
    }
    try {
        std::vector<Proof> proofs;
        std::vector<std::vector<Fr>> inputs;
        proofs.reserve(n);
        inputs.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            const auto public_inputs = credit_public_inputs(deployment, *credentials[i], *xs[i]);
            proofs.push_back(credentials[i]->proof);
            inputs.emplace_back(public_inputs.begin(), public_inputs.end());
        }
        // The verdicts say everything: the returned status is the first bad one's.
        (void)groth16_verify_batch(*deployment.vk, proofs.data(), inputs.data(), n, seed32,
                                   verdicts);
    } catch (const std::bad_alloc&) {
        std::fill(verdicts, verdicts + n, Status::internal_error);
    }
}

Fr server_key_hash(const BabyJubAffine& key) noexcept {
    const Fr inputs[2] = {key.x, key.y};
    return poseidon(inputs, 2);
}

Fr voucher_message(const Fr& scope, const Fr& c_new, uint64_t refund) noexcept {
    const Fr inputs[3] = {scope, c_new, Fr::from_u64(refund)};
    return poseidon(inputs, 3);
}

Refund refund_sign(const EddsaSigningKey& key, const Fr& key_hash, const Fr& scope,
                   const Fr& c_new, uint64_t amount) noexcept {
    Refund refund;
    refund.amount = amount;
    refund.key_hash = key_hash;
    refund.signature = eddsa_sign_poseidon(key, voucher_message(scope, c_new, amount));
    return refund;
}

Status refund_verify(const Refund& refund, const BabyJubAffine& key, const Fr& scope,
                     const Fr& c_new) noexcept {
    if (server_key_hash(key) != refund.key_hash) {
        return Status::invalid_signature;
    }
    return eddsa_verify_poseidon(voucher_message(scope, c_new, refund.amount), refund.signature,
                                 key);
}

void refund_encode(const Refund& refund, char* out) noexcept {
    uint8_t raw[kRefundBytes];
    raw[0] = kProtocolVersion;
    for (int i = 0; i < 8; ++i) {
        raw[kOffRefundAmount + i] = static_cast<uint8_t>(refund.amount >> (56 - 8 * i));
    }
    refund.key_hash.to_bytes_be(raw + kOffRefundKeyHash);
    eddsa_pack_signature(refund.signature, raw + kOffRefundSignature);
    base64url_encode(raw, sizeof(raw), out);
}

Status refund_decode(std::string_view text, Refund& out) noexcept {
    uint8_t raw[kRefundBytes];
    Status st = base64url_decode_exact(text, raw, sizeof(raw));
    if (st != Status::ok) {
        return st;
    }
    if (raw[0] != kProtocolVersion) {
        return Status::bad_encoding;
    }
    Refund refund;
    for (int i = 0; i < 8; ++i) {
        refund.amount = (refund.amount << 8) | raw[kOffRefundAmount + i];
    }
    if ((st = field_from(raw + kOffRefundKeyHash, refund.key_hash)) != Status::ok) {
        return st;
    }
    if ((st = eddsa_unpack_signature(raw + kOffRefundSignature, refund.signature)) !=
        Status::ok) {
        return st;
    }
    out = refund;
    return Status::ok;
}

}  // namespace libverify
