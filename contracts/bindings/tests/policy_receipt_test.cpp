#include "zkchain/policy_receipt.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "oracle.hpp"

namespace zkchain {
namespace {

const ReceiptDomain kDomain{31337, *Address::parse("0x5fbdb2315678afecb367f032d93f642f64180aa3")};

Word word_from_hex(const std::string& hex) {
    const std::optional<Bytes> bytes = from_hex(hex);
    Word word{};
    if (bytes && bytes->size() == word.size()) std::copy(bytes->begin(), bytes->end(), word.begin());
    return word;
}

PolicyReceipt example_receipt() {
    PolicyReceipt receipt;
    receipt.nullifier =
        word_from_hex("0x2a1b8c0f5e3d7a9b6c4e2f1a0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170");
    receipt.credits = 1000;
    // SHA-256("violation: test content"), as `sha256sum` prints it.
    receipt.evidence_digest =
        word_from_hex("0x" + run("printf %s 'violation: test content' | sha256sum | cut -c1-64"));
    receipt.issued_at = 1764612000;
    return receipt;
}

std::string signature_hex(const Signature& signature) {
    Bytes bytes(signature.r.begin(), signature.r.end());
    bytes.insert(bytes.end(), signature.s.begin(), signature.s.end());
    bytes.push_back(signature.v);
    return to_hex(bytes);
}

// The digest by another road: cast packs the fields as Solidity's
// abi.encodePacked does, coreutils hashes the bytes.
std::string cast_digest(const ReceiptDomain& domain, const PolicyReceipt& r) {
    const std::string packed =
        cast("abi-encode --packed 'f(string,uint256,address,bytes32,uint64,bytes32,uint64)' "
             "zkcredit/v1/policy-receipt " +
             std::to_string(domain.chain_id) + " " + domain.contract.hex() + " " +
             to_hex(r.nullifier.data(), 32) + " " + std::to_string(r.credits) + " " +
             to_hex(r.evidence_digest.data(), 32) + " " + std::to_string(r.issued_at));
    return "0x" + run("printf %s " + packed.substr(2) +
                      " | tr a-f A-F | basenc --base16 -d | sha256sum | cut -c1-64");
}

TEST(Address, Eip55IsWhatCastWrites) {
    // EIP-55's own examples, and addresses cast checksums.
    for (const char* text : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                             "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                             "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
                             "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
        EXPECT_EQ(Address::parse(text)->checksummed(), text);
    }
    for (const char* text : {kAnvilAddress, "0x5fbdb2315678afecb367f032d93f642f64180aa3",
                             "0x000000000000000000000000000000000000dead"}) {
        EXPECT_EQ(Address::parse(text)->checksummed(), cast(std::string("to-check-sum-address ") + text));
    }
}

TEST(Signer, DigestSignaturesAreThoseOfCast) {
    const Signer signer = Signer::from_hex(kAnvilKey);
    std::vector<uint8_t> seen_v;
    for (int i = 0; i < 8; ++i) {
        const Word digest = keccak256(reinterpret_cast<const uint8_t*>(&i), sizeof i);
        const Signature signature = signer.sign_digest(digest);
        const std::string digest_hex = to_hex(digest.data(), digest.size());
        EXPECT_EQ(signature_hex(signature),
                  cast(std::string("wallet sign --no-hash --private-key ") + kAnvilKey + " " +
                       digest_hex));
        EXPECT_EQ(recover_signer(digest, signature)->hex(), kAnvilAddress);
        seen_v.push_back(signature.v);
    }
    // Both recovery ids occur, so both are checked.
    EXPECT_NE(std::count(seen_v.begin(), seen_v.end(), 27), 0);
    EXPECT_NE(std::count(seen_v.begin(), seen_v.end(), 28), 0);
}

TEST(PolicyReceipt, DigestIsTheContractsPackedSha256) {
    PolicyReceipt receipt = example_receipt();
    EXPECT_EQ(to_hex(policy_receipt_digest(kDomain, receipt).data(), 32), cast_digest(kDomain, receipt));
    receipt.credits = UINT64_MAX;
    receipt.issued_at = 1;
    const ReceiptDomain mainnet{1, *Address::parse("0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb")};
    EXPECT_EQ(to_hex(policy_receipt_digest(mainnet, receipt).data(), 32), cast_digest(mainnet, receipt));
}

TEST(PolicyReceipt, SignedReceiptVerifiesWithCastAndRoundTrips) {
    const Signer signer = Signer::from_hex(kAnvilKey);
    PolicyReceipt receipt = example_receipt();
    sign_policy_receipt(signer, kDomain, receipt);

    const Word digest = policy_receipt_digest(kDomain, receipt);
    EXPECT_EQ(cast(std::string("wallet verify --no-hash --address ") + kAnvilAddress + " " +
                   to_hex(digest.data(), 32) + " " + signature_hex(receipt.signature) +
                   " >/dev/null && echo valid"),
              "valid");

    const std::string text = policy_receipt_text(receipt);
    ASSERT_EQ(text.size(), kPolicyReceiptChars);
    const std::optional<PolicyReceipt> parsed = parse_policy_receipt(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(encode_policy_receipt(*parsed), encode_policy_receipt(receipt));
    EXPECT_EQ(policy_receipt_signer(kDomain, *parsed)->hex(), kAnvilAddress);

    // Bound to its deployment and to every field.
    const ReceiptDomain other_chain{1, kDomain.contract};
    EXPECT_NE(policy_receipt_signer(other_chain, *parsed)->hex(), kAnvilAddress);
    PolicyReceipt more = *parsed;
    more.credits += 1;
    EXPECT_NE(policy_receipt_signer(kDomain, more)->hex(), kAnvilAddress);
}

TEST(PolicyReceipt, ParserRefusesEveryOtherText) {
    PolicyReceipt receipt = example_receipt();
    sign_policy_receipt(Signer::from_hex(kAnvilKey), kDomain, receipt);
    const std::string text = policy_receipt_text(receipt);
    std::array<uint8_t, kPolicyReceiptBytes> bytes = encode_policy_receipt(receipt);
    auto text_of = [](const std::array<uint8_t, kPolicyReceiptBytes>& b) {
        std::string out(kPolicyReceiptChars, '\0');
        libverify::base64url_encode(b.data(), b.size(), out.data());
        return out;
    };

    EXPECT_FALSE(parse_policy_receipt(""));
    EXPECT_FALSE(parse_policy_receipt(text.substr(1)));
    EXPECT_FALSE(parse_policy_receipt(text + "A"));
    EXPECT_FALSE(parse_policy_receipt(text + "="));  // padding
    std::string bad_char = text;
    bad_char[10] = '+';
    EXPECT_FALSE(parse_policy_receipt(bad_char));
    bytes[0] = 0x02;
    EXPECT_FALSE(parse_policy_receipt(text_of(bytes)));
    bytes[0] = kPolicyReceiptVersion;
    for (const uint8_t v : std::array<uint8_t, 4>{0, 1, 26, 29}) {
        bytes[145] = v;
        EXPECT_FALSE(parse_policy_receipt(text_of(bytes)));
    }
}

TEST(PolicyReceipt, BurnCalldataIsWhatCastEncodes) {
    const Signer signer = Signer::from_hex(kAnvilKey);
    std::vector<std::vector<Word>> tuples;
    std::string arguments;
    for (uint64_t i = 0; i < 3; ++i) {
        PolicyReceipt receipt = example_receipt();
        receipt.nullifier[31] = static_cast<uint8_t>(i);
        receipt.issued_at += i;
        sign_policy_receipt(signer, kDomain, receipt);
        tuples.push_back(policy_receipt_words(receipt));
        arguments += std::string(i ? "," : "") + "(" + to_hex(receipt.nullifier.data(), 32) + "," +
                     std::to_string(receipt.credits) + "," +
                     to_hex(receipt.evidence_digest.data(), 32) + "," +
                     std::to_string(receipt.issued_at) + "," +
                     std::to_string(receipt.signature.v) + "," +
                     to_hex(receipt.signature.r.data(), 32) + "," +
                     to_hex(receipt.signature.s.data(), 32) + ")";
    }
    EXPECT_EQ(to_hex(Calldata(kBurnPolicyReceipts).tuple_array(tuples).bytes()),
              cast(std::string("calldata '") + kBurnPolicyReceipts + "' '[" + arguments + "]'"));
}

// n - s, big-endian, for s below the secp256k1 group order n.
Word negate_scalar(const Word& s) {
    const Word n = word_from_hex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    Word out{};
    int borrow = 0;
    for (int i = 31; i >= 0; --i) {
        const int d = n[i] - s[i] - borrow;
        borrow = d < 0;
        out[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
    }
    return out;
}

TEST(PolicyReceipt, RecoveryRefusesWhatTheContractRefuses) {
    PolicyReceipt receipt = example_receipt();
    sign_policy_receipt(Signer::from_hex(kAnvilKey), kDomain, receipt);

    // The same signature with the high s (and the other v) is valid ECDSA,
    // which ecrecover would take, and EIP-2 refuses.
    PolicyReceipt high = receipt;
    high.signature.s = negate_scalar(receipt.signature.s);
    high.signature.v = receipt.signature.v == 27 ? 28 : 27;
    EXPECT_FALSE(policy_receipt_signer(kDomain, high));

    PolicyReceipt zero = receipt;
    zero.signature.r = Word{};
    EXPECT_FALSE(policy_receipt_signer(kDomain, zero));
    PolicyReceipt wrong_v = receipt;
    wrong_v.signature.v = 29;
    EXPECT_FALSE(policy_receipt_signer(kDomain, wrong_v));
}

}  // namespace
}  // namespace zkchain
