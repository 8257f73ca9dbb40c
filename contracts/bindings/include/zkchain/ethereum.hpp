#pragma once
// The Ethereum encodings the deposit contract's users need, and no more:
// hex, Keccak-256, RLP (transactions) and the ABI of static arguments
// (calls and their results). Keccak-256 is Crypto++'s; this file only
// arranges bytes.

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libverify/field.hpp"

namespace zkchain {

using Bytes = std::vector<uint8_t>;
using Word = std::array<uint8_t, 32>;  // one ABI word, big-endian
// Wei, token base units and gas prices: 2^128 wei is 3.4e20 ether, so no
// amount this project moves needs a wider integer.
using Amount = unsigned __int128;

enum class ChainErrorKind {
    transport,  // the node did not answer (connection, timeout, HTTP status)
    node,       // the node answered a JSON-RPC error
    malformed,  // the node's answer, or a local input, is not what it must be
    reverted,   // a transaction was mined and reverted, or a call reverts
    key,        // the chain key file is missing, readable by others or invalid
};

class ChainError : public std::runtime_error {
public:
    ChainError(ChainErrorKind kind, const std::string& what, std::vector<uint8_t> revert_data = {})
        : std::runtime_error(what), kind_(kind), revert_data_(std::move(revert_data)) {}
    ChainErrorKind kind() const { return kind_; }
    // What a reverting contract returned (a custom error's selector and
    // arguments), when the node passed it on.
    const std::vector<uint8_t>& revert_data() const { return revert_data_; }

private:
    ChainErrorKind kind_;
    std::vector<uint8_t> revert_data_;
};

struct Address {
    std::array<uint8_t, 20> bytes{};

    // "0x" and 40 hex digits of either case (the EIP-55 checksum is not
    // checked: addresses here come from configuration and the node).
    static std::optional<Address> parse(std::string_view text);
    std::string hex() const;  // lower case, with 0x
    std::string checksummed() const;  // EIP-55 mixed case, with 0x
    bool operator==(const Address& other) const { return bytes == other.bytes; }
    bool operator!=(const Address& other) const { return !(*this == other); }
};

std::string to_hex(const uint8_t* data, size_t size);  // lower case, with 0x
inline std::string to_hex(const Bytes& bytes) { return to_hex(bytes.data(), bytes.size()); }
// "0x" and an even number of hex digits of either case.
std::optional<Bytes> from_hex(std::string_view text);

Word keccak256(const uint8_t* data, size_t size);
inline Word keccak256(const Bytes& bytes) { return keccak256(bytes.data(), bytes.size()); }

// A JSON-RPC quantity ("0x" and hex digits without leading zeros) up to 2^128 - 1.
std::optional<Amount> parse_quantity(std::string_view text);
std::string to_quantity(Amount value);
std::string amount_to_decimal(Amount value);
// Strict decimal (no sign, no leading zeros) up to 2^128 - 1.
std::optional<Amount> parse_amount_decimal(std::string_view text);

// Recursive-length prefix encoding (the Yellow Paper's appendix B).
class Rlp {
public:
    Rlp& bytes(const uint8_t* data, size_t size);
    Rlp& bytes(const Bytes& value) { return bytes(value.data(), value.size()); }
    Rlp& integer(Amount value);  // big-endian, no leading zero bytes
    Rlp& list(const Rlp& items);
    // The items as one list.
    Bytes as_list() const;
    const Bytes& items() const { return payload_; }

private:
    Bytes payload_;
};

Word word_of(Amount value);
Word word_of(const libverify::Fr& value);
Word word_of(const Address& address);

// A call: the 4-byte selector of `signature` (as `cast sig` computes it,
// e.g. "slash(uint256,uint256[20])") and its arguments in order: static
// ones, one word each, and arrays of static tuples (such as
// "(uint256,uint64,bytes32)[]"), whose offset goes in the head and whose
// length and tuples go after it, as the ABI places dynamic arguments.
class Calldata {
public:
    explicit Calldata(std::string_view signature);
    Calldata& word(const Word& value);
    Calldata& amount(Amount value) { return word(word_of(value)); }
    Calldata& field(const libverify::Fr& value) { return word(word_of(value)); }
    // Each tuple is its fields' words, all tuples of one size (ChainError
    // malformed otherwise).
    Calldata& tuple_array(const std::vector<std::vector<Word>>& tuples);
    Bytes bytes() const;

private:
    struct DynamicArgument {
        size_t slot;  // where its offset goes in the head
        Bytes tail;
    };
    Bytes selector_;
    Bytes head_;
    std::vector<DynamicArgument> dynamic_;
};

// The words of a call's static result; throws ChainError(malformed) when
// the result is not a whole number of words.
std::vector<Word> result_words(const Bytes& result);
// Word as an integer; throws ChainError(malformed) naming `what` when it
// does not fit in `bits` (at most 128).
Amount word_integer(const Word& word, unsigned bits, const std::string& what);
bool word_field(const Word& word, libverify::Fr& out);
// An ABI address word (12 zero bytes, then the address); none otherwise.
std::optional<Address> word_address(const Word& word);

}  // namespace zkchain
