#pragma once
// The provider's burns of policy receipts (docs/protocol.md §9.1): every
// receipt in the gateway's policy evidence stream is posted, in batches, to
// the deposit contract's burnPolicyReceipts, signed with the treasury's
// chain key, so that the C_max each policy refusal kept goes to the burn
// address in public (docs/operations.md §12).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "zkchain/node.hpp"
#include "zkchain/policy_receipt.hpp"
#include "zkchain/signer.hpp"
#include "zkregistry/registry.hpp"

namespace zkregistry {

struct BurnOptions {
    zkchain::Address contract;
    size_t batch = 32;  // receipts per transaction at most
    std::chrono::milliseconds mined_within{60000};
};

enum class BurnAction {
    burned,          // in our transaction
    already_burned,  // the contract had it burned already (by us before, or forced by anyone)
    rejected,        // no receipt, a malformed one, or not signed by the contract's receipt signer
};

const char* burn_action_name(BurnAction action);

struct BurnOutcome {
    std::string entry_id;
    BurnAction action = BurnAction::rejected;
    std::string nullifier_hex;  // 64 hex digits; empty when there is no readable receipt
    uint64_t credits = 0;
    std::string reason;         // why rejected
    std::string transaction;    // when burned
};

class Burner {
public:
    Burner(Registry& registry, zkchain::Node& node, const zkchain::Signer& signer,
           BurnOptions options);

    // Settles the next batch of policy entries after the burner's cursor:
    // the receipts the contract has not burned yet go out in one
    // burnPolicyReceipts transaction, and once it is mined the cursor moves
    // past the whole batch. When no entry is waiting, waits up to `block`.
    // A batch whose transaction reverts because one of its receipts was
    // burned meanwhile (a forced burn) is read again and sent without it.
    // Any other revert (the contract lacks the funds, the key is
    // not the treasury's before the burn delay) throws zkchain::ChainError
    // and leaves the cursor where it was, as does a node that fails.
    std::vector<BurnOutcome> step(std::chrono::milliseconds block);

private:
    const zkchain::ReceiptDomain& domain();

    Registry& registry_;
    zkchain::Node& node_;
    const zkchain::Signer& signer_;
    BurnOptions options_;
    std::optional<zkchain::ReceiptDomain> domain_;
    zkchain::Address receipt_signer_;
};

}  // namespace zkregistry
