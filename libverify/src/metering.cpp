#include "libverify/metering.hpp"

#include <algorithm>
#include <cctype>

namespace libverify {

namespace {

constexpr int kMaxDepth = 32;

// The error codes by which OpenAI-compatible APIs refuse content by policy.
constexpr std::string_view kPolicyCodes[] = {"content_policy_violation", "content_filter"};

// A count of tokens: a non-negative integer below 2^64, or absent (0).
bool token_count(const nlohmann::json& object, const char* name, uint64_t& out) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
        out = 0;
        return true;
    }
    if (!it->is_number_unsigned()) {
        return false;
    }
    out = it->get<uint64_t>();
    return true;
}

bool read_usage(const nlohmann::json& usage, TokenUsage& out) {
    if (!usage.is_object() || !token_count(usage, "prompt_tokens", out.prompt) ||
        !token_count(usage, "completion_tokens", out.completion)) {
        return false;
    }
    const auto prompt_details = usage.find("prompt_tokens_details");
    if (prompt_details != usage.end() && prompt_details->is_object() &&
        !token_count(*prompt_details, "cached_tokens", out.cached)) {
        return false;
    }
    const auto completion_details = usage.find("completion_tokens_details");
    if (completion_details != usage.end() && completion_details->is_object() &&
        !token_count(*completion_details, "reasoning_tokens", out.reasoning)) {
        return false;
    }
    return out.cached <= out.prompt && out.reasoning <= out.completion;
}

void read_policy(const nlohmann::json& error, AnswerReading& out) {
    if (!error.is_object()) {
        return;
    }
    const auto code = error.find("code");
    if (code == error.end() || !code->is_string()) {
        return;
    }
    const std::string& name = code->get_ref<const std::string&>();
    if (std::find(std::begin(kPolicyCodes), std::end(kPolicyCodes), name) ==
        std::end(kPolicyCodes)) {
        return;
    }
    out.policy_refusal = true;
    const auto message = error.find("message");
    out.policy_message =
        message != error.end() && message->is_string() ? message->get<std::string>() : name;
}

}  // namespace

bool parse_strict_json(std::string_view text, nlohmann::json& out) noexcept {
    bool bad = false;
    std::vector<std::vector<std::string>> keys;
    auto check = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        if (depth >= kMaxDepth) {  // depth counts from 0 at the top level
            bad = true;
            return false;
        }
        switch (event) {
        case nlohmann::json::parse_event_t::object_start:
            keys.emplace_back();
            break;
        case nlohmann::json::parse_event_t::object_end:
            if (!keys.empty()) keys.pop_back();
            break;
        case nlohmann::json::parse_event_t::key:
            if (!keys.empty()) {
                std::vector<std::string>& seen = keys.back();
                const std::string& key = parsed.get_ref<const std::string&>();
                bad = bad || std::find(seen.begin(), seen.end(), key) != seen.end();
                seen.push_back(key);
            }
            break;
        default:
            break;
        }
        return !bad;
    };
    try {
        out = nlohmann::json::parse(text.begin(), text.end(), check, false);
    } catch (...) {
        return false;
    }
    return !bad && !out.is_discarded();
}

bool read_answer(std::string_view text, AnswerReading& out) noexcept {
    out = AnswerReading{};
    try {
        nlohmann::json doc;
        if (!parse_strict_json(text, doc) || !doc.is_object()) {
            return false;
        }
        if (const auto error = doc.find("error"); error != doc.end()) {
            read_policy(*error, out);
        }
        const auto usage = doc.find("usage");
        if (usage == doc.end() || usage->is_null()) {
            return true;
        }
        if (!read_usage(*usage, out.usage)) {
            out.usage = TokenUsage{};
            return false;
        }
        if (const auto model = doc.find("model"); model != doc.end() && model->is_string()) {
            const std::string& name = model->get_ref<const std::string&>();
            out.usage.model = name.substr(0, kMaxModel);
        }
        out.usage.found = true;
        return true;
    } catch (...) {
        out = AnswerReading{};
        return false;
    }
}

bool sse_field(std::string_view line, std::string_view field, std::string_view& value) noexcept {
    if (line.size() < field.size() + 1 || line.compare(0, field.size(), field) != 0 ||
        line[field.size()] != ':') {
        return false;
    }
    value = line.substr(field.size() + 1);
    if (!value.empty() && value.front() == ' ') {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
        value.remove_suffix(1);
    }
    return true;
}

bool may_carry_usage(std::string_view data) noexcept {
    constexpr std::string_view kKey = "\"usage\"";
    const auto same = [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
    };
    // A key may spell "usage" in \u escapes: such a chunk is parsed.
    if (data.find("\\u") != std::string_view::npos) {
        return true;
    }
    auto from = data.begin();
    for (;;) {
        const auto found = std::search(from, data.end(), kKey.begin(), kKey.end(), same);
        if (found == data.end()) {
            return false;
        }
        auto after = found + static_cast<std::ptrdiff_t>(kKey.size());
        while (after != data.end() && (*after == ' ' || *after == '\t' || *after == ':')) {
            ++after;
        }
        if (data.end() - after < 4 || std::string_view(&*after, 4) != "null") {
            return true;
        }
        from = after;
    }
}

bool rpc_methods(std::string_view body, std::vector<std::string>& methods) noexcept {
    methods.clear();
    try {
        nlohmann::json doc;
        if (!parse_strict_json(body, doc)) {
            return false;
        }
        if (doc.is_object()) {
            doc = nlohmann::json::array({std::move(doc)});
        } else if (!doc.is_array() || doc.empty()) {
            return false;
        }
        for (const nlohmann::json& call : doc) {
            const auto method = call.is_object() ? call.find("method") : call.end();
            if (!call.is_object() || method == call.end() || !method->is_string()) {
                methods.clear();
                return false;
            }
            methods.push_back(method->get<std::string>());
        }
        return true;
    } catch (...) {
        methods.clear();
        return false;
    }
}

}  // namespace libverify
