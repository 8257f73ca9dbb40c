// What the client keeps of a policy receipt: only one for its own ticket
// and for the deployment's C_max.

#include "zkclient/receipts.hpp"

#include <gtest/gtest.h>

#include "zkchain/signer.hpp"

namespace zkclient {
namespace {

// anvil's first development account: a published test key.
constexpr char kKey[] = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

std::string receipt_for(const Fr& nullifier, uint64_t credits) {
    zkchain::PolicyReceipt receipt;
    receipt.nullifier = zkchain::word_of(nullifier);
    receipt.credits = credits;
    receipt.issued_at = 1764612000;
    zkchain::sign_policy_receipt(zkchain::Signer::from_hex(kKey),
                                 {31337, zkchain::Address{}}, receipt);
    return zkchain::policy_receipt_text(receipt);
}

TEST(PolicyReceipts, KeptOnlyForTheTicketAndCMax) {
    State state;
    state.deployment.known = true;
    state.deployment.c_max = 1000;
    TicketRecord ticket;
    ticket.nullifier = Fr::from_u64(42);
    std::string error;

    EXPECT_FALSE(keep_policy_receipt(state, ticket, receipt_for(Fr::from_u64(43), 1000), error));
    EXPECT_EQ(error, "the policy receipt names another ticket");
    EXPECT_FALSE(keep_policy_receipt(state, ticket, receipt_for(Fr::from_u64(42), 999), error));
    EXPECT_FALSE(keep_policy_receipt(state, ticket, "AQID", error));
    EXPECT_EQ(error, "the policy receipt is malformed");
    EXPECT_EQ(ticket.policy_receipt, "");

    const std::string good = receipt_for(Fr::from_u64(42), 1000);
    EXPECT_TRUE(keep_policy_receipt(state, ticket, good, error));
    EXPECT_EQ(ticket.policy_receipt, good);
}

}  // namespace
}  // namespace zkclient
