#include "libverify/poseidon.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "hashes_test_util.hpp"

namespace libverify {
namespace {

using hashes_test::fr;
using hashes_test::str;
using hashes_test::fr_hex;

TEST(Poseidon, CircomlibKnownAnswers) {
    const Fr one_two[2] = {Fr::from_u64(1), Fr::from_u64(2)};
    EXPECT_EQ(poseidon(one_two, 2),
              fr_hex("115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"));
    const Fr one[1] = {Fr::from_u64(1)};
    EXPECT_EQ(poseidon(one, 1),
              fr_hex("29176100eaa962bdc1fe6c654d6a3c130e96a4d1168b33848b897dc502820133"));
    const Fr four[4] = {Fr::from_u64(1), Fr::from_u64(2), Fr::from_u64(3), Fr::from_u64(4)};
    EXPECT_EQ(poseidon(four, 4),
              fr_hex("299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"));
}

TEST(Poseidon, CheckedRejectsBadWidths) {
    Fr inputs[kPoseidonMaxInputs + 1] = {};
    Fr out = Fr::from_u64(7);
    EXPECT_EQ(poseidon_checked(inputs, 0, out), Status::bad_length);
    EXPECT_EQ(poseidon_checked(inputs, kPoseidonMaxInputs + 1, out), Status::bad_length);
    EXPECT_EQ(out, Fr::from_u64(7));
    EXPECT_EQ(poseidon(inputs, 0), Fr::zero());
    EXPECT_EQ(poseidon(inputs, kPoseidonMaxInputs + 1), Fr::zero());
    for (size_t n = 1; n <= kPoseidonMaxInputs; ++n) {
        ASSERT_EQ(poseidon_checked(inputs, n, out), Status::ok);
        EXPECT_EQ(out, poseidon(inputs, n));
    }
}

TEST(Poseidon, VectorFile) {
    nlohmann::json doc;
    if (!hashes_test::load_vectors("poseidon/poseidon.json", doc)) {
        GTEST_SKIP() << "tests/vectors/poseidon/poseidon.json not present";
    }
    const nlohmann::json& cases = doc["cases"];
    ASSERT_GT(cases.size(), 0u);
    bool seen_width[kPoseidonMaxInputs + 1] = {};
    for (size_t i = 0; i < cases.size(); ++i) {
        const nlohmann::json& c = cases[i];
        std::vector<Fr> inputs;
        for (size_t j = 0; j < c["inputs"].size(); ++j) {
            inputs.push_back(fr(str(c["inputs"][j])));
        }
        Fr out;
        ASSERT_EQ(poseidon_checked(inputs.data(), inputs.size(), out), Status::ok) << "case " << i;
        EXPECT_EQ(out, fr(str(c["output"]))) << "case " << i;
        seen_width[inputs.size()] = true;
    }
    for (size_t n = 1; n <= kPoseidonMaxInputs; ++n) {
        EXPECT_TRUE(seen_width[n]) << "no vector with " << n << " inputs";
    }
}

}  // namespace
}  // namespace libverify
