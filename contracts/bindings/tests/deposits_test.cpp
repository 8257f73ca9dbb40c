#include "zkchain/deposits.hpp"

#include <string>

#include <gtest/gtest.h>

#include "command.hpp"

namespace zkchain {
namespace {

// depositOf's return data as `cast abi-encode` writes it for the contract's
// Deposit (uint64 credits, uint32 leafIndex, uint64 depositedAt, uint8 status).
Bytes encoded(const std::string& values) {
    const std::string hex =
        run(std::string(ZKC_CAST) + " abi-encode 'f(uint64,uint32,uint64,uint8)' " + values);
    const std::optional<Bytes> bytes = from_hex(hex);
    EXPECT_TRUE(bytes) << "cast printed " << hex;
    return bytes.value_or(Bytes{});
}

TEST(DepositRecord, DecodesEveryFieldAndStatus) {
    const DepositRecord record = decode_deposit_record(
        encoded("18446744073709551615 4294967295 1700000000 2"));
    EXPECT_EQ(record.credits, UINT64_MAX);
    EXPECT_EQ(record.leaf_index, UINT32_MAX);
    EXPECT_EQ(record.deposited_at, 1700000000u);
    EXPECT_EQ(record.status, DepositStatus::withdrawing);
    const DepositStatus statuses[] = {DepositStatus::none,      DepositStatus::active,
                                      DepositStatus::withdrawing, DepositStatus::withdrawn,
                                      DepositStatus::slashed,   DepositStatus::expired};
    for (unsigned i = 0; i < 6; ++i) {
        EXPECT_EQ(decode_deposit_record(encoded("1 0 0 " + std::to_string(i))).status,
                  statuses[i]);
    }
    EXPECT_STREQ(deposit_status_name(DepositStatus::expired), "expired");
}

TEST(DepositRecord, RefusesUnknownStatusesAndOtherShapes) {
    EXPECT_THROW(decode_deposit_record(encoded("1 0 0 6")), ChainError);
    // A status word wider than 8 bits, or a record a word short, is refused.
    Bytes wide = encoded("1 0 0 1");
    wide[wide.size() - 2] = 1;
    EXPECT_THROW(decode_deposit_record(wide), ChainError);
    Bytes short_record = encoded("1 0 0 1");
    short_record.resize(96);
    EXPECT_THROW(decode_deposit_record(short_record), ChainError);
}

}  // namespace
}  // namespace zkchain
