#pragma once
// Policy receipts on the user's side (docs/protocol.md §9.1): a request
// refused by policy keeps its whole C_max, and its answer
// carries the gateway's receipt for that amount; the client keeps it on the
// ticket so that, if the provider does not burn it in time, the user can
// (docs/client.md §1.2).

#include <string>

#include "zkchain/policy_receipt.hpp"
#include "zkclient/state.hpp"

namespace zkclient {

constexpr char kPolicyReceiptHeader[] = "ZKCredit-Policy-Receipt";

// Keeps `text` on the ticket when it is a well-formed receipt for this
// ticket's nullifier and the deployment's C_max; false, with the reason,
// otherwise. Its signature names a chain and a contract the client may not
// know yet: it is checked against the contract's receiptSigner when the
// receipt is burned.
bool keep_policy_receipt(const State& state, TicketRecord& ticket, const std::string& text,
                         std::string& error);

}  // namespace zkclient
