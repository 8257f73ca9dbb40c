#include "zkclient/sse.hpp"

namespace zkclient {

namespace {

// An SSE line longer than this is not zkcredit's comment (a voucher line
// is under 160 bytes): it is passed on instead of held.
constexpr size_t kMaxHeldLine = 4096;

}  // namespace

SseRefundFilter::SseRefundFilter(std::string event) : prefix_(": " + event + " ") {}

std::string SseRefundFilter::feed(std::string_view piece) {
    std::string out;
    out.reserve(piece.size());
    for (const char c : piece) {
        if (after_cr_) {
            after_cr_ = false;
            if (c == '\n') continue;  // the rest of a removed line's CRLF
        }
        if (passing_) {
            out += c;
            if (c == '\n' || c == '\r') passing_ = false;
            continue;
        }
        line_ += c;
        if (c == '\n' || c == '\r') {
            const std::string_view text(line_.data(), line_.size() - 1);
            const std::string_view value =
                text.size() > prefix_.size() ? text.substr(prefix_.size()) : std::string_view();
            if (text.rfind(prefix_, 0) == 0 && !value.empty() &&
                value.find_first_of(" \t") == std::string_view::npos) {
                voucher_ = std::string(value);
                after_cr_ = c == '\r';
            } else {
                out += line_;
            }
            line_.clear();
            continue;
        }
        // Held while it may still become the comment line.
        const size_t n = line_.size() < prefix_.size() ? line_.size() : prefix_.size();
        if (line_.compare(0, n, prefix_, 0, n) != 0 || line_.size() > kMaxHeldLine) {
            out += line_;
            line_.clear();
            passing_ = true;
        }
    }
    return out;
}

std::string SseRefundFilter::finish() {
    std::string rest = std::move(line_);
    line_.clear();
    passing_ = false;
    after_cr_ = false;
    return rest;
}

}  // namespace zkclient
