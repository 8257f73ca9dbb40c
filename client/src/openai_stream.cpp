#include "zkclient/openai_stream.hpp"

#include <nlohmann/json.hpp>

namespace zkclient {

namespace {

using nlohmann::ordered_json;

// An event longer than this is not a usage chunk: it is passed on in parts
// instead of held.
constexpr size_t kMaxHeldEvent = 1 << 20;

// The data of an SSE event (its "data" fields joined by newlines, as the
// SSE parsing rules join them); false when it has none.
bool event_data(std::string_view event, std::string& data) {
    bool found = false;
    size_t start = 0;
    while (start < event.size()) {
        size_t end = event.find_first_of("\r\n", start);
        if (end == std::string_view::npos) end = event.size();
        std::string_view line = event.substr(start, end - start);
        if (line.rfind("data:", 0) == 0) {
            line.remove_prefix(5);
            if (!line.empty() && line[0] == ' ') line.remove_prefix(1);
            if (found) data += '\n';
            data.append(line);
            found = true;
        }
        start = end + 1;
        if (end < event.size() && event[end] == '\r' && start < event.size() &&
            event[start] == '\n') {
            ++start;
        }
    }
    return found;
}

bool is_usage_chunk(std::string_view event) {
    std::string data;
    if (!event_data(event, data)) return false;
    const ordered_json chunk = ordered_json::parse(data, nullptr, false);
    if (!chunk.is_object()) return false;
    const auto choices = chunk.find("choices");
    const auto usage = chunk.find("usage");
    return choices != chunk.end() && choices->is_array() && choices->empty() &&
           usage != chunk.end() && usage->is_object();
}

}  // namespace

bool request_stream_usage(std::string& body) {
    ordered_json request = ordered_json::parse(body, nullptr, false);
    if (!request.is_object()) return false;
    const auto stream = request.find("stream");
    if (stream == request.end() || !stream->is_boolean() || !stream->get<bool>()) return false;
    ordered_json& options = request["stream_options"];
    if (options.is_null()) options = ordered_json::object();
    if (!options.is_object()) return false;
    const auto include = options.find("include_usage");
    if (include != options.end() && include->is_boolean() && include->get<bool>()) return false;
    options["include_usage"] = true;
    body = request.dump();
    return true;
}

std::string UsageChunkFilter::feed(std::string_view piece) {
    std::string out;
    for (const char c : piece) {
        if (after_cr_ != CrEnded::nothing) {
            const CrEnded ended = after_cr_;
            after_cr_ = CrEnded::nothing;
            if (c == '\n') {  // the LF of a CRLF goes where its CR went
                if (ended == CrEnded::line) event_ += c;
                if (ended == CrEnded::passed_event) out += c;
                continue;
            }
        }
        line_ += c;
        if (c != '\n' && c != '\r') continue;
        const bool cr = c == '\r';
        if (line_.size() == 1) {  // a blank line: the event is complete
            const bool drop = is_usage_chunk(event_);
            if (!drop) out += event_ + line_;
            event_.clear();
            if (cr) after_cr_ = drop ? CrEnded::dropped_event : CrEnded::passed_event;
        } else {
            event_ += line_;
            if (cr) after_cr_ = CrEnded::line;
            if (event_.size() > kMaxHeldEvent) {
                out += event_;
                event_.clear();
            }
        }
        line_.clear();
    }
    return out;
}

std::string UsageChunkFilter::finish() {
    std::string rest = event_ + line_;
    event_.clear();
    line_.clear();
    after_cr_ = CrEnded::nothing;
    return rest;
}

}  // namespace zkclient
