// The tree arithmetic and the text encodings, without Redis. The tree's
// agreement with the JS reference is checked in registry_test.cpp.

#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "zkregistry/encoding.hpp"
#include "zkregistry/error.hpp"
#include "zkregistry/tree.hpp"

namespace zkregistry {
namespace {

using libverify::Fr;

Fr random_fr(std::mt19937_64& rng) {
    uint8_t bytes[64];
    for (uint8_t& b : bytes) {
        b = static_cast<uint8_t>(rng());
    }
    return Fr::from_bytes_le_wide_reduce(bytes);
}

TEST(Encoding, HexRoundTripAndStrictness) {
    std::mt19937_64 rng(1);
    for (int i = 0; i < 20; ++i) {
        const Fr value = random_fr(rng);
        const std::string hex = fr_to_hex(value);
        ASSERT_EQ(hex.size(), kFieldHexChars);
        Fr back;
        ASSERT_TRUE(fr_from_hex(hex, back));
        EXPECT_EQ(back, value);
    }
    EXPECT_EQ(fr_to_hex(Fr::from_u64(0x1234)),
              "0000000000000000000000000000000000000000000000000000000000001234");

    Fr out = Fr::from_u64(7);
    const std::string r_hex = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
    EXPECT_FALSE(fr_from_hex(r_hex, out));
    EXPECT_FALSE(fr_from_hex(std::string(63, '0'), out));
    EXPECT_FALSE(fr_from_hex(std::string(65, '0'), out));
    EXPECT_FALSE(fr_from_hex("00000000000000000000000000000000000000000000000000000000000000A1",
                             out));
    EXPECT_FALSE(fr_from_hex("00000000000000000000000000000000000000000000000000000000000000g1",
                             out));
    EXPECT_EQ(out, Fr::from_u64(7));  // untouched on failure
    Fr r_minus_1;
    ASSERT_TRUE(fr_from_hex("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000",
                            r_minus_1));
    EXPECT_EQ(r_minus_1, -Fr::one());
}

TEST(Encoding, FieldDecimal) {
    EXPECT_EQ(parse_field_decimal("0", "id"), Fr::zero());
    EXPECT_EQ(parse_field_decimal("12345", "id"), Fr::from_u64(12345));
    EXPECT_EQ(parse_field_decimal("218882428718392752222464057452572750885483644004160343436982041865"
                                  "75808495616",
                                  "id"),
              -Fr::one());
    for (const char* bad : {"", "01", "-1", "+1", " 1", "1 ", "1e3", "0x10", "12a",
                            "21888242871839275222246405745257275088548364400416034343698204186575"
                            "808495617",
                            "11579208923731619542357098500868790785326998466564056403945758400791"
                            "3129639936"}) {
        try {
            (void)parse_field_decimal(bad, "id");
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_input) << bad;
        }
    }
}

TEST(Encoding, Deposit) {
    EXPECT_EQ(parse_deposit("1"), 1u);
    EXPECT_EQ(parse_deposit("18446744073709551615"), UINT64_MAX);
    for (const char* bad : {"0", "00", "", "-5", "18446744073709551616", "1.5", "007"}) {
        try {
            (void)parse_deposit(bad);
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_input) << bad;
        }
    }
}

TEST(Tree, ZeroHashes) {
    const std::vector<Fr> zeros = zero_hashes(20);
    ASSERT_EQ(zeros.size(), 21u);
    EXPECT_TRUE(zeros[0].is_zero());
    // Poseidon(0, 0), as circomlibjs computes it.
    EXPECT_EQ(fr_to_hex(zeros[1]),
              "2098f5fb9e239eab3ceac3f27b81e481dc3124d55ffed523a839ee8446b64864");
    for (unsigned h = 0; h < 20; ++h) {
        EXPECT_EQ(zeros[h + 1], hash_pair(zeros[h], zeros[h]));
    }
    EXPECT_EQ(tree_root({}, 20), zeros[20]);
}

// Every path, recomputed from its siblings, gives the root of the whole tree,
// for every fill level of a small tree.
TEST(Tree, PathsAgreeWithLevels) {
    constexpr unsigned kDepth = 4;
    std::mt19937_64 rng(2);
    const std::vector<Fr> zeros = zero_hashes(kDepth);
    std::vector<Fr> leaves;
    for (unsigned n = 1; n <= (1u << kDepth); ++n) {
        leaves.push_back(random_fr(rng));
        const auto levels = build_levels(leaves, kDepth);
        ASSERT_EQ(levels.size(), kDepth + 1);
        for (unsigned h = 0; h <= kDepth; ++h) {
            EXPECT_EQ(levels[h].size(), (n + (1u << h) - 1) >> h);
        }
        const Fr root = levels[kDepth][0];
        EXPECT_EQ(tree_root(leaves, kDepth), root);
        for (uint64_t index = 0; index < n; ++index) {
            std::vector<Fr> siblings;
            for (unsigned h = 0; h < kDepth; ++h) {
                const uint64_t j = (index >> h) ^ 1;
                siblings.push_back(j < levels[h].size() ? levels[h][j] : zeros[h]);
            }
            const std::vector<Fr> nodes = path_nodes(leaves[index], index, siblings);
            ASSERT_EQ(nodes.size(), kDepth + 1);
            for (unsigned h = 0; h <= kDepth; ++h) {
                EXPECT_EQ(nodes[h], levels[h][index >> h]) << "n " << n << " index " << index;
            }
        }
    }
}

}  // namespace
}  // namespace zkregistry
