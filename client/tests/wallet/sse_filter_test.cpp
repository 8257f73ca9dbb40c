// The SSE refund filter (zkclient/sse.hpp): zkcredit's comment line is
// taken out of a stream and its voucher kept, whatever the pieces the
// stream arrives in; every other byte passes unchanged.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zkclient/sse.hpp"

namespace zkclient {
namespace {

constexpr char kVoucher[] = "AQAAAAAAAAH0abc-_xyz";

struct Filtered {
    std::string out;
    std::optional<std::string> voucher;
};

// The stream fed in pieces of `piece` bytes (0: all at once).
Filtered run(const std::string& stream, size_t piece) {
    SseRefundFilter filter;
    Filtered f;
    if (piece == 0) piece = stream.size();
    for (size_t i = 0; i < stream.size(); i += piece) f.out += filter.feed(stream.substr(i, piece));
    f.out += filter.finish();
    f.voucher = filter.voucher();
    return f;
}

const std::string kEvents =
    "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"
    "data: {\"usage\":{\"prompt_tokens\":3}}\n\n";

TEST(SseRefundFilter, RemovesTheCommentLineAtAnySplit) {
    for (const std::string eol : {"\n", "\r\n", "\r"}) {
        const std::string line = std::string(": zkcredit-refund ") + kVoucher + eol;
        const std::string stream = kEvents + line + "data: [DONE]" + eol + eol;
        const std::string expected = kEvents + "data: [DONE]" + eol + eol;
        for (size_t piece = 0; piece <= stream.size(); ++piece) {
            const Filtered f = run(stream, piece);
            EXPECT_EQ(f.out, expected) << "piece " << piece;
            ASSERT_TRUE(f.voucher.has_value()) << "piece " << piece;
            EXPECT_EQ(*f.voucher, kVoucher);
        }
    }
}

TEST(SseRefundFilter, PassesEverythingElseUnchanged) {
    const std::vector<std::string> streams = {
        kEvents + "data: [DONE]\n\n",
        // other comments, another event name, a name it begins with, no value
        ": keep-alive\n: zkcredit-refunds xyz\n:zkcredit-refund x\n: zkcredit-refund \n\n",
        // the prefix inside a data line, and a value with a space
        "data: : zkcredit-refund x\n: zkcredit-refund a b\n\n",
        // an unfinished line at the end is passed on as it is
        kEvents + ": zkcredit-ref",
        std::string(10000, 'x') + "\n" + ": zkcredit-refund " + std::string(5000, 'y'),
    };
    for (const std::string& stream : streams) {
        for (size_t piece : {0, 1, 2, 7, 64}) {
            const Filtered f = run(stream, piece);
            EXPECT_EQ(f.out, stream) << "piece " << piece;
            EXPECT_FALSE(f.voucher.has_value());
        }
    }
}

TEST(SseRefundFilter, PassesBytesOnAsSoonAsTheyCannotBeTheComment) {
    SseRefundFilter filter;
    EXPECT_EQ(filter.feed("data: {\"a\"}\n"), "data: {\"a\"}\n");
    EXPECT_EQ(filter.feed(":"), "");  // may still become the comment
    EXPECT_EQ(filter.feed(" z"), "");
    EXPECT_EQ(filter.feed("x"), ": zx");
    EXPECT_EQ(filter.feed("\n"), "\n");
    EXPECT_EQ(filter.finish(), "");
}

TEST(SseRefundFilter, KeepsTheLastOfTwoCommentLines) {
    const Filtered f = run(": zkcredit-refund first\n: zkcredit-refund second\ndata: x\n\n", 3);
    EXPECT_EQ(f.out, "data: x\n\n");
    ASSERT_TRUE(f.voucher.has_value());
    EXPECT_EQ(*f.voucher, "second");
}

}  // namespace
}  // namespace zkclient
