#pragma once
// Reading what an upstream says a request used, for the gateway's metering
// (docs/directives.md, zkcredit_meter): OpenAI-compatible answers and
// streamed chunks (their "usage" object and policy refusals), SSE lines, and
// JSON-RPC bodies (their methods). Pure functions of their input, kept out
// of the nginx module so they can be fuzzed on their own. None throws.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace libverify {

// JSON no deeper than 32 levels and without duplicate keys (which readers
// resolve differently, so an answer could mean one thing to the gateway
// and another to the client); false otherwise.
bool parse_strict_json(std::string_view text, nlohmann::json& out) noexcept;

struct TokenUsage {
    bool found = false;  // the answer carries a usage object
    uint64_t prompt = 0;
    uint64_t completion = 0;
    uint64_t cached = 0;     // part of the prompt
    uint64_t reasoning = 0;  // part of the completion
    std::string model;       // the answer's "model", at most kMaxModel bytes
};

constexpr size_t kMaxModel = 64;

struct AnswerReading {
    TokenUsage usage;
    bool policy_refusal = false;  // an OpenAI error object whose code is a content policy's
    std::string policy_message;   // its message, or the code when it has none
};

// An answer or one streamed chunk. False for JSON that cannot be read (not
// strict JSON, not an object) or a usage with impossible numbers (a count
// that is not an integer below 2^64, more cached tokens than prompt tokens,
// more reasoning tokens than completion tokens).
bool read_answer(std::string_view text, AnswerReading& out) noexcept;

// "field:" then an optional space: the value, without its line end; false
// when the line is not that field.
bool sse_field(std::string_view line, std::string_view field, std::string_view& value) noexcept;

// Whether a chunk may carry usage, without parsing it: a stream with
// include_usage says "usage":null in every chunk but the last, and parsing
// each chunk would cost more than passing it on. True whenever some
// "usage" key (any case) is not followed by null, or the chunk has a \u
// escape (a key may spell "usage" so), so a chunk with usage is never
// skipped.
bool may_carry_usage(std::string_view data) noexcept;

// The methods of a JSON-RPC request or batch, in order; false when the
// body is not one (not strict JSON, an empty batch, a call that is not an
// object or has no string "method").
bool rpc_methods(std::string_view body, std::vector<std::string>& methods) noexcept;

}  // namespace libverify
