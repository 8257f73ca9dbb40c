// Decoding the deposit contract's logs as an Ethereum node returns them
// (eth_getLogs). The follower against a real anvil is tests/nginx/test_chain.py.

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "zkchain/ethereum.hpp"
#include "zkregistry/chain.hpp"
#include "zkregistry/encoding.hpp"
#include "zkregistry/error.hpp"

namespace zkregistry {
namespace {

using libverify::Fr;
using nlohmann::json;

const std::string kContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

std::string word(uint64_t value) { return fr_to_hex(Fr::from_u64(value)); }

// A JSON-RPC quantity below 16.
std::string small_quantity(uint64_t value) { return "0x" + std::string(1, "0123456789abcdef"[value]); }

json deposited(uint64_t block, uint64_t log_index, uint64_t leaf_index) {
    return {{"address", "0x5FbDB2315678afecb367f032d93F642f64180aa3"},
            {"topics", {std::string(kDepositedTopic), "0x" + word(uint64_t{0xabc})}},
            {"data", "0x" + word(leaf_index) + word(uint64_t{5000}) + word(uint64_t{11}) +
                         word(uint64_t{22}) + word(uint64_t{0xbeef})},
            {"blockNumber", small_quantity(block)},
            {"logIndex", small_quantity(log_index)},
            {"transactionHash", "0xAB"},
            {"removed", false}};
}

TEST(ChainLogs, DecodesDepositsAndSlashesInChainOrder) {
    json slashed = {{"address", kContract},
                    {"topics", {std::string(kSlashedTopic), "0x" + word(uint64_t{0xabc})}},
                    {"data", "0x" + word(uint64_t{3}) + word(uint64_t{77}) + word(uint64_t{33}) +
                                 word(uint64_t{0x4a7}) + word(uint64_t{100}) + word(uint64_t{900})},
                    {"blockNumber", "0x9"},
                    {"logIndex", "0x0"},
                    {"transactionHash", "0xcd"}};
    const json logs = {slashed, deposited(4, 1, 3), deposited(4, 0, 2)};
    const std::vector<ChainEvent> events = decode_logs(logs, kContract);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].leaf_index, 2u);
    EXPECT_EQ(events[1].leaf_index, 3u);
    EXPECT_EQ(events[0].kind, ChainEvent::Kind::deposited);
    EXPECT_EQ(events[0].credits, 5000u);
    EXPECT_EQ(events[0].leaf, Fr::from_u64(11));
    EXPECT_EQ(events[0].root, Fr::from_u64(22));
    EXPECT_EQ(events[0].id, Fr::from_u64(0xabc));
    EXPECT_EQ(events[0].transaction, "0xab");
    EXPECT_EQ(events[2].kind, ChainEvent::Kind::slashed);
    EXPECT_EQ(events[2].block, 9u);
    EXPECT_EQ(events[2].root, Fr::from_u64(33));
}

TEST(ChainLogs, RefusesWhatTheContractCannotHaveEmitted) {
    const auto refused = [](const json& log) {
        try {
            decode_logs(json::array({log}), kContract);
        } catch (const Error& e) {
            return e.kind() == ErrorKind::invalid_input;
        }
        return false;
    };
    EXPECT_FALSE(refused(deposited(1, 0, 0)));

    json other = deposited(1, 0, 0);
    other["address"] = "0x0000000000000000000000000000000000000001";
    EXPECT_TRUE(refused(other));

    json removed = deposited(1, 0, 0);
    removed["removed"] = true;
    EXPECT_TRUE(refused(removed));

    json wide_index = deposited(1, 0, 0);
    wide_index["data"] =
        "0x" + word(uint64_t{1} << 32) + wide_index["data"].get<std::string>().substr(66);
    EXPECT_TRUE(refused(wide_index));

    json not_field = deposited(1, 0, 0);
    std::string data = not_field["data"];
    data.replace(2 + 64 * 2, 64, std::string(64, 'f'));
    not_field["data"] = data;
    EXPECT_TRUE(refused(not_field));

    json short_data = deposited(1, 0, 0);
    short_data["data"] = short_data["data"].get<std::string>().substr(0, 2 + 64 * 4);
    EXPECT_TRUE(refused(short_data));

    json padded_quantity = deposited(1, 0, 0);
    padded_quantity["blockNumber"] = "0x01";
    EXPECT_TRUE(refused(padded_quantity));

    json no_id = deposited(1, 0, 0);
    no_id["topics"] = {std::string(kDepositedTopic)};
    EXPECT_TRUE(refused(no_id));

    EXPECT_THROW(decode_logs(json::object(), kContract), Error);
}

