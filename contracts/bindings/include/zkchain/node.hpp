#pragma once
// An Ethereum node over JSON-RPC (HTTP POST, one call at a time, libcurl),
// and the one way this project sends a transaction: sign, send, wait for
// the receipt.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "zkchain/ethereum.hpp"
#include "zkchain/signer.hpp"

namespace zkchain {

struct Receipt {
    std::string transaction;  // 0x-hex hash
    uint64_t block = 0;
    uint64_t gas_used = 0;
    nlohmann::json logs;
};

class Node {
public:
    Node(std::string url, std::chrono::milliseconds timeout);
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    ~Node();

    // The call's result. Throws ChainError: transport when there is no
    // answer, node for a JSON-RPC error (with the revert data, when the
    // node gives any, in `revert_data`), malformed for anything else.
    nlohmann::json call(const std::string& method, const nlohmann::json& params);

    uint64_t block_number();
    // The hash of block `number`, or none when the node has no such block.
    std::optional<std::string> block_hash(uint64_t number);
    uint64_t chain_id();
    Amount balance(const Address& account);

    // eth_call at the latest block. A revert throws ChainError(reverted)
    // whose revert_data() holds the contract's error.
    Bytes view(const Address& contract, const Bytes& data);

    // Signs and sends a call of `contract` paying `value`, then waits up to
    // `wait` for its receipt. The nonce is the account's pending count and
    // the fees follow the latest block (twice its base fee plus the node's
    // suggested tip). A call that would revert is never sent: the gas
    // estimate fails first and throws ChainError(reverted); one mined and
    // reverted (the state changed in between) throws the same.
    Receipt transact(const Signer& signer, const Address& contract, Amount value,
                     const Bytes& data, std::chrono::milliseconds wait);

private:
    std::optional<Receipt> receipt(const std::string& transaction);

    std::string url_;
    std::chrono::milliseconds timeout_;
    void* curl_ = nullptr;
    uint64_t next_id_ = 1;
};

// The selector a revert carries for a custom error, e.g. "StalePath()".
bool reverted_with(const ChainError& error, std::string_view error_signature);

}  // namespace zkchain
