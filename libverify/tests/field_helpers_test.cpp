#include "libverify/field_helpers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "libverify/decimal.hpp"
#include "hashes_test_util.hpp"

namespace libverify {
namespace {

using hashes_test::fr;
using hashes_test::str;

TEST(HashToField, WorkedExample) {
    // Also in docs/libverify-hashes.md; computed with node's
    // crypto.createHash("blake2b512") over 0x03 || "abc" || "hello".
    const std::string data = "hello";
    Fr out = hash_to_field("abc", reinterpret_cast<const uint8_t*>(data.data()), data.size());
    EXPECT_EQ(hashes_test::dec(out), "7938055689695471317447974096557111563868274645392872771669038540024687408199");
}

TEST(HashToField, VectorFile) {
    nlohmann::json doc;
    if (!hashes_test::load_vectors("hash_to_field.json", doc)) {
        GTEST_SKIP() << "tests/vectors/hash_to_field.json not present";
    }
    const nlohmann::json& cases = doc["cases"];
    ASSERT_GT(cases.size(), 0u);
    for (size_t i = 0; i < cases.size(); ++i) {
        const nlohmann::json& c = cases[i];
        const std::vector<uint8_t> data = hashes_test::from_hex(str(c["data_hex"]));
        // tag_hex, when present, gives the tag's exact bytes.
        std::string tag = str(c["tag"]);
        if (c.contains("tag_hex")) {
            const std::vector<uint8_t> tag_bytes = hashes_test::from_hex(str(c["tag_hex"]));
            tag.assign(tag_bytes.begin(), tag_bytes.end());
            EXPECT_EQ(tag, str(c["tag"])) << "case " << i;
        }
        Fr out;
        ASSERT_EQ(hash_to_field_checked(tag, data.data(), data.size(), out), Status::ok)
            << "case " << i;
        EXPECT_EQ(out, fr(str(c["output"]))) << "case " << i;
        EXPECT_EQ(hash_to_field(tag, data.data(), data.size()), out);
    }
}

TEST(HashToField, TagLengthLimit) {
    const std::string max_tag(kMaxDomainTagBytes, 't');
    const std::string long_tag(kMaxDomainTagBytes + 1, 't');
    Fr out = Fr::from_u64(9);
    EXPECT_EQ(hash_to_field_checked(max_tag, nullptr, 0, out), Status::ok);
    EXPECT_NE(out, Fr::from_u64(9));
    Fr untouched = Fr::from_u64(9);
    EXPECT_EQ(hash_to_field_checked(long_tag, nullptr, 0, untouched), Status::bad_length);
    EXPECT_EQ(untouched, Fr::from_u64(9));
    EXPECT_EQ(hash_to_field(long_tag, nullptr, 0), Fr::zero());
}

TEST(HashToField, TagIsLengthPrefixed) {
    // ("ab", "c...") and ("a", "bc...") must not collide.
    const uint8_t c[1] = {'c'};
    const uint8_t bc[2] = {'b', 'c'};
    EXPECT_NE(hash_to_field("ab", c, 1), hash_to_field("a", bc, 2));
}

TEST(RlnKeyRecovery, RecoversTheSecret) {
    const Fr k = fr("1234567890123456789012345678901234567890");
    const Fr a1 = fr("98765432109876543210987654321");
    for (uint64_t seed = 1; seed < 6; ++seed) {
        const Fr x1 = Fr::from_u64(seed * 1000003) * a1;
        const Fr x2 = -Fr::from_u64(seed * 77);
        const Fr y1 = k + a1 * x1;
        const Fr y2 = k + a1 * x2;
        Fr out;
        ASSERT_EQ(recover_rln_key(x1, y1, x2, y2, out), Status::ok);
        EXPECT_EQ(out, k);
        ASSERT_EQ(recover_rln_key(x2, y2, x1, y1, out), Status::ok);
        EXPECT_EQ(out, k);
    }
}

TEST(RlnKeyRecovery, SameShareIsAnError) {
    const Fr x = Fr::from_u64(5);
    Fr out = Fr::from_u64(1);
    EXPECT_EQ(recover_rln_key(x, Fr::from_u64(7), x, Fr::from_u64(8), out),
              Status::input_out_of_range);
    EXPECT_EQ(out, Fr::from_u64(1));
}

TEST(Decimal, StrictParsing) {
    Fr out;
    Limbs l{};
    EXPECT_EQ(fr_from_decimal("0", out), Status::ok);
    EXPECT_TRUE(out.is_zero());
    EXPECT_EQ(fr_from_decimal("", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal("00", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal("01", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal("-1", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal("+1", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal(" 1", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal("1 ", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal("1e3", out), Status::bad_encoding);
    EXPECT_EQ(fr_from_decimal("0x10", out), Status::bad_encoding);
    const std::string r =
        "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    const std::string r_minus_1 =
        "21888242871839275222246405745257275088548364400416034343698204186575808495616";
    EXPECT_EQ(fr_from_decimal(r, out), Status::input_out_of_range);
    ASSERT_EQ(fr_from_decimal(r_minus_1, out), Status::ok);
    EXPECT_EQ(out, -Fr::one());
    EXPECT_EQ(hashes_test::dec(out), r_minus_1);
    const std::string max256 =
        "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    ASSERT_EQ(limbs_from_decimal(max256, l), Status::ok);
    EXPECT_EQ(l, (Limbs{~0ULL, ~0ULL, ~0ULL, ~0ULL}));
    EXPECT_EQ(hashes_test::dec(l), max256);
    EXPECT_EQ(limbs_from_decimal(
                  "115792089237316195423570985008687907853269984665640564039457584007913129639936",
                  l),
              Status::input_out_of_range);
    EXPECT_EQ(limbs_from_decimal(std::string(100, '9'), l), Status::input_out_of_range);
    EXPECT_EQ(limbs_from_decimal(std::string(100, '9') + "x", l), Status::bad_encoding);
    EXPECT_EQ(hashes_test::dec(Limbs{}), "0");
    EXPECT_EQ(hashes_test::dec(Fr::from_u64(10)), "10");
}

}  // namespace
}  // namespace libverify
