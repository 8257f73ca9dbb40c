#pragma once
// The deposit contract's views (contracts/src/CreditDeposits.sol) as the
// registry's slasher and the client's deposit read them.

#include <optional>

#include "zkchain/node.hpp"

namespace zkchain {

struct DepositRecord {
    uint64_t credits = 0;
    uint64_t leaf_index = 0;
    bool registered = false;
    bool slashed = false;
};

// depositOf(id): (uint64 credits, uint32 leafIndex, bool registered, bool slashed).
DepositRecord deposit_of(Node& node, const Address& contract, const libverify::Fr& id);

// A view without arguments that returns one word, e.g. "currentRoot()".
Word view_word(Node& node, const Address& contract, std::string_view signature);
// The same for an unsigned integer of at most `bits` bits (a multiple of 8, up to 128).
Amount view_integer(Node& node, const Address& contract, std::string_view signature,
                    unsigned bits);

// The ERC-20 a TokenCreditDeposits takes; none for an EtherCreditDeposits,
// which has no token() to call.
std::optional<Address> token_of(Node& node, const Address& contract);

}  // namespace zkchain
