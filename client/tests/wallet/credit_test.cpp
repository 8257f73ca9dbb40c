// Client-side protocol checks that need no oracle: solvency arithmetic, the
// challenge parser, and the input assembly's refusals.

#include <algorithm>
#include <cstring>

#include <gtest/gtest.h>

#include "libverify/eddsa_poseidon.hpp"
#include "zkclient/credit.hpp"

namespace zkclient {
namespace {

std::string packed_key_hex() {
    uint8_t seed[32];
    std::fill(seed, seed + 32, uint8_t{7});
    libverify::EddsaPrivateKey key;
    EXPECT_EQ(libverify::EddsaPrivateKey::from_bytes(seed, 32, key), Status::ok);
    std::array<uint8_t, libverify::kBabyJubPackedBytes> packed;
    libverify::baby_jub_pack(libverify::eddsa_prv2pub(key), packed.data());
    return key_to_hex(packed);
}

TEST(Solvency, IsTheStatementsInequalityWithoutWrapping) {
    EXPECT_TRUE(solvent(0, 1000, 1000, 0));
    EXPECT_FALSE(solvent(1, 1000, 1000, 0));
    EXPECT_TRUE(solvent(1, 1000, 1000, 1000));
    EXPECT_TRUE(solvent(4, 1000, 4250, 750));
    EXPECT_FALSE(solvent(4, 1000, 4250, 749));
    // (2^32) * (2^64 - 1) wraps 64 bits; the check must not.
    EXPECT_FALSE(solvent(UINT32_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX));
    EXPECT_TRUE(solvent(1, UINT64_MAX, UINT64_MAX, UINT64_MAX));
}

TEST(Challenge, ParsesTheGatewaysHeader) {
    const std::string key = packed_key_hex();
    Challenge c;
    ASSERT_EQ(
        challenge_parse(
            "ZKCredit realm=\"zkcredit\", scope=\"77\", c_max=\"1000\", key=\"" + key + "\"", c),
        Status::ok);
    EXPECT_EQ(c.realm, "zkcredit");
    EXPECT_TRUE(c.scope == Fr::from_u64(77));
    EXPECT_EQ(c.c_max, 1000u);
    EXPECT_EQ(key_to_hex(c.key_packed), key);
    // Order, case of the scheme and unknown parameters do not matter.
    ASSERT_EQ(challenge_parse("zkcredit key=\"" + key +
                                  "\",c_max=\"5\" , extra=\"x\", scope=\"1\", realm=\"a b\"",
                              c),
              Status::ok);
    EXPECT_EQ(c.realm, "a b");
    EXPECT_EQ(c.c_max, 5u);
}

TEST(Challenge, RefusesMalformedOrOutOfRange) {
    const std::string key = packed_key_hex();
    const std::string tail = ", key=\"" + key + "\"";
    Challenge c;
    EXPECT_EQ(challenge_parse("Bearer realm=\"x\"", c), Status::bad_encoding);
    EXPECT_EQ(challenge_parse("ZKCredit realm=\"x\", scope=\"1\"" + tail, c), Status::bad_encoding);
    EXPECT_EQ(
        challenge_parse("ZKCredit realm=\"x\", scope=\"1\", scope=\"2\", c_max=\"1\"" + tail, c),
        Status::bad_encoding);
    EXPECT_EQ(challenge_parse("ZKCredit realm=\"x\", scope=1, c_max=\"1\"" + tail, c),
              Status::bad_encoding);
    EXPECT_EQ(challenge_parse("ZKCredit realm=\"x\", scope=\"01\", c_max=\"1\"" + tail, c),
              Status::bad_encoding);
    EXPECT_EQ(challenge_parse("ZKCredit realm=\"x\", scope=\"1\", c_max=\"0\"" + tail, c),
              Status::input_out_of_range);
    EXPECT_EQ(challenge_parse(
                  "ZKCredit realm=\"x\", scope=\"1\", c_max=\"18446744073709551616\"" + tail, c),
              Status::input_out_of_range);
    EXPECT_EQ(challenge_parse("ZKCredit realm=\"x\", "
                              "scope="
                              "\"218882428718392752222464057452572750885483644004160343436982041865"
                              "75808495617\", c_max=\"1\"" +
                                  tail,
                              c),
              Status::input_out_of_range);
    std::string bad_key = key;
    bad_key[0] = 'g';
    EXPECT_EQ(challenge_parse(
                  "ZKCredit realm=\"x\", scope=\"1\", c_max=\"1\", key=\"" + bad_key + "\"", c),
              Status::bad_encoding);
}

CreditParameters genesis_parameters() {
    CreditParameters p;
    p.k = Fr::from_u64(5);
    p.deposit = 1000;
    p.path_elements.assign(kCreditTreeDepth, Fr::zero());
    p.scope = Fr::from_u64(1);
    p.c_max = 10;
    Challenge c;
    EXPECT_EQ(
        challenge_parse(
            "ZKCredit realm=\"x\", scope=\"1\", c_max=\"1\", key=\"" + packed_key_hex() + "\"", c),
        Status::ok);
    p.key = c.key;
    return p;
}

TEST(CreditInputAssembly, RefusesWrongPathOrWrappingTotals) {
    CreditParameters p = genesis_parameters();
    CreditInput input;
    ASSERT_EQ(credit_input_assemble(p, input), Status::ok);
    EXPECT_TRUE(input.genesis == Fr::one());
    EXPECT_TRUE(input.voucher_r8y == Fr::one());

    p.path_elements.pop_back();
    EXPECT_EQ(credit_input_assemble(p, input), Status::bad_length);
    p = genesis_parameters();
    p.leaf_index = uint64_t{1} << kCreditTreeDepth;
    EXPECT_EQ(credit_input_assemble(p, input), Status::bad_length);

    p = genesis_parameters();
    VoucherOpening opening;
    opening.voucher.amount = 2;
    opening.refund_total_prev = UINT64_MAX - 1;
    p.voucher = &opening;
    EXPECT_EQ(credit_input_assemble(p, input), Status::input_out_of_range);
}

TEST(Randomness, FieldElementsAndNoncesDiffer) {
    EXPECT_FALSE(random_field_element() == random_field_element());
    uint8_t a[libverify::kNonceBytes], b[libverify::kNonceBytes];
    random_nonce(a);
    random_nonce(b);
    EXPECT_NE(std::memcmp(a, b, sizeof a), 0);
}

}  // namespace
}  // namespace zkclient
