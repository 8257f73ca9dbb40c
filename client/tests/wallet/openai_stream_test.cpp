// The proxy's include_usage round trip (zkclient/openai_stream.hpp): the
// usage chunk is asked for only when the application did not, and only
// that chunk leaves the answer, whatever the pieces it arrives in.

#include <string>

#include <gtest/gtest.h>

#include "zkclient/openai_stream.hpp"

namespace zkclient {
namespace {

TEST(RequestStreamUsage, AddsIncludeUsageOnlyWhereItIsMissing) {
    std::string body = R"({"model":"m","stream":true,"messages":[]})";
    EXPECT_TRUE(request_stream_usage(body));
    EXPECT_EQ(body, R"({"model":"m","stream":true,"messages":[],"stream_options":{"include_usage":true}})");

    body = R"({"stream":true,"stream_options":{"include_usage":false,"x":1}})";
    EXPECT_TRUE(request_stream_usage(body));
    EXPECT_EQ(body, R"({"stream":true,"stream_options":{"include_usage":true,"x":1}})");

    for (const std::string unchanged :
         {R"({"stream":true,"stream_options":{"include_usage":true}})", R"({"stream":false})",
          R"({"model":"m"})", R"({"stream":"yes"})", R"({"stream":true,"stream_options":3})",
          R"([1,2])", "not json", ""}) {
        std::string copy = unchanged;
        EXPECT_FALSE(request_stream_usage(copy)) << unchanged;
        EXPECT_EQ(copy, unchanged);
    }
}

const char kChunk[] = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}";
const char kUsage[] = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}";

std::string filtered(const std::string& stream, size_t piece) {
    UsageChunkFilter filter;
    std::string out;
    for (size_t i = 0; i < stream.size(); i += piece) out += filter.feed(stream.substr(i, piece));
    return out + filter.finish();
}

TEST(UsageChunkFilter, RemovesOnlyTheUsageChunkAtAnySplit) {
    for (const std::string eol : {"\n", "\r\n", "\r"}) {
        const std::string head = std::string(kChunk) + eol + eol + ": comment" + eol + eol;
        const std::string stream = head + kUsage + eol + eol + "data: [DONE]" + eol + eol;
        const std::string expected = head + "data: [DONE]" + eol + eol;
        for (size_t piece = 1; piece <= stream.size(); ++piece) {
            EXPECT_EQ(filtered(stream, piece), expected) << "piece " << piece;
        }
    }
}

TEST(UsageChunkFilter, KeepsChunksThatCarryChoicesOrNoUsage) {
    const std::string stream =
        std::string("data: {\"choices\":[{}],\"usage\":{\"prompt_tokens\":3}}\n\n") +
        "data: {\"choices\":[],\"usage\":null}\n\n" + "data: {\"choices\":[]}\n\n" +
        "data: not json\n\n" + "event: usage\n\n" + "data: [DONE]\n\n" + "data: unfinished";
    for (size_t piece : {1, 5, 1000}) EXPECT_EQ(filtered(stream, piece), stream);
}

}  // namespace
}  // namespace zkclient
