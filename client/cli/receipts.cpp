// zkcredit receipts and zkcredit burn-receipts: the policy receipts the
// client kept (docs/client.md §1.2), what the deposit contract says of each,
// and the forced burn of those the provider did not burn within the
// contract's burnDelay (docs/protocol.md §9.1).

#include <iostream>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "zkchain/policy_burns.hpp"
#include "zkchain/signer.hpp"
#include "zkclient/state.hpp"

namespace zkcredit_cli {

namespace {

using json = nlohmann::json;
using zkclient::ClientError;
using zkclient::ExitCode;

struct HeldReceipt {
    uint32_t ticket = 0;
    zkchain::PolicyReceipt receipt;
    // What the contract says, when asked.
    bool checked = false;
    bool signer_ok = false;  // recovers to the contract's receiptSigner
    bool burned = false;
    uint64_t forceable_at = 0;  // issued_at + burnDelay
    std::string action;         // burn-receipts: what became of it
    std::string transaction;
};

std::vector<HeldReceipt> held_receipts(const zkclient::State& state) {
    std::vector<HeldReceipt> held;
    for (const zkclient::TicketRecord& ticket : state.tickets) {
        if (ticket.policy_receipt.empty()) continue;
        const auto receipt = zkchain::parse_policy_receipt(ticket.policy_receipt);
        if (!receipt) {
            throw ClientError(ExitCode::state, "a malformed policy receipt in the state file");
        }
        HeldReceipt h;
        h.ticket = ticket.index;
        h.receipt = *receipt;
        held.push_back(std::move(h));
    }
    return held;
}

zkchain::Address contract_of(const Options& options) {
    const std::optional<zkchain::Address> contract = zkchain::Address::parse(options.contract);
    if (!contract) {
        throw ClientError(ExitCode::usage, "--contract must be 0x and 40 hex digits");
    }
    return *contract;
}

uint64_t latest_block_time(zkchain::Node& node) {
    const json block = node.call("eth_getBlockByNumber", json::array({"latest", false}));
    const auto time = block.is_object() && block.contains("timestamp") &&
                              block["timestamp"].is_string()
                          ? zkchain::parse_quantity(block["timestamp"].get<std::string>())
                          : std::nullopt;
    if (!time || *time >> 64 != 0) {
        throw zkchain::ChainError(zkchain::ChainErrorKind::malformed,
                                  "the node's latest block has no timestamp");
    }
    return static_cast<uint64_t>(*time);
}

// Asks the contract about every receipt; returns the chain's time.
uint64_t check_receipts(zkchain::Node& node, const zkchain::Address& contract,
                        std::vector<HeldReceipt>& held) {
    const zkchain::ReceiptDomain domain{node.chain_id(), contract};
    const zkchain::Address signer = zkchain::receipt_signer(node, contract);
    const uint64_t delay = zkchain::burn_delay(node, contract);
    for (HeldReceipt& h : held) {
        h.checked = true;
        h.signer_ok = zkchain::policy_receipt_signer(domain, h.receipt) == signer;
        h.burned = zkchain::policy_burned(node, contract, h.receipt.nullifier);
        h.forceable_at = h.receipt.issued_at + delay;
    }
    return latest_block_time(node);
}

json receipt_json(const HeldReceipt& h) {
    const zkchain::PolicyReceipt& r = h.receipt;
    json out = {{"ticket", h.ticket},
                {"nullifier", zkchain::to_hex(r.nullifier.data(), r.nullifier.size()).substr(2)},
                {"credits", r.credits},
                {"evidence_digest",
                 zkchain::to_hex(r.evidence_digest.data(), r.evidence_digest.size()).substr(2)},
                {"issued_at", r.issued_at}};
    if (h.checked) {
        out["signer_ok"] = h.signer_ok;
        out["burned"] = h.burned;
        out["forceable_at"] = h.forceable_at;
    }
    if (!h.action.empty()) out["action"] = h.action;
    if (!h.transaction.empty()) out["transaction"] = h.transaction;
    return out;
}

std::string receipt_text(const HeldReceipt& h) {
    std::string line = "ticket " + std::to_string(h.ticket) + ": " +
                       std::to_string(h.receipt.credits) + " credits, issued at " +
                       std::to_string(h.receipt.issued_at);
    if (h.checked) {
        line += !h.signer_ok ? ", NOT signed by the contract's receipt signer"
                : h.burned   ? ", burned"
                             : ", not burned; anyone may burn it from " +
                                 std::to_string(h.forceable_at);
    }
    if (!h.action.empty()) line += " -> " + h.action;
    if (!h.transaction.empty()) line += " in transaction " + h.transaction;
    return line;
}

void print_receipts(const Options& options, const std::vector<HeldReceipt>& held) {
    if (options.json) {
        json list = json::array();
        for (const HeldReceipt& h : held) list.push_back(receipt_json(h));
        std::cout << json{{"receipts", list}}.dump(2) << "\n";
        return;
    }
    for (const HeldReceipt& h : held) std::cout << receipt_text(h) << "\n";
    if (held.empty()) std::cout << "no policy receipts\n";
}

}  // namespace

int cmd_receipts(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    const zkclient::State state = zkclient::state_load(options.state_path);
    std::vector<HeldReceipt> held = held_receipts(state);
    if (!options.rpc_url.empty()) {
        const zkchain::Address contract = contract_of(options);
        try {
            zkchain::Node node(options.rpc_url, std::chrono::seconds(options.timeout_seconds));
            check_receipts(node, contract, held);
        } catch (const zkchain::ChainError& e) {
            throw ClientError(ExitCode::chain, e.what());
        }
    }
    print_receipts(options, held);
    return 0;
}

int cmd_burn_receipts(const Options& options) {
    const zkchain::Address contract = contract_of(options);
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    const zkclient::State state = zkclient::state_load(options.state_path);
    std::vector<HeldReceipt> held = held_receipts(state);
    try {
        const zkchain::Signer signer = zkchain::Signer::from_file(options.chain_key);
        zkchain::Node node(options.rpc_url, std::chrono::seconds(options.timeout_seconds));
        const uint64_t now = check_receipts(node, contract, held);
        std::vector<zkchain::PolicyReceipt> due;
        for (HeldReceipt& h : held) {
            h.action = !h.signer_ok          ? "foreign"
                       : h.burned            ? "already-burned"
                       : now < h.forceable_at ? "not-yet"
                                              : "burned";
            if (h.action == "burned") due.push_back(h.receipt);
        }
        if (!due.empty()) {
            const zkchain::Receipt mined = zkchain::burn_policy_receipts(
                node, signer, contract, due, std::chrono::seconds(options.timeout_seconds));
            for (HeldReceipt& h : held) {
                if (h.action == "burned") h.transaction = mined.transaction;
            }
        }
    } catch (const zkchain::ChainError& e) {
        throw ClientError(ExitCode::chain, e.what());
    }
    print_receipts(options, held);
    return 0;
}

}  // namespace zkcredit_cli
