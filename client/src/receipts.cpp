#include "zkclient/receipts.hpp"

#include "zkchain/ethereum.hpp"

namespace zkclient {

bool keep_policy_receipt(const State& state, TicketRecord& ticket, const std::string& text,
                         std::string& error) {
    const std::optional<zkchain::PolicyReceipt> receipt = zkchain::parse_policy_receipt(text);
    if (!receipt) {
        error = "the policy receipt is malformed";
        return false;
    }
    if (receipt->nullifier != zkchain::word_of(ticket.nullifier)) {
        error = "the policy receipt names another ticket";
        return false;
    }
    if (receipt->credits != state.deployment.c_max) {
        error = "the policy receipt is for " + std::to_string(receipt->credits) +
                " credits, not C_max";
        return false;
    }
    ticket.policy_receipt = text;
    return true;
}

}  // namespace zkclient
