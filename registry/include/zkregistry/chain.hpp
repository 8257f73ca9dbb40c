#pragma once
// Following the deposit contract (contracts/src/CreditDeposits.sol) over an
// Ethereum node's JSON-RPC: the events that change its tree (Deposited,
// Slashed, WithdrawalRequested, DepositExpired), decoded, and the follower
// that mirrors them into the registry (docs/operations.md §11).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libverify/field.hpp"
#include "zkchain/node.hpp"
#include "zkregistry/registry.hpp"

namespace zkregistry {

// keccak256 of the events' signatures (topic 0), as `cast sig-event` prints
// them; registry/tests/chain_test.cpp checks each against the keccak256 of
// its signature.
constexpr std::string_view kDepositedTopic =
    "0x8b593b728c4acd39cabf4ea04de1acd92490ad4b2478ad7c611a75a1562bac49";
constexpr std::string_view kSlashedTopic =
    "0x69167f7f6dd608f98bdb964675ed1f6a2fbaceb55130f24f9f8b1b7b851d868e";
constexpr std::string_view kWithdrawalRequestedTopic =
    "0x642b8c43bfbf12ded649eb68afcfe4fdb3053809d511be4d1d1b043cd43058f3";
constexpr std::string_view kDepositExpiredTopic =
    "0x87ae33147e272c1b0909de76a90e427b267d9da933a892b2688a09c457203abc";

struct ChainEvent {
    // Every kind but `deposited` sets the leaf to 0.
    enum class Kind { deposited, slashed, withdrawal_requested, expired };
    Kind kind = Kind::deposited;
    uint64_t block = 0;
    uint64_t log_index = 0;
    std::string transaction;  // 0x-hex hash
    libverify::Fr id;
    uint64_t leaf_index = 0;
    uint64_t credits = 0;     // Deposited
    libverify::Fr leaf;       // Deposited
    libverify::Fr root;       // the contract's root after the event
    // WithdrawalRequested: the withdrawal's share of ticket `tickets`, and
    // the end of its challenge window (unix seconds).
    libverify::Fr nullifier, x, y;
    uint64_t deadline = 0;
};

// Decodes the result of eth_getLogs for the contract: only the events that
// change its tree, in chain order. Throws Error(invalid_input) on anything malformed (a field
// element out of range, a short data word, a log of another address).
std::vector<ChainEvent> decode_logs(const nlohmann::json& logs, const std::string& contract);

// Every event of the contract in blocks [from, to], in chain order, asked
// for `batch_blocks` blocks at a time.
std::vector<ChainEvent> contract_events(zkchain::Node& node, const std::string& contract,
                                        uint64_t from, uint64_t to, uint64_t batch_blocks);

// The leaves the events build, in index order, with the transaction that
// slashed each one (empty while active). Throws Error(refused) when the
// events skip a leaf, slash a leaf never deposited, or give another root
// than the last event's.
std::vector<Registry::LeafRecord> replay_events(const std::vector<ChainEvent>& events);

// A leaf's authentication path in the contract's current tree, replayed
// from its events since `from_block` up to the newest block (what slash,
// requestWithdrawal and claimExpired take); none when the contract's root
// moved while they were read, or the leaf is not there yet.
std::optional<std::vector<libverify::Fr>> current_path(zkchain::Node& node,
                                                        const zkchain::Address& contract,
                                                        uint64_t from_block, uint64_t batch_blocks,
                                                        uint64_t leaf_index);

struct FollowOptions {
    std::string contract;        // 0x-hex address, lower case
    uint64_t from_block = 0;     // the deployment block
    uint64_t confirmations = 0;  // blocks on top of a block before it is applied
    uint64_t batch_blocks = 2000;
};

struct FollowStep {
    uint64_t deposits = 0;
    uint64_t slashes = 0;
    uint64_t withdrawals = 0;
    uint64_t expiries = 0;
    // Withdrawals whose ticket a request had spent already: evidence written.
    uint64_t withdrawal_conflicts = 0;
    uint64_t already_applied = 0;  // events a restart met again
    bool reorg = false;            // the tree was rebuilt from the chain
    std::optional<uint64_t> reached;  // the last block applied, when any
};

// Mirrors the contract into the registry: every confirmed Deposited event
// appends its leaf at exactly its index, every Slashed, WithdrawalRequested
// and DepositExpired event revokes its identity, and each root published is
// checked against the contract's. A WithdrawalRequested event also spends
// the withdrawal's ticket in the gateway's store with the withdrawal's share
// (docs/protocol.md §3.2): a request that spent it before, or spends it
// later, is a double spend whose evidence the slasher turns into a challenge. The
// chain cursor (block number and hash) is saved after each batch, so a
// restart resumes there, and events it meets again are recognised and
// skipped. When the cursor's block is no longer on the chain (a reorg deeper
// than the confirmations), the whole tree is rebuilt from the contract's
// events up to the newest confirmed block.
class Follower {
public:
    Follower(Registry& registry, zkchain::Node& node, FollowOptions options);

    // One pass up to the newest confirmed block (at most `batch_blocks`).
    FollowStep step();

private:
    void apply(const ChainEvent& event, FollowStep& result);
    // For a WithdrawalRequested event: its ticket spent with its share, and
    // the evidence written when a request had spent the ticket first.
    void spend_withdrawal_ticket(const ChainEvent& event, FollowStep& result);
    FollowStep resync(uint64_t safe_block);
    std::vector<ChainEvent> logs(uint64_t from, uint64_t to);

    Registry& registry_;
    zkchain::Node& node_;
    FollowOptions options_;
};

}  // namespace zkregistry
