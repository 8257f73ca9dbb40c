// URL splitting (the target must reach the gateway byte for byte) and the
// hex forms of field elements.

#include <gtest/gtest.h>

#include "zkclient/credit.hpp"
#include "zkclient/error.hpp"
#include "zkclient/http.hpp"

namespace zkclient {
namespace {

TEST(Url, KeepsTheTargetVerbatim) {
    Url u = url_parse("http://127.0.0.1:8080/v1/chat?b=2&a=%2F#frag");
    EXPECT_EQ(u.origin, "http://127.0.0.1:8080");
    EXPECT_EQ(u.target, "/v1/chat?b=2&a=%2F");
    u = url_parse("https://api.example/a/../b/./c");
    EXPECT_EQ(u.origin, "https://api.example");
    EXPECT_EQ(u.target, "/a/../b/./c");
    EXPECT_EQ(url_parse("http://h").target, "/");
    EXPECT_EQ(url_parse("http://h?q=1").target, "/?q=1");
}

TEST(Url, RefusesWhatCannotBeSentExactly) {
    for (const char* bad :
         {"ftp://h/x", "h/x", "http:///x", "http://h/a b", "http://u:p@h/", "http://h/\x01"}) {
        try {
            url_parse(bad);
            ADD_FAILURE() << bad;
        } catch (const ClientError& e) {
            EXPECT_EQ(e.code(), ExitCode::usage);
        }
    }
}

TEST(Hex, FieldElementsRoundTripAndAreCanonical) {
    const Fr v = Fr::from_u64(0x1234);
    EXPECT_EQ(fr_to_hex(v), std::string(60, '0') + "1234");
    Fr back;
    ASSERT_EQ(fr_from_hex(fr_to_hex(v), back), Status::ok);
    EXPECT_TRUE(back == v);
    EXPECT_EQ(fr_from_hex("00", back), Status::bad_length);
    EXPECT_EQ(fr_from_hex(std::string(63, '0') + "G", back), Status::bad_encoding);
    EXPECT_EQ(fr_from_hex(std::string(63, '0') + "A", back), Status::bad_encoding);
    EXPECT_EQ(fr_from_hex(std::string(64, 'f'), back), Status::input_out_of_range);
    EXPECT_EQ(fr_to_dec(Fr::from_u64(907)), "907");
}

}  // namespace
}  // namespace zkclient
