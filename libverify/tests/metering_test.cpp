#include "libverify/metering.hpp"

#include <gtest/gtest.h>

namespace libverify {
namespace {

TEST(Metering, StrictJsonRefusesDuplicateKeysAndDeepNesting) {
    nlohmann::json doc;
    EXPECT_TRUE(parse_strict_json(R"({"a":{"b":1},"c":[{"b":2}]})", doc));
    EXPECT_FALSE(parse_strict_json(R"({"usage":1,"usage":2})", doc));
    EXPECT_FALSE(parse_strict_json(R"({"a":{"x":1,"x":1}})", doc));
    EXPECT_TRUE(parse_strict_json(std::string(32, '[') + std::string(32, ']'), doc));
    EXPECT_FALSE(parse_strict_json(std::string(33, '[') + std::string(33, ']'), doc));
    EXPECT_FALSE(parse_strict_json("{\"a\":1} trailing", doc));
    EXPECT_FALSE(parse_strict_json("", doc));
}

TEST(Metering, ReadsTheUsageOfAnOpenAIAnswer) {
    AnswerReading reading;
    ASSERT_TRUE(read_answer(R"({"model":"gpt-x","usage":{"prompt_tokens":10,
        "completion_tokens":20,"prompt_tokens_details":{"cached_tokens":4},
        "completion_tokens_details":{"reasoning_tokens":5}}})", reading));
    EXPECT_TRUE(reading.usage.found);
    EXPECT_EQ(reading.usage.prompt, 10u);
    EXPECT_EQ(reading.usage.completion, 20u);
    EXPECT_EQ(reading.usage.cached, 4u);
    EXPECT_EQ(reading.usage.reasoning, 5u);
    EXPECT_EQ(reading.usage.model, "gpt-x");
    EXPECT_FALSE(reading.policy_refusal);

    ASSERT_TRUE(read_answer(R"({"model":")" + std::string(100, 'm') + R"(","usage":{}})",
                            reading));
    EXPECT_EQ(reading.usage.model.size(), kMaxModel);
    ASSERT_TRUE(read_answer(R"({"choices":[],"usage":null})", reading));
    EXPECT_FALSE(reading.usage.found);
}

TEST(Metering, ImpossibleUsageIsUnreadable) {
    AnswerReading reading;
    for (const char* answer : {
             R"({"usage":{"prompt_tokens":-1}})",
             R"({"usage":{"prompt_tokens":1.5}})",
             R"({"usage":{"prompt_tokens":"7"}})",
             R"({"usage":{"prompt_tokens":18446744073709551616}})",
             R"({"usage":{"prompt_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}})",
             R"({"usage":{"completion_tokens":3,
                 "completion_tokens_details":{"reasoning_tokens":4}}})",
             R"({"usage":[1,2]})",
             R"([{"usage":{}}])",
         }) {
        EXPECT_FALSE(read_answer(answer, reading)) << answer;
        EXPECT_FALSE(reading.usage.found) << answer;
    }
    ASSERT_TRUE(read_answer(R"({"usage":{"prompt_tokens":18446744073709551615}})", reading));
    EXPECT_EQ(reading.usage.prompt, UINT64_MAX);
}

TEST(Metering, PolicyRefusalsByTheirCode) {
    AnswerReading reading;
    ASSERT_TRUE(read_answer(
        R"({"error":{"code":"content_policy_violation","message":"no"}})", reading));
    EXPECT_TRUE(reading.policy_refusal);
    EXPECT_EQ(reading.policy_message, "no");
    ASSERT_TRUE(read_answer(R"({"error":{"code":"content_filter"}})", reading));
    EXPECT_EQ(reading.policy_message, "content_filter");
    ASSERT_TRUE(read_answer(R"({"error":{"code":"rate_limit_exceeded"}})", reading));
    EXPECT_FALSE(reading.policy_refusal);
    ASSERT_TRUE(read_answer(R"({"error":"content_filter"})", reading));
    EXPECT_FALSE(reading.policy_refusal);
}

TEST(Metering, SseFields) {
    std::string_view value;
    ASSERT_TRUE(sse_field("data: {\"a\":1}\r\n", "data", value));
    EXPECT_EQ(value, "{\"a\":1}");
    ASSERT_TRUE(sse_field("data:[DONE]\n", "data", value));
    EXPECT_EQ(value, "[DONE]");
    ASSERT_TRUE(sse_field("data:", "data", value));
    EXPECT_EQ(value, "");
    EXPECT_FALSE(sse_field("dat: x", "data", value));
    EXPECT_FALSE(sse_field("database: x", "data", value));
    EXPECT_FALSE(sse_field(": comment", "data", value));
}

TEST(Metering, ChunksThatMayCarryUsage) {
    EXPECT_FALSE(may_carry_usage(R"({"choices":[{"delta":{}}],"usage":null})"));
    EXPECT_FALSE(may_carry_usage(R"({"usage" : null})"));
    EXPECT_FALSE(may_carry_usage("no key here"));
    EXPECT_TRUE(may_carry_usage(R"({"usage":{"prompt_tokens":1}})"));
    EXPECT_TRUE(may_carry_usage(R"({"USAGE":1})"));
    EXPECT_TRUE(may_carry_usage(R"({"usage":null,"x":{"usage":{}}})"));
    EXPECT_TRUE(may_carry_usage(R"({"usage":nul)"));
    // the key in escapes: what the parser reads as "usage"
    const std::string escaped = R"({"\u0075sage":{"prompt_tokens":1}})";
    AnswerReading reading;
    ASSERT_TRUE(read_answer(escaped, reading));
    EXPECT_TRUE(reading.usage.found);
    EXPECT_TRUE(may_carry_usage(escaped));
}

TEST(Metering, RpcMethodsOfACallAndABatch) {
    std::vector<std::string> methods;
    ASSERT_TRUE(rpc_methods(R"({"jsonrpc":"2.0","id":1,"method":"eth_call"})", methods));
    EXPECT_EQ(methods, std::vector<std::string>{"eth_call"});
    ASSERT_TRUE(rpc_methods(R"([{"method":"a"},{"method":"b"}])", methods));
    EXPECT_EQ(methods, (std::vector<std::string>{"a", "b"}));
    for (const char* body : {"[]", R"([{"method":"a"},1])", R"({"method":7})", R"({"id":1})",
                             "\"eth_call\"", R"({"method":"a","method":"b"})", "not json"}) {
        EXPECT_FALSE(rpc_methods(body, methods)) << body;
        EXPECT_TRUE(methods.empty()) << body;
    }
}

}  // namespace
}  // namespace libverify
