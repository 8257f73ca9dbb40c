#pragma once
// The deposit contract's views (contracts/src/CreditDeposits.sol) as the
// registry's slasher and the client's deposit read them.

#include <optional>

#include "zkchain/node.hpp"

namespace zkchain {

// CreditDeposits.Status, in the contract's order. Only an active deposit
// backs requests; a withdrawing one can still be slashed.
enum class DepositStatus : uint8_t { none, active, withdrawing, withdrawn, slashed, expired };

const char* deposit_status_name(DepositStatus status);

struct DepositRecord {
    uint64_t credits = 0;
    uint64_t leaf_index = 0;
    uint64_t deposited_at = 0;  // unix seconds; the lifetime counts from it
    DepositStatus status = DepositStatus::none;
};

// depositOf(id): (uint64 credits, uint32 leafIndex, uint64 depositedAt, uint8 status).
DepositRecord deposit_of(Node& node, const Address& contract, const libverify::Fr& id);
// The same from the call's return data; throws ChainError(malformed) unless
// it is four words of those types and a known status.
DepositRecord decode_deposit_record(const Bytes& result);

// A view without arguments that returns one word, e.g. "currentRoot()".
Word view_word(Node& node, const Address& contract, std::string_view signature);
// The same for an unsigned integer of at most `bits` bits (a multiple of 8, up to 128).
Amount view_integer(Node& node, const Address& contract, std::string_view signature,
                    unsigned bits);

// The ERC-20 a TokenCreditDeposits takes; none for an EtherCreditDeposits,
// which has no token() to call.
std::optional<Address> token_of(Node& node, const Address& contract);

}  // namespace zkchain
