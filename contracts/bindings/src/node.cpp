#include "zkchain/node.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <thread>

namespace zkchain {

using nlohmann::json;

namespace {

constexpr auto kReceiptPoll = std::chrono::milliseconds(100);

[[noreturn]] void malformed(const std::string& what) {
    throw ChainError(ChainErrorKind::malformed, "malformed answer from the node: " + what);
}

size_t append_body(char* data, size_t size, size_t count, void* sink) {
    static_cast<std::string*>(sink)->append(data, size * count);
    return size * count;
}

const std::string& text_of(const json& value, const std::string& what) {
    if (!value.is_string()) malformed(what + " is not a string");
    return value.get_ref<const std::string&>();
}

Amount quantity_of(const json& value, const std::string& what) {
    const std::optional<Amount> parsed = parse_quantity(text_of(value, what));
    if (!parsed) malformed(what + " is not a quantity");
    return *parsed;
}

uint64_t u64_of(const json& value, const std::string& what) {
    const Amount parsed = quantity_of(value, what);
    if (parsed > UINT64_MAX) malformed(what + " exceeds 64 bits");
    return static_cast<uint64_t>(parsed);
}

const json& member(const json& object, const char* name, const std::string& what) {
    if (!object.is_object() || !object.contains(name)) {
        malformed(what + " has no \"" + name + "\"");
    }
    return object[name];
}

// The revert data a node attaches to an execution error ("data": "0x..."),
// when it is hex; empty otherwise.
Bytes revert_data_of(const json& error) {
    if (error.is_object() && error.contains("data") && error["data"].is_string()) {
        if (std::optional<Bytes> data = from_hex(error["data"].get<std::string>())) {
            return *data;
        }
    }
    return {};
}

}  // namespace

Node::Node(std::string url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout), curl_(curl_easy_init()) {
    if (curl_ == nullptr) {
        throw ChainError(ChainErrorKind::transport, "cannot initialise libcurl");
    }
}

Node::~Node() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

json Node::call(const std::string& method, const json& params) {
    CURL* curl = static_cast<CURL*>(curl_);
    const std::string request =
        json{{"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", params}}.dump();
    std::string body;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) {
        throw ChainError(ChainErrorKind::transport,
                         method + " to the node failed: " + curl_easy_strerror(code));
    }
    if (status != 200) {
        throw ChainError(ChainErrorKind::transport,
                         method + ": the node answered HTTP " + std::to_string(status));
    }
    const json answer = json::parse(body, nullptr, false);
    if (answer.is_discarded() || !answer.is_object()) {
        malformed(method + " answered no JSON object");
    }
    if (answer.contains("error")) {
        throw ChainError(ChainErrorKind::node, method + ": " + answer["error"].dump(),
                         revert_data_of(answer["error"]));
    }
    if (!answer.contains("result")) {
        malformed(method + " answered no result");
    }
    return answer["result"];
}

uint64_t Node::block_number() {
    return u64_of(call("eth_blockNumber", json::array()), "eth_blockNumber");
}

std::optional<std::string> Node::block_hash(uint64_t number) {
    const json block = call("eth_getBlockByNumber", json::array({to_quantity(number), false}));
    if (block.is_null()) {
        return std::nullopt;
    }
    std::string hash = text_of(member(block, "hash", "eth_getBlockByNumber"), "the block hash");
    std::transform(hash.begin(), hash.end(), hash.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return hash;
}

uint64_t Node::chain_id() { return u64_of(call("eth_chainId", json::array()), "eth_chainId"); }

Amount Node::balance(const Address& account) {
    return quantity_of(call("eth_getBalance", json::array({account.hex(), "latest"})),
                       "eth_getBalance");
}

Bytes Node::view(const Address& contract, const Bytes& data) {
    const json request = {{"to", contract.hex()}, {"data", to_hex(data)}};
    json result;
    try {
        result = call("eth_call", json::array({request, "latest"}));
    } catch (const ChainError& e) {
        if (e.kind() != ChainErrorKind::node) throw;
        throw ChainError(ChainErrorKind::reverted, e.what(), e.revert_data());
    }
    std::optional<Bytes> bytes = from_hex(text_of(result, "eth_call"));
    if (!bytes) malformed("eth_call is not hex");
    return *bytes;
}

std::optional<Receipt> Node::receipt(const std::string& transaction) {
    const json found = call("eth_getTransactionReceipt", json::array({transaction}));
    if (found.is_null()) {
        return std::nullopt;
    }
    Receipt receipt;
    receipt.transaction = transaction;
    receipt.block = u64_of(member(found, "blockNumber", "the receipt"), "blockNumber");
    receipt.gas_used = u64_of(member(found, "gasUsed", "the receipt"), "gasUsed");
    receipt.logs = member(found, "logs", "the receipt");
    const Amount status = quantity_of(member(found, "status", "the receipt"), "status");
    if (status != 1) {
        throw ChainError(ChainErrorKind::reverted, "transaction " + transaction + " reverted");
    }
    return receipt;
}

Receipt Node::transact(const Signer& signer, const Address& contract, Amount value,
                       const Bytes& data, std::chrono::milliseconds wait) {
    const std::string from = signer.address().hex();
    Transaction transaction;
    transaction.chain_id = chain_id();
    transaction.nonce =
        u64_of(call("eth_getTransactionCount", json::array({from, "pending"})), "the nonce");
    const json latest = call("eth_getBlockByNumber", json::array({"latest", false}));
    const Amount base_fee =
        quantity_of(member(latest, "baseFeePerGas", "the latest block"), "baseFeePerGas");
    transaction.max_priority_fee_per_gas =
        quantity_of(call("eth_maxPriorityFeePerGas", json::array()), "eth_maxPriorityFeePerGas");
    transaction.max_fee_per_gas = 2 * base_fee + transaction.max_priority_fee_per_gas;
    transaction.to = contract;
    transaction.value = value;
    transaction.data = data;
    const json estimate_request = {
        {"from", from}, {"to", contract.hex()}, {"value", to_quantity(value)}, {"data", to_hex(data)}};
    uint64_t estimate = 0;
    try {
        estimate = u64_of(call("eth_estimateGas", json::array({estimate_request})), "the gas");
    } catch (const ChainError& e) {
        if (e.kind() != ChainErrorKind::node) throw;
        throw ChainError(ChainErrorKind::reverted, e.what(), e.revert_data());
    }
    // A quarter more than the estimate: the estimate is exact for the state
    // it ran on, and a deposit mined first can lengthen a tree update.
    transaction.gas_limit = estimate + estimate / 4;
    const std::string hash = text_of(
        call("eth_sendRawTransaction", json::array({to_hex(signer.sign(transaction))})),
        "eth_sendRawTransaction");
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        if (std::optional<Receipt> mined = receipt(hash)) {
            return *mined;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw ChainError(ChainErrorKind::transport,
                             "transaction " + hash + " was sent but not mined in time");
        }
        std::this_thread::sleep_for(kReceiptPoll);
    }
}

bool reverted_with(const ChainError& error, std::string_view error_signature) {
    const Bytes& data = error.revert_data();
    const Calldata expected(error_signature);
    return data.size() >= 4 && std::equal(data.begin(), data.begin() + 4, expected.bytes().begin());
}

}  // namespace zkchain