// topic 0 is keccak256 of the event's canonical signature.
TEST(ChainLogs, TopicsAreTheKeccakOfTheEventSignatures) {
    const auto topic = [](const std::string& signature) {
        const zkchain::Word digest = zkchain::keccak256(
            reinterpret_cast<const uint8_t*>(signature.data()), signature.size());
        return zkchain::to_hex(zkchain::Bytes(digest.begin(), digest.end()));
    };
    EXPECT_EQ(topic("Deposited(uint256,uint32,uint64,uint256,uint256,address)"), kDepositedTopic);
    EXPECT_EQ(topic("Slashed(uint256,uint32,uint256,uint256,address,uint256,uint256)"),
              kSlashedTopic);
    EXPECT_EQ(topic("WithdrawalRequested(uint256,uint32,uint256,address,uint32,uint64,uint256,"
                    "uint256,uint256,uint64)"),
              kWithdrawalRequestedTopic);
    EXPECT_EQ(topic("DepositExpired(uint256,uint32,uint256,uint256)"), kDepositExpiredTopic);
}

TEST(ChainLogs, DecodesWithdrawalsAndExpiriesAsClearedLeaves) {
    const json withdrawal = {
        {"address", kContract},
        {"topics", {std::string(kWithdrawalRequestedTopic), "0x" + word(uint64_t{0xabc})}},
        {"data", "0x" + word(uint64_t{2}) + word(uint64_t{44}) + word(uint64_t{0xbeef}) +
                     word(uint64_t{7}) + word(uint64_t{1500}) + word(uint64_t{55}) +
                     word(uint64_t{66}) + word(uint64_t{77}) + word(uint64_t{1700000000})},
        {"blockNumber", "0x5"},
        {"logIndex", "0x0"},
        {"transactionHash", "0xef"}};
    const json expiry = {
        {"address", kContract},
        {"topics", {std::string(kDepositExpiredTopic), "0x" + word(uint64_t{0xdef})}},
        {"data", "0x" + word(uint64_t{3}) + word(uint64_t{88}) + word(uint64_t{9000})},
        {"blockNumber", "0x6"},
        {"logIndex", "0x0"},
        {"transactionHash", "0xf0"}};
    const std::vector<ChainEvent> events = decode_logs(json::array({expiry, withdrawal}), kContract);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].kind, ChainEvent::Kind::withdrawal_requested);
    EXPECT_EQ(events[0].leaf_index, 2u);
    EXPECT_EQ(events[0].root, Fr::from_u64(44));
    EXPECT_EQ(events[0].nullifier, Fr::from_u64(55));
    EXPECT_EQ(events[0].x, Fr::from_u64(66));
    EXPECT_EQ(events[0].y, Fr::from_u64(77));
    EXPECT_EQ(events[0].deadline, 1700000000u);
    EXPECT_EQ(events[1].kind, ChainEvent::Kind::expired);
    EXPECT_EQ(events[1].leaf_index, 3u);
    EXPECT_EQ(events[1].root, Fr::from_u64(88));
    EXPECT_EQ(events[1].id, Fr::from_u64(0xdef));

    json short_withdrawal = withdrawal;
    short_withdrawal["data"] = withdrawal["data"].get<std::string>().substr(0, 2 + 64 * 8);
    EXPECT_THROW(decode_logs(json::array({short_withdrawal}), kContract), Error);
}

TEST(ChainLogs, IgnoresOtherEventsOfTheContract) {
    json other = deposited(1, 0, 0);
    other["topics"][0] = "0x" + std::string(64, '1');
    EXPECT_TRUE(decode_logs(json::array({other}), kContract).empty());
}

}  // namespace
}  // namespace zkregistry
