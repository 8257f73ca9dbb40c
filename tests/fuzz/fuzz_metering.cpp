// What an upstream answers, as the gateway's meter reads it (libverify
// metering): any bytes give a reading or a refusal, never a crash or an
// exception; a reading obeys the usage's own bounds; a chunk that parses
// with a usage is never one may_carry_usage would skip; and the JSON-RPC
// reader accepts exactly the strict JSON it can name methods for.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "libverify/metering.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    libverify::AnswerReading reading;
    if (libverify::read_answer(text, reading)) {
        const libverify::TokenUsage& usage = reading.usage;
        if (usage.found && (usage.cached > usage.prompt || usage.reasoning > usage.completion ||
                            usage.model.size() > libverify::kMaxModel)) {
            abort();
        }
        if (usage.found && !libverify::may_carry_usage(text)) {
            abort();
        }
    } else if (reading.usage.found || reading.policy_refusal) {
        abort();
    }

    std::vector<std::string> methods;
    if (libverify::rpc_methods(text, methods)) {
        nlohmann::json doc;
        if (methods.empty() || !libverify::parse_strict_json(text, doc)) {
            abort();
        }
    } else if (!methods.empty()) {
        abort();
    }

    std::string_view value;
    if (libverify::sse_field(text, "data", value) &&
        (value.size() > text.size() || (!value.empty() && value.back() == '\n'))) {
        abort();
    }
    return 0;
}
