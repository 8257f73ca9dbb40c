#pragma once
// A secp256k1 chain key (the provider's, for slashing; a user's, for
// deposits) and the EIP-1559 transactions it signs. Signing is
// libsecp256k1's (RFC 6979 nonces, low s); the key lives in locked memory
// that is wiped when the Signer goes, and is never printed.

#include <cstdint>
#include <optional>
#include <string>

#include "zkchain/ethereum.hpp"

struct secp256k1_context_struct;

namespace zkchain {

// An EIP-1559 (type 2) transaction with an empty access list.
struct Transaction {
    uint64_t chain_id = 0;
    uint64_t nonce = 0;
    Amount max_priority_fee_per_gas = 0;
    Amount max_fee_per_gas = 0;
    uint64_t gas_limit = 0;
    Address to;
    Amount value = 0;
    Bytes data;
};

// A recoverable ECDSA signature as Solidity's ecrecover takes it: v is 27
// or 28, s is in the lower half of the group order (EIP-2).
struct Signature {
    Word r{};
    Word s{};
    uint8_t v = 0;
};

class Signer {
public:
    // Reads a key file: 64 hex digits, optionally after "0x", optionally
    // followed by one newline; nothing else. The file must belong to the
    // caller and be readable by no one else (ChainError(key) otherwise,
    // which names the file and never its contents).
    static Signer from_file(const std::string& path);
    // The same from a key already in memory (tests; anvil's public keys).
    static Signer from_hex(std::string_view key_hex);

    Signer(Signer&& other) noexcept;
    Signer& operator=(Signer&&) = delete;
    Signer(const Signer&) = delete;
    Signer& operator=(const Signer&) = delete;
    ~Signer();

    const Address& address() const { return address_; }

    // The raw transaction for eth_sendRawTransaction: 0x02 || rlp([...,
    // y_parity, r, s]) signed over keccak256(0x02 || rlp([...])).
    Bytes sign(const Transaction& transaction) const;

    // A signature of the 32-byte `digest` itself (no prefix, no hashing):
    // what `cast wallet sign --no-hash` makes with the same key.
    Signature sign_digest(const Word& digest) const;

private:
    Signer(secp256k1_context_struct* context, uint8_t* key);

    secp256k1_context_struct* context_;
    uint8_t* key_;  // 32 bytes from sodium_malloc: guarded, locked, wiped on free
    Address address_;
};

// ecrecover as the EVM runs it, plus EIP-2's low-s rule: the address whose
// key made `signature` over `digest`, or none (v not 27 or 28, r or s
// zero or not below the group order, s high, no such key).
std::optional<Address> recover_signer(const Word& digest, const Signature& signature);

// keccak256(0x02 || rlp(unsigned fields)): what the key signs.
Word transaction_digest(const Transaction& transaction);

}  // namespace zkchain
