#pragma once
// A policy receipt (docs/protocol.md §9.1): the gateway's signed statement
// that a request was refused by policy and its whole C_max must be burned,
// in the 146 bytes the ZKCredit-Policy-Receipt header carries and with the
// digest the deposit contract's burnPolicyReceipts recovers the signer of.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libverify/base64url.hpp"
#include "zkchain/ethereum.hpp"
#include "zkchain/signer.hpp"

namespace zkchain {

constexpr size_t kPolicyReceiptBytes = 146;
constexpr size_t kPolicyReceiptChars = libverify::base64url_encoded_size(kPolicyReceiptBytes);
constexpr uint8_t kPolicyReceiptVersion = 0x01;

// The contract a receipt is burned at, on its chain: the receipt's digest
// names both, so that a receipt counts at no other deployment.
struct ReceiptDomain {
    uint64_t chain_id = 0;
    Address contract;
};

struct PolicyReceipt {
    Word nullifier{};
    uint64_t credits = 0;      // C_max
    Word evidence_digest{};    // SHA-256 of the policy reason
    uint64_t issued_at = 0;    // unix seconds, the gateway's clock
    Signature signature;
};

// sha256(abi.encodePacked("zkcredit/v1/policy-receipt", uint256 chain id,
// address contract, nullifier, uint64 credits, evidenceDigest, uint64
// issuedAt)): what the receipt key signs (the signature is not part of it).
Word policy_receipt_digest(const ReceiptDomain& domain, const PolicyReceipt& receipt);

// Fills in the signature of `receipt` (its other fields set) with `key`.
void sign_policy_receipt(const Signer& key, const ReceiptDomain& domain, PolicyReceipt& receipt);

// version, nullifier, credits (u64be), evidence digest, issued_at (u64be), r, s, v.
std::array<uint8_t, kPolicyReceiptBytes> encode_policy_receipt(const PolicyReceipt& receipt);
// The header's value: base64url without padding, kPolicyReceiptChars characters.
std::string policy_receipt_text(const PolicyReceipt& receipt);

// The header's value read strictly: its length, the alphabet, version 1, v
// 27 or 28. The signature is not checked here (policy_receipt_signer).
std::optional<PolicyReceipt> parse_policy_receipt(std::string_view text);

// The contract's burn of a batch, and one receipt as its PolicyReceipt
// tuple (nullifier, credits, evidenceDigest, issuedAt, v, r, s).
inline constexpr char kBurnPolicyReceipts[] =
    "burnPolicyReceipts((uint256,uint64,bytes32,uint64,uint8,bytes32,bytes32)[])";
std::vector<Word> policy_receipt_words(const PolicyReceipt& receipt);

// The address that signed the receipt for `domain`, as the contract's
// ecrecover finds it (none for a signature it would refuse).
std::optional<Address> policy_receipt_signer(const ReceiptDomain& domain,
                                             const PolicyReceipt& receipt);

}  // namespace zkchain
