#pragma once
// The deposit contract's burns of policy receipts (docs/protocol.md §9.1),
// as the provider's burner and a user forcing a burn use them.

#include <chrono>
#include <vector>

#include "zkchain/node.hpp"
#include "zkchain/policy_receipt.hpp"

namespace zkchain {

// policyBurned(nullifier): whether the contract has burned that receipt.
bool policy_burned(Node& node, const Address& contract, const Word& nullifier);

// receiptSigner(): the address whose receipts the contract burns.
Address receipt_signer(Node& node, const Address& contract);

// burnDelay(): seconds after a receipt's issued_at until anyone may burn it.
uint64_t burn_delay(Node& node, const Address& contract);

// Posts `receipts` in one burnPolicyReceipts transaction signed by
// `signer` and waits up to `wait` for it. The contract reverts the whole
// batch for any receipt it refuses (burned already, a bad signature, too
// early for a sender other than the treasury, too little to burn it from):
// ChainError(reverted), as Node::transact throws.
Receipt burn_policy_receipts(Node& node, const Signer& signer, const Address& contract,
                             const std::vector<PolicyReceipt>& receipts,
                             std::chrono::milliseconds wait);

}  // namespace zkchain
