#include "zkchain/deposits.hpp"

namespace zkchain {

namespace {

[[noreturn]] void malformed(const std::string& what) {
    throw ChainError(ChainErrorKind::malformed, "the deposit contract answered " + what);
}

}  // namespace

DepositRecord deposit_of(Node& node, const Address& contract, const libverify::Fr& id) {
    const std::vector<Word> words =
        result_words(node.view(contract, Calldata("depositOf(uint256)").field(id).bytes()));
    if (words.size() != 4) malformed("a depositOf of " + std::to_string(words.size()) + " words");
    DepositRecord record;
    record.credits = static_cast<uint64_t>(word_integer(words[0], 64, "credits"));
    record.leaf_index = static_cast<uint64_t>(word_integer(words[1], 32, "leafIndex"));
    record.registered = word_integer(words[2], 8, "registered") != 0;
    record.slashed = word_integer(words[3], 8, "slashed") != 0;
    return record;
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
