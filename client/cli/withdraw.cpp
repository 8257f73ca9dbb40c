// zkcredit withdraw: settles the identity's deposit on chain
// (docs/protocol.md §3.2, docs/client.md "Withdrawing"): a proof of the
// chain's ticket count and refund total with the share of its next ticket,
// then, after the challenge window, the payout.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "cli.hpp"
#include "libverify/groth16.hpp"
#include "zkchain/deposits.hpp"
#include "zkchain/signer.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/state.hpp"
#include "zkregistry/chain.hpp"
#include "zkregistry/error.hpp"

extern char** environ;

namespace zkcredit_cli {

namespace {

using json = nlohmann::json;
using libverify::Fr;
using zkchain::Amount;
using zkchain::Calldata;
using zkclient::ClientError;
using zkclient::ExitCode;

// Wipes a string that held the secret, whatever leaves the scope.
struct SecretText {
    std::string text;
    ~SecretText() { sodium_memzero(text.data(), text.size()); }
};

// Runs `node script` with `input` on its stdin and returns its stdout. The
// prover is snarkjs (client/tools/withdraw_prove.mjs): a withdrawal is made
// once per deposit, so its proof does not need the per-request prover's
// speed, and the C++ witness calculator links one circuit per program.
std::string run_prover(const std::string& script, const std::string& input) {
    int to_child[2];
    int from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0) throw ClientError(ExitCode::prover, "pipe failed");
    if (::pipe2(from_child, O_CLOEXEC) != 0) {
        ::close(to_child[0]);
        ::close(to_child[1]);
        throw ClientError(ExitCode::prover, "pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    std::string node = "node";
    std::vector<char*> argv = {node.data(), const_cast<char*>(script.c_str()), nullptr};
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, "node", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (spawned != 0) {
        ::close(to_child[1]);
        ::close(from_child[0]);
        throw ClientError(ExitCode::prover, "cannot start node for the withdrawal prover");
    }
    for (size_t written = 0; written < input.size();) {
        const ssize_t n = ::write(to_child[1], input.data() + written, input.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        written += static_cast<size_t>(n);
    }
    ::close(to_child[1]);
    std::string output;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(from_child[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        output.append(buffer, static_cast<size_t>(n));
    }
    ::close(from_child[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw ClientError(ExitCode::prover, "the withdrawal prover (" + script + ") failed");
    }
    return output;
}

// x = keccak256("zkcredit/v1/withdrawal" || chain id (32 bytes) || contract
// || recipient) mod r: what the contract computes for the proof's x.
Fr withdrawal_binding(uint64_t chain_id, const zkchain::Address& contract,
                      const zkchain::Address& recipient) {
    static constexpr std::string_view kTag = "zkcredit/v1/withdrawal";
    zkchain::Bytes message(kTag.begin(), kTag.end());
    const zkchain::Word chain = zkchain::word_of(Amount{chain_id});
    message.insert(message.end(), chain.begin(), chain.end());
    message.insert(message.end(), contract.bytes.begin(), contract.bytes.end());
    message.insert(message.end(), recipient.bytes.begin(), recipient.bytes.end());
    zkchain::Word digest = zkchain::keccak256(message);
    std::reverse(digest.begin(), digest.end());  // the word as a little-endian integer
    return Fr::from_bytes_le_reduce(digest.data());
}

std::string field_dec(const Fr& value) { return zkclient::fr_to_dec(value); }

// The withdrawal circuit's input: the credit statement for ticket n at x
// already holds every value it needs (its nullifier and signal are ticket
// n's share at x, its voucher part is the refund state n builds on).
json withdrawal_input(const zkclient::CreditInput& s, const Fr& id, uint32_t tickets,
                      uint64_t refund_total) {
    return {{"id", field_dec(id)},
            {"scope", field_dec(s.scope)},
            {"key_hash", field_dec(s.key_hash)},
            {"tickets", std::to_string(tickets)},
            {"refund_total", std::to_string(refund_total)},
            {"x", field_dec(s.x)},
            {"nullifier", field_dec(s.nullifier)},
            {"signal_y", field_dec(s.signal_y)},
            {"k", field_dec(s.k)},
            {"genesis", field_dec(s.genesis)},
            {"refund_total_prev", field_dec(s.refund_total_prev)},
            {"salt_prev", field_dec(s.salt_prev)},
            {"refund", field_dec(s.refund)},
            {"voucher_r8x", field_dec(s.voucher_r8x)},
            {"voucher_r8y", field_dec(s.voucher_r8y)},
            {"voucher_s", field_dec(s.voucher_s)},
            {"key_ax", field_dec(s.key_ax)},
            {"key_ay", field_dec(s.key_ay)}};
}

zkchain::Word calldata_word(const json& value) {
    const std::optional<zkchain::Bytes> bytes =
        value.is_string() ? zkchain::from_hex(value.get<std::string>()) : std::nullopt;
    if (!bytes || bytes->size() != 32) {
        throw ClientError(ExitCode::prover, "the withdrawal prover wrote a malformed proof");
    }
    zkchain::Word word;
    std::copy(bytes->begin(), bytes->end(), word.begin());
    return word;
}

zkchain::Address parse_address_option(const std::string& text, const char* what) {
    const std::optional<zkchain::Address> address = zkchain::Address::parse(text);
    if (!address) throw ClientError(ExitCode::usage, std::string(what) + " must be 0x and 40 hex digits");
    return *address;
}

void print_result(const Options& options, const json& result, const std::string& text) {
    if (options.json) {
        std::cout << result.dump(2) << "\n";
    } else {
        std::cout << text;
    }
}

int request_withdrawal(const Options& options, zkclient::State& state, zkchain::Node& node,
                       const zkchain::Signer& signer, const zkchain::Address& contract) {
    const Fr id = zkclient::identity_of(state.k);
    const zkchain::DepositRecord deposit = zkchain::deposit_of(node, contract, id);
    if (deposit.status != zkchain::DepositStatus::active) {
        chain_failure(std::string("the contract holds no active deposit for this identity (") +
                      zkchain::deposit_status_name(deposit.status) + ")");
    }
    if (deposit.credits != state.deposit) {
        chain_failure("the contract's deposit is " + std::to_string(deposit.credits) +
                      " credits, the state's " + std::to_string(state.deposit));
    }
    const zkchain::Address recipient =
        options.recipient.empty() ? signer.address() : parse_address_option(options.recipient, "--to");
    // A withdrawal started before (its transaction may be in flight) is
    // proved again for the same recipient only: the same x gives the same
    // share, where another x would put a second share of the ticket on chain.
    if (state.withdrawal.started && state.withdrawal.recipient != recipient.hex()) {
        throw ClientError(ExitCode::usage, "a withdrawal to " + state.withdrawal.recipient +
                                               " was started from this state; it must go there");
    }

    // Ticket n must never have left with a request's share: a lost answer
    // is settled (its voucher fetched) first, as for a request.
    const uint32_t tickets = state.chain_ticket();
    zkclient::require_reusable(state, tickets);
    const uint64_t refund_total = state.refund_total();
    const unsigned __int128 owed = static_cast<unsigned __int128>(tickets) * state.deployment.c_max;
    if (owed > static_cast<unsigned __int128>(state.deposit) + refund_total) {
        chain_failure("the chain's tickets exceed the deposit plus refunds");
    }

    const Fr x = withdrawal_binding(node.chain_id(), contract, recipient);
    zkclient::Statement statement;
    zkclient::assemble_statement(state, tickets, x, zkclient::random_field_element(), statement);
    SecretText input;
    input.text = json{{"wasm", options.withdraw_wasm_path},
                      {"zkey", options.withdraw_zkey_path},
                      {"input", withdrawal_input(statement.input, id, tickets, refund_total)}}
                     .dump();
    const std::vector<Fr> expected_public = {
        id, statement.input.scope, statement.input.key_hash, Fr::from_u64(tickets),
        Fr::from_u64(refund_total), x, statement.input.nullifier, statement.input.signal_y};
    statement.input.wipe();

    // Recorded before the share leaves: from now on no request is made.
    state.withdrawal = zkclient::WithdrawalRecord{};
    state.withdrawal.started = true;
    state.withdrawal.recipient = recipient.hex();
    state.withdrawal.tickets = tickets;
    zkclient::state_save(options.state_path, state);

    zkcredit_cli::note("proving the withdrawal of ticket count " + std::to_string(tickets) + " ...");
    const json proved = json::parse(run_prover(options.withdraw_prover_path, input.text), nullptr,
                                    false);
    if (!proved.is_object() || !proved.contains("calldata") || !proved["calldata"].is_array() ||
        proved["calldata"].size() != 8) {
        throw ClientError(ExitCode::prover, "the withdrawal prover wrote a malformed answer");
    }
    libverify::VerifyingKey vk;
    std::vector<Fr> public_inputs;
    if (!zkclient::load_verifying_key(options.withdraw_vk_path, vk) ||
        libverify::public_inputs_from_json(proved["public"].dump(), public_inputs) !=
            libverify::Status::ok ||
        public_inputs != expected_public ||
        libverify::groth16_verify_json(vk, proved["proof"].dump(), proved["public"].dump()) !=
            libverify::Status::ok) {
        throw ClientError(ExitCode::prover,
                          "the withdrawal proof does not verify under " + options.withdraw_vk_path);
    }

    const auto wait = std::chrono::seconds(options.timeout_seconds);
    std::optional<zkchain::Receipt> receipt;
    // A deposit or slash mined between reading the tree and the transaction
    // makes the path stale; the path is read again.
    for (int attempt = 0; attempt < 3 && !receipt; ++attempt) {
        const std::optional<std::vector<Fr>> siblings = zkregistry::current_path(
            node, contract, options.from_block, 2000, deposit.leaf_index);
        if (!siblings) continue;
        Calldata call(
            "requestWithdrawal(uint256,address,uint32,uint64,uint256,uint256,uint256,uint256[8],"
            "uint256[20])");
        call.field(id)
            .word(zkchain::word_of(recipient))
            .amount(tickets)
            .amount(refund_total)
            .field(expected_public[2])
            .field(expected_public[6])
            .field(expected_public[7]);
        for (const json& word : proved["calldata"]) call.word(calldata_word(word));
        for (const Fr& sibling : *siblings) call.field(sibling);
        try {
            receipt = node.transact(signer, contract, 0, call.bytes(), wait);
        } catch (const zkchain::ChainError& e) {
            if (!zkchain::reverted_with(e, "StalePath()")) throw;
        }
    }
    if (!receipt) chain_failure("the contract's tree kept moving; run zkcredit withdraw again");

    uint64_t deadline = 0;
    for (const zkregistry::ChainEvent& event : zkregistry::contract_events(
             node, contract.hex(), receipt->block, receipt->block, 1)) {
        if (event.kind == zkregistry::ChainEvent::Kind::withdrawal_requested && event.id == id) {
            deadline = event.deadline;
        }
    }
    state.withdrawal.transaction = receipt->transaction;
    state.withdrawal.deadline = deadline;
    zkclient::state_save(options.state_path, state);
    const Amount price = zkchain::view_integer(node, contract, "pricePerCredit()", 128);
    const uint64_t to_user = state.deposit + refund_total - tickets * state.deployment.c_max;
    print_result(options,
                 {{"id", zkclient::fr_to_dec(id)},
                  {"tickets", tickets},
                  {"refund_total", refund_total},
                  {"recipient", recipient.hex()},
                  {"credits_to_recipient", to_user},
                  {"paid_to_recipient", zkchain::amount_to_decimal(price * to_user)},
                  {"deadline", deadline},
                  {"transaction", receipt->transaction}},
                 "withdrawal requested: " + std::to_string(tickets) + " tickets used, refunds " +
                     std::to_string(refund_total) + "; " + std::to_string(to_user) +
                     " credits go to " + recipient.hex() + " after the challenge window, " +
                     "at unix time " + std::to_string(deadline) +
                     "\nthen run zkcredit withdraw --finalize\n");
    return 0;
}

int finalize_withdrawal(const Options& options, zkclient::State& state, zkchain::Node& node,
                        const zkchain::Signer& signer, const zkchain::Address& contract) {
    const Fr id = zkclient::identity_of(state.k);
    const zkchain::DepositRecord deposit = zkchain::deposit_of(node, contract, id);
    if (deposit.status == zkchain::DepositStatus::withdrawing) {
        try {
            const zkchain::Receipt receipt = node.transact(
                signer, contract, 0, Calldata("finalizeWithdrawal(uint256)").field(id).bytes(),
                std::chrono::seconds(options.timeout_seconds));
            state.withdrawal.finalized = true;
            zkclient::state_save(options.state_path, state);
            // A recipient that refused the transfer leaves the payout held by
            // the contract for it to claim (claimHeldPayout) instead.
            const zkchain::Address recipient =
                parse_address_option(state.withdrawal.recipient, "the recorded recipient");
            const Amount held = zkchain::word_integer(
                zkchain::result_words(node.view(
                    contract, Calldata("heldPayoutOf(address)").word(zkchain::word_of(recipient)).bytes()))
                    .at(0),
                128, "heldPayoutOf");
            print_result(options,
                         {{"finalized", true},
                          {"transaction", receipt.transaction},
                          {"held", zkchain::amount_to_decimal(held)}},
                         held == 0 ? "withdrawal paid out in transaction " + receipt.transaction + "\n"
                                   : "the recipient refused the payout: " +
                                         zkchain::amount_to_decimal(held) +
                                         " is held for it; it claims it with "
                                         "claimHeldPayout(to)\n");
            return 0;
        } catch (const zkchain::ChainError& e) {
            if (zkchain::reverted_with(e, "ChallengeWindowOpen()")) {
                chain_failure("the challenge window is still open, until unix time " +
                              std::to_string(state.withdrawal.deadline));
            }
            throw;
        }
    }
    if (deposit.status == zkchain::DepositStatus::withdrawn) {
        state.withdrawal.finalized = true;
        zkclient::state_save(options.state_path, state);
        print_result(options, {{"finalized", true}}, "the withdrawal was paid out already\n");
        return 0;
    }
    chain_failure(std::string("no withdrawal of this identity is pending (") +
                  zkchain::deposit_status_name(deposit.status) + ")");
}

}  // namespace

int cmd_withdraw(const Options& options) {
    const zkchain::Address contract = parse_address_option(options.contract, "--contract");
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    zkclient::State state = zkclient::state_load(options.state_path);
    zkclient::require_deposit(state);
    if (!state.deployment.known) {
        throw ClientError(ExitCode::state,
                          "the state has not met the gateway yet: its deployment is unknown");
    }
    try {
        const zkchain::Signer signer = zkchain::Signer::from_file(options.chain_key);
        zkchain::Node node(options.rpc_url, std::chrono::seconds(options.timeout_seconds));
        if (options.finalize) {
            if (!state.withdrawal.started) {
                throw ClientError(ExitCode::usage, "no withdrawal was requested from this state");
            }
            return finalize_withdrawal(options, state, node, signer, contract);
        }
        if (state.withdrawal.started && !state.withdrawal.transaction.empty()) {
            throw ClientError(ExitCode::usage,
                              "the withdrawal was requested in " + state.withdrawal.transaction +
                                  "; run zkcredit withdraw --finalize after its challenge window");
        }
        return request_withdrawal(options, state, node, signer, contract);
    } catch (const zkchain::ChainError& e) {
        chain_failure(e.what());
    } catch (const zkregistry::Error& e) {
        chain_failure(e.what());
    }
}

}  // namespace zkcredit_cli
