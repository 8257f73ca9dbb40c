#include "zkchain/policy_receipt.hpp"

#include <sodium.h>

namespace zkchain {

namespace {

constexpr std::string_view kReceiptTag = "zkcredit/v1/policy-receipt";

void put_u64be(uint64_t value, uint8_t* out) {
    for (int i = 7; i >= 0; --i) {
        out[i] = static_cast<uint8_t>(value & 0xff);
        value >>= 8;
    }
}

uint64_t get_u64be(const uint8_t* in) {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = value << 8 | in[i];
    return value;
}

void append(Bytes& out, const uint8_t* data, size_t size) { out.insert(out.end(), data, data + size); }

void append_u64be(Bytes& out, uint64_t value) {
    uint8_t bytes[8];
    put_u64be(value, bytes);
    append(out, bytes, sizeof bytes);
}

}  // namespace

Word policy_receipt_digest(const ReceiptDomain& domain, const PolicyReceipt& receipt) {
    Bytes packed;
    packed.reserve(kReceiptTag.size() + 32 + 20 + 32 + 8 + 32 + 8);
    append(packed, reinterpret_cast<const uint8_t*>(kReceiptTag.data()), kReceiptTag.size());
    const Word chain = word_of(static_cast<Amount>(domain.chain_id));
    append(packed, chain.data(), chain.size());
    append(packed, domain.contract.bytes.data(), domain.contract.bytes.size());
    append(packed, receipt.nullifier.data(), receipt.nullifier.size());
    append_u64be(packed, receipt.credits);
    append(packed, receipt.evidence_digest.data(), receipt.evidence_digest.size());
    append_u64be(packed, receipt.issued_at);
    Word digest;
    crypto_hash_sha256(digest.data(), packed.data(), packed.size());
    return digest;
}

void sign_policy_receipt(const Signer& key, const ReceiptDomain& domain, PolicyReceipt& receipt) {
    receipt.signature = key.sign_digest(policy_receipt_digest(domain, receipt));
}

std::array<uint8_t, kPolicyReceiptBytes> encode_policy_receipt(const PolicyReceipt& receipt) {
    std::array<uint8_t, kPolicyReceiptBytes> out{};
    uint8_t* p = out.data();
    *p++ = kPolicyReceiptVersion;
    p = std::copy(receipt.nullifier.begin(), receipt.nullifier.end(), p);
    put_u64be(receipt.credits, p);
    p += 8;
    p = std::copy(receipt.evidence_digest.begin(), receipt.evidence_digest.end(), p);
    put_u64be(receipt.issued_at, p);
    p += 8;
    p = std::copy(receipt.signature.r.begin(), receipt.signature.r.end(), p);
    p = std::copy(receipt.signature.s.begin(), receipt.signature.s.end(), p);
    *p = receipt.signature.v;
    return out;
}

std::string policy_receipt_text(const PolicyReceipt& receipt) {
    const std::array<uint8_t, kPolicyReceiptBytes> bytes = encode_policy_receipt(receipt);
    std::string text(kPolicyReceiptChars, '\0');
    libverify::base64url_encode(bytes.data(), bytes.size(), text.data());
    return text;
}

std::optional<PolicyReceipt> parse_policy_receipt(std::string_view text) {
    std::array<uint8_t, kPolicyReceiptBytes> bytes{};
    if (libverify::base64url_decode_exact(text, bytes.data(), bytes.size()) !=
            libverify::Status::ok ||
        bytes[0] != kPolicyReceiptVersion || (bytes[145] != 27 && bytes[145] != 28)) {
        return std::nullopt;
    }
    PolicyReceipt receipt;
    const uint8_t* p = bytes.data() + 1;
    std::copy(p, p + 32, receipt.nullifier.begin());
    receipt.credits = get_u64be(p + 32);
    std::copy(p + 40, p + 72, receipt.evidence_digest.begin());
    receipt.issued_at = get_u64be(p + 72);
    std::copy(p + 80, p + 112, receipt.signature.r.begin());
    std::copy(p + 112, p + 144, receipt.signature.s.begin());
    receipt.signature.v = p[144];
    return receipt;
}

std::vector<Word> policy_receipt_words(const PolicyReceipt& receipt) {
    return {receipt.nullifier,
            word_of(static_cast<Amount>(receipt.credits)),
            receipt.evidence_digest,
            word_of(static_cast<Amount>(receipt.issued_at)),
            word_of(static_cast<Amount>(receipt.signature.v)),
            receipt.signature.r,
            receipt.signature.s};
}

std::optional<Address> policy_receipt_signer(const ReceiptDomain& domain,
                                             const PolicyReceipt& receipt) {
    return recover_signer(policy_receipt_digest(domain, receipt), receipt.signature);
}

}  // namespace zkchain
