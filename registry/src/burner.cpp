#include "zkregistry/burner.hpp"

#include <set>

#include "zkchain/policy_burns.hpp"
#include "zkregistry/error.hpp"

namespace zkregistry {

using zkchain::ChainError;
using zkchain::ChainErrorKind;
using zkchain::Word;

namespace {

std::string nullifier_hex(const Word& nullifier) {
    return zkchain::to_hex(nullifier.data(), nullifier.size()).substr(2);
}

}  // namespace

const char* burn_action_name(BurnAction action) {
    switch (action) {
    case BurnAction::burned:
        return "burned";
    case BurnAction::already_burned:
        return "already-burned";
    case BurnAction::rejected:
        return "rejected";
    }
    return "rejected";
}

Burner::Burner(Registry& registry, zkchain::Node& node, const zkchain::Signer& signer,
               BurnOptions options)
    : registry_(registry), node_(node), signer_(signer), options_(std::move(options)) {
    if (options_.batch == 0) {
        throw Error(ErrorKind::invalid_input, "the batch must hold at least one receipt");
    }
}

// The chain and the contract's receipt signer, read once: a receipt signed
// by anyone else would revert the whole batch, so it is refused here.
const zkchain::ReceiptDomain& Burner::domain() {
    if (!domain_) {
        receipt_signer_ = zkchain::receipt_signer(node_, options_.contract);
        domain_ = zkchain::ReceiptDomain{node_.chain_id(), options_.contract};
    }
    return *domain_;
}

std::vector<BurnOutcome> Burner::step(std::chrono::milliseconds block) {
    const std::vector<PolicyEvidence> entries =
        registry_.read_policy_evidence(registry_.burn_cursor(), options_.batch, block);
    if (entries.empty()) {
        return {};
    }
    const zkchain::ReceiptDomain& where = domain();

    std::vector<BurnOutcome> outcomes;
    std::vector<zkchain::PolicyReceipt> batch;
    std::set<Word> seen;
    for (const PolicyEvidence& entry : entries) {
        BurnOutcome outcome;
        outcome.entry_id = entry.entry_id;
        const std::optional<zkchain::PolicyReceipt> receipt =
            zkchain::parse_policy_receipt(entry.receipt);
        if (!receipt) {
            outcome.reason = entry.receipt.empty() ? "no receipt" : "malformed receipt";
            outcomes.push_back(std::move(outcome));
            continue;
        }
        outcome.nullifier_hex = nullifier_hex(receipt->nullifier);
        outcome.credits = receipt->credits;
        if (zkchain::policy_receipt_signer(where, *receipt) != receipt_signer_) {
            outcome.reason = "not signed by the contract's receipt signer";
        } else if (!seen.insert(receipt->nullifier).second ||
                   zkchain::policy_burned(node_, options_.contract, receipt->nullifier)) {
            outcome.action = BurnAction::already_burned;
        } else {
            outcome.action = BurnAction::burned;
            batch.push_back(*receipt);
        }
        outcomes.push_back(std::move(outcome));
    }

    if (!batch.empty()) {
        try {
            const zkchain::Receipt mined = zkchain::burn_policy_receipts(
                node_, signer_, options_.contract, batch, options_.mined_within);
            for (BurnOutcome& outcome : outcomes) {
                if (outcome.action == BurnAction::burned) outcome.transaction = mined.transaction;
            }
        } catch (const ChainError& e) {
            if (e.kind() != ChainErrorKind::reverted) {
                throw;
            }
            for (const zkchain::PolicyReceipt& receipt : batch) {
                if (zkchain::policy_burned(node_, options_.contract, receipt.nullifier)) {
                    // burned meanwhile (forced): read the batch again
                    // without it; each pass finds one more burned
                    return step(std::chrono::milliseconds(0));
                }
            }
            throw;
        }
    }
    registry_.set_burn_cursor(entries.back().entry_id);
    return outcomes;
}

}  // namespace zkregistry
