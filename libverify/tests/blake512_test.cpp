#include "libverify/blake512.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hashes_test_util.hpp"

namespace libverify {
namespace {

std::string digest_hex(const std::vector<uint8_t>& msg) {
    uint8_t out[kBlake512DigestBytes];
    blake512(msg.data(), msg.size(), out);
    return hashes_test::to_hex(out, sizeof out);
}

// The two examples of the BLAKE specification (appendix, BLAKE-512): one zero
// byte (one block) and 144 zero bytes (two blocks, the second one partial).
TEST(Blake512, SpecificationExamples) {
    EXPECT_EQ(digest_hex(std::vector<uint8_t>(1, 0)),
              "97961587f6d970faba6d2478045de6d1fabd09b61ae50932054d52bc29d31be4"
              "ff9102b9f69e2bbdb83be13d4b9c06091e5fa0b48bd081b634058be0ec49beb3");
    EXPECT_EQ(digest_hex(std::vector<uint8_t>(144, 0)),
              "313717d608e9cf758dcb1eb0f0c3cf9fc150b2d500fb33f51c52afc99d358a2f"
              "1374b8a38bba7974e7f6ef79cab16f22ce1e649d6e01ad9589c213045d545dde");
}

// Outputs of npm blake-hash@2.0.0 createBlakeHash("blake512") for bytes
// (7 i + 3) mod 256, at the lengths around every padding boundary.
TEST(Blake512, MatchesNodeBlakeHash) {
    struct Case {
        size_t len;
        const char* hex;
    };
    const Case cases[] = {
        {0, "a8cfbbd73726062df0c6864dda65defe58ef0cc52a5625090fa17601e1eecd1b"
            "628e94f396ae402a00acc9eab77b4d4c2e852aaaa25a636d80af3fc7913ef5b8"},
        {1, "c863e9838c23747f94f451254225adc48c1d67b85da280e974f1dfe82b367777"
            "5b04505ec7d3b19cc15951be518c74c9855e58be90b0213b20f4f26e63239663"},
        {55, "b3ff4d4b40b6bbbba6b5716e158e3dddc946512379f7bc0e365fe67c085cd2f5"
             "3207ccbfc6b8e77c66da7380b11666834da49e1de060e1081b722775fea0da15"},
        {111, "720062f20d8c4d25f6453377c8824e94acce75207d0e205c6fd3fc00d8bae0ac"
              "b7166120ddcc1a75ba08c4ad3d8c5e0f316c86d22c6ee896394e61eebfc4c072"},
        {112, "98db0413b1d5d00701e47201b3231775469848e6dcc466518eb558bbc70a6f90"
              "52565dae93bb6492e6561191cb35cd6ff1d74acae40eac1f32adab1260438f01"},
        {127, "302dfa20f58f21868b5da6659eafa0ec775ed3aa5b14638ce143d0782856c254"
              "c98268b0e427f69d7be55c57d83b70748e71747bbdfd77434726c7e70c94ce90"},
        {128, "3c350078680ce05cd542e0b8fcf0757ce88131135ab58a5ec9785f02052d62fc"
              "799244607d404cfd97dfcd158474448d35d77cca9cffb931f261866cb1c38901"},
        {129, "d38d489c398a15651b72c4704d9ed5ab8c6875e2a2e8214b240d596566225c2e"
              "f9ca35979222b943c5b875138c49b5af906c86cf28848d5c288764128619ad82"},
        {239, "ab141e06ee544f9fa8b670476f44a4adf1a9c55a98fc1557fdf92495b682bc84"
              "528384b1d3e43521916d105fde4a04824f415084ff09330e8149339e5fbc6292"},
        {240, "3e4e0220dae2f81511364b0920bc80da9f84c67c3267ef9f26fb401103bee5fa"
              "31d592f6b45fe8120e9402f860cee1ec38e5126df01c044a45c3d3bd3c9ee858"},
        {256, "87d67e192348857ffe9b0aeb84ae6df1c41d18b42df1c57435ff2a758d9f56bb"
              "3319366be9d7c7c212edc17728d8484809605176fe988db3754ec3f5a7f34fe2"},
        {1000, "c6c3ddb28f2c3a4a9036376ced6ae799cc6effd7f9c20874bcc7d61226161171"
               "e2118ffdcbed43095fcff7c8e26e30fca801ed815e5c140d30775cac26da2a76"},
    };
    for (const Case& c : cases) {
        std::vector<uint8_t> msg(c.len);
        for (size_t i = 0; i < c.len; ++i) {
            msg[i] = static_cast<uint8_t>(i * 7 + 3);
        }
        EXPECT_EQ(digest_hex(msg), c.hex) << "length " << c.len;
    }
}

TEST(Blake512, IncrementalEqualsOneShot) {
    std::vector<uint8_t> msg(777);
    for (size_t i = 0; i < msg.size(); ++i) {
        msg[i] = static_cast<uint8_t>(i * 13 + 5);
    }
    const std::string expected = digest_hex(msg);
    for (size_t chunk : {1u, 3u, 64u, 127u, 128u, 129u, 500u}) {
        Blake512 state;
        for (size_t pos = 0; pos < msg.size(); pos += chunk) {
            size_t take = std::min(chunk, msg.size() - pos);
            state.update(msg.data() + pos, take);
        }
        uint8_t out[kBlake512DigestBytes];
        state.finish(out);
        EXPECT_EQ(hashes_test::to_hex(out, sizeof out), expected) << "chunk " << chunk;
    }
}

}  // namespace
}  // namespace libverify
