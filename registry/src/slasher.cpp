#include "zkregistry/slasher.hpp"

#include "zkchain/deposits.hpp"
#include "zkregistry/chain.hpp"
#include "zkregistry/encoding.hpp"
#include "zkregistry/error.hpp"
#include "zkregistry/tree.hpp"

namespace zkregistry {

using libverify::Fr;
using zkchain::ChainError;
using zkchain::ChainErrorKind;

const char* slash_action_name(SlashAction action) {
    switch (action) {
    case SlashAction::slashed:
        return "slashed";
    case SlashAction::challenged:
        return "challenged";
    case SlashAction::already_slashed:
        return "already-slashed";
    case SlashAction::settled:
        return "settled";
    case SlashAction::unknown_id:
        return "unknown-id";
    case SlashAction::rejected:
        return "rejected";
    }
    return "rejected";
}

const char* expiry_claim_name(ExpiryClaim claim) {
    switch (claim) {
    case ExpiryClaim::claimed:
        return "claimed";
    case ExpiryClaim::not_expired:
        return "not-expired";
    case ExpiryClaim::not_active:
        return "not-active";
    }
    return "not-active";
}

ExpiryClaim claim_expired(zkchain::Node& node, const zkchain::Signer& signer,
                          const SlashOptions& options, const Fr& id, std::string& transaction) {
    constexpr int kAttempts = 3;
    for (int attempt = 0;; ++attempt) {
        const zkchain::DepositRecord deposit = zkchain::deposit_of(node, options.contract, id);
        if (deposit.status != zkchain::DepositStatus::active) {
            return ExpiryClaim::not_active;
        }
        const std::optional<std::vector<Fr>> siblings = current_path(
            node, options.contract, options.from_block, options.batch_blocks, deposit.leaf_index);
        if (!siblings) {
            if (attempt + 1 < kAttempts) continue;
            throw ChainError(ChainErrorKind::node, "the contract's tree kept moving");
        }
        zkchain::Calldata call("claimExpired(uint256,uint256[20])");
        call.field(id);
        for (const Fr& sibling : *siblings) {
            call.field(sibling);
        }
        try {
            transaction = node.transact(signer, options.contract, 0, call.bytes(),
                                        options.mined_within)
                              .transaction;
            return ExpiryClaim::claimed;
        } catch (const ChainError& e) {
            if (e.kind() != ChainErrorKind::reverted) throw;
            if (zkchain::reverted_with(e, "DepositNotExpired()")) return ExpiryClaim::not_expired;
            const bool stale = zkchain::reverted_with(e, "StalePath()") || e.revert_data().empty();
            if (!stale || attempt + 1 >= kAttempts) throw;
        }
    }
}

Slasher::Slasher(Registry& registry, zkchain::Node& node, const zkchain::Signer& signer,
                 SlashOptions options)
    : registry_(registry), node_(node), signer_(signer), options_(std::move(options)) {
    if (options_.batch_blocks == 0) {
        throw Error(ErrorKind::invalid_input, "the batch must be at least one block");
    }
}

std::vector<SlashOutcome> Slasher::step(size_t max_entries, std::chrono::milliseconds block) {
    std::vector<SlashOutcome> outcomes;
    const std::vector<JudgedEvidence> entries =
        registry_.read_evidence(registry_.slash_cursor(), max_entries, block);
    for (const JudgedEvidence& entry : entries) {
        std::optional<SlashOutcome> outcome = settle(entry);
        if (!outcome) {
            break;
        }
        registry_.set_slash_cursor(entry.entry_id);
        outcomes.push_back(std::move(*outcome));
    }
    return outcomes;
}

std::optional<zkchain::Receipt> Slasher::challenge(const JudgedEvidence& evidence) {
    for (const std::pair<Fr, Fr>* share : {&evidence.first, &evidence.second}) {
        zkchain::Calldata call("challenge(uint256,uint256,uint256)");
        call.field(evidence.id).field(share->first).field(share->second);
        try {
            return node_.transact(signer_, options_.contract, 0, call.bytes(),
                                  options_.mined_within);
        } catch (const ChainError& e) {
            // The withdrawal's own share, or a share of another ticket: the
            // estimate refuses it before anything is sent.
            if (e.kind() != ChainErrorKind::reverted ||
                !(zkchain::reverted_with(e, "SameBinding()") ||
                  zkchain::reverted_with(e, "NotTheOwnersShare()") ||
                  zkchain::reverted_with(e, "ChallengeWindowOver()"))) {
                throw;
            }
        }
    }
    return std::nullopt;
}

std::optional<SlashOutcome> Slasher::settle(const JudgedEvidence& evidence) {
    SlashOutcome outcome;
    outcome.entry_id = evidence.entry_id;
    if (!evidence.valid) {
        outcome.action = SlashAction::rejected;
        outcome.reason = evidence.reason;
        return outcome;
    }
    outcome.id_hex = fr_to_hex(evidence.id);
    const zkchain::DepositRecord deposit = zkchain::deposit_of(node_, options_.contract, evidence.id);
    outcome.leaf_index = deposit.leaf_index;
    std::optional<std::vector<Fr>> siblings;
    switch (deposit.status) {
    case zkchain::DepositStatus::none:
        outcome.action = SlashAction::unknown_id;
        return outcome;
    case zkchain::DepositStatus::slashed:
        outcome.action = SlashAction::already_slashed;
        return outcome;
    case zkchain::DepositStatus::withdrawn:
    case zkchain::DepositStatus::expired:
        outcome.action = SlashAction::settled;
        return outcome;
    case zkchain::DepositStatus::withdrawing:
        try {
            if (const std::optional<zkchain::Receipt> receipt = challenge(evidence)) {
                outcome.action = SlashAction::challenged;
                outcome.transaction = receipt->transaction;
                return outcome;
            }
        } catch (const ChainError& e) {
            if (e.kind() != ChainErrorKind::reverted ||
                !zkchain::reverted_with(e, "NoPendingWithdrawal()")) {
                throw;
            }
            return std::nullopt;  // settled meanwhile: the next step reads it again
        }
        // Evidence of another ticket. The leaf is already 0 and the contract
        // reads no path: a pending withdrawal of a known cheater is slashed
        // instead of paid.
        siblings = std::vector<Fr>(kDefaultDepth, Fr::zero());
        break;
    case zkchain::DepositStatus::active:
        siblings = current_path(node_, options_.contract, options_.from_block,
                                options_.batch_blocks, deposit.leaf_index);
        if (!siblings) {
            return std::nullopt;
        }
        break;
    }
    zkchain::Calldata call("slash(uint256,uint256[20])");
    call.field(evidence.k);
    for (const Fr& sibling : *siblings) {
        call.field(sibling);
    }
    try {
        const zkchain::Receipt receipt =
            node_.transact(signer_, options_.contract, 0, call.bytes(), options_.mined_within);
        outcome.action = SlashAction::slashed;
        outcome.transaction = receipt.transaction;
        return outcome;
    } catch (const ChainError& e) {
        if (e.kind() != ChainErrorKind::reverted) {
            throw;
        }
        if (zkchain::reverted_with(e, "NoActiveDeposit()")) {
            // Someone else's slash was mined first: the deposit is claimed all the same.
            outcome.action = SlashAction::already_slashed;
            return outcome;
        }
        // A stale path, or a transaction mined and reverted (the state moved
        // between its estimate and its block, which carries no error data):
        // the next step reads the chain again.
        if (zkchain::reverted_with(e, "StalePath()") || e.revert_data().empty()) {
            return std::nullopt;
        }
        throw;
    }
}

}  // namespace zkregistry
