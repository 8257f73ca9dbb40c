#pragma once
// The revoker on chain: every valid double-spend entry of the gateway's
// evidence stream becomes a slash(k, path) transaction of the deposit
// contract, signed with the provider's chain key (docs/operations.md §11),
// or, for a deposit being withdrawn whose ticket the evidence is about, a
// challenge(id, x, y) with the request's share (docs/protocol.md §3.2).
// The registry's tree changes only when the follower sees the contract's
// Slashed event, so the gateway keeps accepting exactly the contract's roots.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "zkchain/node.hpp"
#include "zkchain/signer.hpp"
#include "zkregistry/registry.hpp"

namespace zkregistry {

struct SlashOptions {
    zkchain::Address contract;
    uint64_t from_block = 0;  // the deployment block: where the path's replay starts
    uint64_t batch_blocks = 2000;
    std::chrono::milliseconds mined_within{60000};
};

enum class SlashAction {
    slashed,          // our transaction claimed the deposit
    challenged,       // our challenge voided a withdrawal and claimed the deposit
    already_slashed,  // the contract had it slashed already (by anyone)
    settled,          // the deposit was withdrawn or expired before the evidence came
    unknown_id,       // the evidence checks out but the contract holds no such deposit
    rejected,         // the evidence does not check out
};

const char* slash_action_name(SlashAction action);

struct SlashOutcome {
    std::string entry_id;
    SlashAction action = SlashAction::rejected;
    std::string id_hex;       // empty when rejected
    std::string reason;       // why rejected
    std::string transaction;  // when slashed
    uint64_t leaf_index = 0;  // when the contract holds the deposit
};

// What claim_expired did for one deposit.
enum class ExpiryClaim {
    claimed,      // our transaction gave the deposit to the treasury
    not_expired,  // active, and its lifetime is not over
    not_active,   // never deposited, or withdrawn, slashed, expired already
};

const char* expiry_claim_name(ExpiryClaim claim);

// claimExpired(id, path) for a deposit whose lifetime is over
// (docs/protocol.md §3.1, Expiry), with the leaf's current path replayed
// from the contract's events since `from_block`; `transaction` is set when
// claimed. A path gone stale between reading and mining is read again.
ExpiryClaim claim_expired(zkchain::Node& node, const zkchain::Signer& signer,
                          const SlashOptions& options, const libverify::Fr& id,
                          std::string& transaction);

class Slasher {
public:
    Slasher(Registry& registry, zkchain::Node& node, const zkchain::Signer& signer,
            SlashOptions options);

    // Settles up to `max_entries` evidence entries after the slasher's
    // cursor, moving the cursor past each one settled. Stops early at an
    // entry whose path went stale (a deposit or slash mined between reading
    // the chain and our transaction): the next step tries it again. When no
    // entry is waiting, waits up to `block` for one. A node that fails
    // throws zkchain::ChainError and leaves the cursor where it was; the
    // contract's own record makes a resent slash harmless.
    std::vector<SlashOutcome> step(size_t max_entries, std::chrono::milliseconds block);

private:
    std::optional<SlashOutcome> settle(const JudgedEvidence& evidence);
    // A withdrawing deposit: the challenge with whichever share of the
    // evidence is not the withdrawal's, when the evidence is about the
    // withdrawal's ticket; none when it is about another ticket.
    std::optional<zkchain::Receipt> challenge(const JudgedEvidence& evidence);

    Registry& registry_;
    zkchain::Node& node_;
    const zkchain::Signer& signer_;
    SlashOptions options_;
};

}  // namespace zkregistry
