#pragma once
// zkcredit's own line in a streamed answer (docs/protocol.md §9): the
// gateway puts the voucher of a text/event-stream answer in an SSE comment
// line before `data: [DONE]`, which the client takes out.

#include <optional>
#include <string>
#include <string_view>

namespace zkclient {

constexpr char kRefundEvent[] = "zkcredit-refund";

// Removes zkcredit's refund comment line (`: <event> <voucher>`, one
// space each side, docs/protocol.md §9) from an SSE stream fed in pieces of
// any size, passing every other byte on as soon as it cannot be the start of
// such a line. Only complete lines are taken for the comment.
class SseRefundFilter {
public:
    explicit SseRefundFilter(std::string event = kRefundEvent);

    // The bytes to pass on for this piece.
    std::string feed(std::string_view piece);
    // What was held back at the end of the stream (an unfinished line).
    std::string finish();
    // The voucher of the last refund comment line seen, if any.
    const std::optional<std::string>& voucher() const noexcept { return voucher_; }

private:
    std::string prefix_;  // ": <event> "
    std::string line_;    // the current line while it may be a refund comment
    bool passing_ = false;  // the current line is known not to be one
    bool after_cr_ = false;
    std::optional<std::string> voucher_;
};

}  // namespace zkclient
