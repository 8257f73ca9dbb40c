// The two filters `zkcredit proxy` runs over a streamed answer: zkcredit's
// refund comment line (zkclient/sse.hpp) and the usage chunk it asked for
// (zkclient/openai_stream.hpp). Input: one split position (first two
// bytes), then the stream. Whatever the bytes, the output must not depend
// on how the stream was split, and a stream without the comment's prefix
// must pass the refund filter unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "zkclient/openai_stream.hpp"
#include "zkclient/sse.hpp"

namespace {

template <typename Filter>
std::string run(Filter& filter, std::string_view stream, size_t split) {
    std::string out = filter.feed(stream.substr(0, split));
    out += filter.feed(stream.substr(split));
    return out + filter.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
    const size_t split = (static_cast<size_t>(data[0]) << 8 | data[1]) % (stream.size() + 1);

    zkclient::SseRefundFilter whole_refund, split_refund;
    const std::string refund_whole = run(whole_refund, stream, stream.size());
    if (run(split_refund, stream, split) != refund_whole ||
        whole_refund.voucher() != split_refund.voucher()) {
        abort();
    }
    if (stream.find(": zkcredit-refund ") == std::string_view::npos &&
        (refund_whole != stream || whole_refund.voucher())) {
        abort();
    }

    zkclient::UsageChunkFilter whole_usage, split_usage;
    if (run(whole_usage, stream, stream.size()) != run(split_usage, stream, split)) abort();

    std::string body(stream);
    zkclient::request_stream_usage(body);
    return 0;
}
