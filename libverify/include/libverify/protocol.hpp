#pragma once
// The zkcredit v1 wire formats and checks (docs/protocol.md): the credential
// header, the request binding x, refund vouchers, and the verification of a
// credential against a deployment. Shared by the gateway and the client.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <sodium.h>

#include "libverify/baby_jubjub.hpp"
#include "libverify/base64url.hpp"
#include "libverify/eddsa_poseidon.hpp"
#include "libverify/field.hpp"
#include "libverify/groth16.hpp"
#include "libverify/status.hpp"

namespace libverify {

constexpr uint8_t kProtocolVersion = 1;
constexpr size_t kNonceBytes = 16;
constexpr size_t kCredentialBytes = 1 + 5 * 32 + kNonceBytes + kCompactProofSize;
constexpr size_t kCredentialChars = base64url_encoded_size(kCredentialBytes);
constexpr size_t kRefundBytes = 1 + 8 + 32 + kEddsaSignatureBytes;
constexpr size_t kRefundChars = base64url_encoded_size(kRefundBytes);
constexpr size_t kCreditPublicInputs = 8;
constexpr std::string_view kRequestBindingTag = "zkcredit/v1/request";

struct Credential {
    Fr root;
    Fr key_hash;
    Fr nullifier;
    Fr signal;
    Fr c_new;
    std::array<uint8_t, kNonceBytes> nonce{};
    Proof proof;
};

// The header value. Checks, first failure wins: bad_length (not 407
// characters), bad_encoding (base64url or version), input_out_of_range (a
// field element >= r), then the proof's point checks (Proof::from_compact).
Status credential_decode(std::string_view text, Credential& out) noexcept;

// Writes kCredentialChars characters.
void credential_encode(const Credential& credential, char* out) noexcept;

// x = hash_to_field(kRequestBindingTag, message) over the request as the
// gateway received it; the body may arrive in pieces.
class RequestBinder {
public:
    RequestBinder() noexcept;
    // Starts over for a new request; bad_length if the method is longer
    // than 65535 bytes or the target longer than 2^32 - 1.
    Status start(std::string_view method, std::string_view target) noexcept;
    void update_body(const uint8_t* data, size_t len) noexcept;
    Fr finish(const uint8_t nonce[kNonceBytes]) noexcept;

private:
    crypto_generichash_state binding_;
    crypto_hash_sha256_state body_;
};

// What a deployment fixes: the proof's public inputs besides those the
// credential carries.
struct Deployment {
    const VerifyingKey* vk = nullptr;
    Fr scope;
    uint64_t c_max = 0;
};

// The public inputs in circuit order: root, scope, C_max, key_hash, x, N, y, c_new.
std::array<Fr, kCreditPublicInputs> credit_public_inputs(const Deployment& deployment,
                                                         const Credential& credential,
                                                         const Fr& x) noexcept;

// ok or invalid_proof (or wrong_input_count for a key of another circuit).
Status credential_verify(const Deployment& deployment, const Credential& credential,
                         const Fr& x) noexcept;

// Verifies n credentials of one deployment together (groth16_verify_batch,
// keyed by the caller's secret 32-byte seed); verdicts[i] is each one's own
// status (ok, invalid_proof, wrong_input_count, internal_error), in both the
// all-valid and the failure case. xs[i] is credentials[i]'s binding.
void credential_verify_batch(const Deployment& deployment, const Credential* const* credentials,
                             const Fr* const* xs, size_t n, const uint8_t* seed32,
                             Status* verdicts) noexcept;

// key_hash = H(Ax, Ay).
Fr server_key_hash(const BabyJubAffine& key) noexcept;

// The voucher message H(s, c_new, refund).
Fr voucher_message(const Fr& scope, const Fr& c_new, uint64_t refund) noexcept;

struct Refund {
    uint64_t amount = 0;
    Fr key_hash;
    EddsaSignature signature;
};

Refund refund_sign(const EddsaSigningKey& key, const Fr& key_hash, const Fr& scope,
                   const Fr& c_new, uint64_t amount) noexcept;

// ok, or the signature's failure (eddsa_verify_poseidon), or invalid_signature
// when key_hash does not name `key`.
Status refund_verify(const Refund& refund, const BabyJubAffine& key, const Fr& scope,
                     const Fr& c_new) noexcept;

// Writes kRefundChars characters.
void refund_encode(const Refund& refund, char* out) noexcept;

// bad_length, bad_encoding (base64url, version, packed R8), input_out_of_range.
Status refund_decode(std::string_view text, Refund& out) noexcept;

}  // namespace libverify
