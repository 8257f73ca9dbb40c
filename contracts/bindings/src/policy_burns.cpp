#include "zkchain/policy_burns.hpp"

#include "zkchain/deposits.hpp"

namespace zkchain {

bool policy_burned(Node& node, const Address& contract, const Word& nullifier) {
    const std::vector<Word> words =
        result_words(node.view(contract, Calldata("policyBurned(uint256)").word(nullifier).bytes()));
    if (words.size() != 1) {
        throw ChainError(ChainErrorKind::malformed, "policyBurned(uint256) returned no bool");
    }
    return word_integer(words[0], 8, "policyBurned") != 0;
}

Address receipt_signer(Node& node, const Address& contract) {
    const std::optional<Address> signer = word_address(view_word(node, contract, "receiptSigner()"));
    if (!signer) {
        throw ChainError(ChainErrorKind::malformed, "receiptSigner() returned no address");
    }
    return *signer;
}

uint64_t burn_delay(Node& node, const Address& contract) {
    return static_cast<uint64_t>(view_integer(node, contract, "burnDelay()", 64));
}

Receipt burn_policy_receipts(Node& node, const Signer& signer, const Address& contract,
                             const std::vector<PolicyReceipt>& receipts,
                             std::chrono::milliseconds wait) {
    std::vector<std::vector<Word>> tuples;
    tuples.reserve(receipts.size());
    for (const PolicyReceipt& receipt : receipts) tuples.push_back(policy_receipt_words(receipt));
    Calldata call(kBurnPolicyReceipts);
    call.tuple_array(tuples);
    return node.transact(signer, contract, 0, call.bytes(), wait);
}

}  // namespace zkchain
