#include "zkchain/deposits.hpp"

namespace zkchain {

namespace {

[[noreturn]] void malformed(const std::string& what) {
    throw ChainError(ChainErrorKind::malformed, "the deposit contract answered " + what);
}

}  // namespace

const char* deposit_status_name(DepositStatus status) {
    switch (status) {
    case DepositStatus::none:
        return "none";
    case DepositStatus::active:
        return "active";
    case DepositStatus::withdrawing:
        return "withdrawing";
    case DepositStatus::withdrawn:
        return "withdrawn";
    case DepositStatus::slashed:
        return "slashed";
    case DepositStatus::expired:
        return "expired";
    }
    return "unknown";
}

DepositRecord decode_deposit_record(const Bytes& result) {
    const std::vector<Word> words = result_words(result);
    if (words.size() != 4) malformed("a depositOf of " + std::to_string(words.size()) + " words");
    DepositRecord record;
    record.credits = static_cast<uint64_t>(word_integer(words[0], 64, "credits"));
    record.leaf_index = static_cast<uint64_t>(word_integer(words[1], 32, "leafIndex"));
    record.deposited_at = static_cast<uint64_t>(word_integer(words[2], 64, "depositedAt"));
    const Amount status = word_integer(words[3], 8, "status");
    if (status > static_cast<Amount>(DepositStatus::expired)) {
        malformed("a deposit status of " + amount_to_decimal(status));
    }
    record.status = static_cast<DepositStatus>(static_cast<uint8_t>(status));
    return record;
}

DepositRecord deposit_of(Node& node, const Address& contract, const libverify::Fr& id) {
    return decode_deposit_record(
        node.view(contract, Calldata("depositOf(uint256)").field(id).bytes()));
}

Word view_word(Node& node, const Address& contract, std::string_view signature) {
    const std::vector<Word> words = result_words(node.view(contract, Calldata(signature).bytes()));
    if (words.size() != 1) malformed(std::string(signature) + " of other than one word");
    return words[0];
}

Amount view_integer(Node& node, const Address& contract, std::string_view signature,
                    unsigned bits) {
    return word_integer(view_word(node, contract, signature), bits, std::string(signature));
}

std::optional<Address> token_of(Node& node, const Address& contract) {
    Word word;
    try {
        word = view_word(node, contract, "token()");
    } catch (const ChainError& e) {
        if (e.kind() == ChainErrorKind::reverted) return std::nullopt;
        throw;
    }
    const std::optional<Address> token = word_address(word);
    if (!token) malformed("a token() that is not an address");
    return token;
}

}  // namespace zkchain
