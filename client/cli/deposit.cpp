// zkcredit deposit: pays the identity's deposit into the deposit contract
// (contracts/src/CreditDeposits.sol) from the user's own chain key, in ether
// or in the contract's ERC-20 token (docs/client.md, "Depositing on chain").

#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "zkchain/deposits.hpp"
#include "zkchain/signer.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/state.hpp"

namespace zkcredit_cli {

namespace {

using json = nlohmann::json;
using zkchain::Amount;
using zkchain::Calldata;
using zkclient::ClientError;
using zkclient::ExitCode;

}  // namespace

void chain_failure(const std::string& message) {
    throw ClientError(ExitCode::chain, message);
}

int cmd_deposit(const Options& options) {
    const std::optional<zkchain::Address> contract = zkchain::Address::parse(options.contract);
    if (!contract) {
        throw ClientError(ExitCode::usage, "--contract must be 0x and 40 hex digits");
    }
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    zkclient::State state = zkclient::state_load(options.state_path);
    check_deposit_change(state, options.deposit);
    try {
        const zkchain::Signer signer = zkchain::Signer::from_file(options.chain_key);
        zkchain::Node node(options.rpc_url, std::chrono::seconds(options.timeout_seconds));
        const libverify::Fr id = zkclient::identity_of(state.k);

        const zkchain::DepositRecord existing = zkchain::deposit_of(node, *contract, id);
        if (existing.status != zkchain::DepositStatus::none) {
            chain_failure("the contract already holds a deposit of " +
                          std::to_string(existing.credits) + " credits for this identity (" +
                          zkchain::deposit_status_name(existing.status) +
                          "); an identity deposits once: use a new state file");
        }
        // A state that has met the gateway knows its deployment: a contract
        // of another one would take the money for credits the gateway
        // never accepts (docs/protocol.md §13).
        if (state.deployment.known) {
            libverify::Fr scope;
            if (!zkchain::word_field(zkchain::view_word(node, *contract, "scope()"), scope) ||
                scope != state.deployment.scope ||
                zkchain::view_integer(node, *contract, "cMax()", 64) != state.deployment.c_max) {
                chain_failure("the contract's scope or C_max is not the gateway's (" +
                              state.deployment.origin + "): it belongs to another deployment");
            }
        }
        const Amount price = zkchain::view_integer(node, *contract, "pricePerCredit()", 128);
        const Amount minimum = zkchain::view_integer(node, *contract, "minCredits()", 64);
        if (options.deposit < minimum) {
            chain_failure("the contract takes at least " + zkchain::amount_to_decimal(minimum) +
                          " credits");
        }
        if (price >> 64 != 0) chain_failure("pricePerCredit() exceeds 64 bits");
        const Amount amount = price * options.deposit;  // below 2^128

        // The deposit goes into the state before the transaction: after a
        // crash in between, the state names the deposit that may be on
        // chain, and running deposit again finds it there.
        record_deposit(options, state);

        const auto wait = std::chrono::seconds(options.timeout_seconds);
        zkchain::Receipt receipt;
        const std::optional<zkchain::Address> token = zkchain::token_of(node, *contract);
        if (token) {
            node.transact(signer, *token, 0,
                          Calldata("approve(address,uint256)")
                              .word(zkchain::word_of(*contract))
                              .amount(amount)
                              .bytes(),
                          wait);
            receipt = node.transact(
                signer, *contract, 0,
                Calldata("deposit(uint256,uint256)").field(id).amount(amount).bytes(), wait);
        } else {
            receipt = node.transact(signer, *contract, amount,
                                    Calldata("deposit(uint256)").field(id).bytes(), wait);
        }
        const zkchain::DepositRecord made = zkchain::deposit_of(node, *contract, id);
        state.expires_at =
            made.deposited_at +
            static_cast<uint64_t>(zkchain::view_integer(node, *contract, "depositLifetime()", 64));
        zkclient::state_save(options.state_path, state);
        const std::string paid = zkchain::amount_to_decimal(amount);
        if (options.json) {
            std::cout << json{{"id", zkclient::fr_to_dec(id)},
                              {"credits", options.deposit},
                              {"paid", paid},
                              {"asset", token ? token->hex() : "ether"},
                              {"leaf", zkclient::fr_to_hex(zkclient::leaf_of(state.k, options.deposit))},
                              {"leaf_index", made.leaf_index},
                              {"block", receipt.block},
                              {"transaction", receipt.transaction}}
                             .dump(2)
                      << "\n";
        } else {
            std::cout << "deposited " << options.deposit << " credits ("
                      << paid << (token ? " units of token " + token->hex() : " wei")
                      << ") for ID " << zkclient::fr_to_dec(id) << "\n"
                      << "leaf " << made.leaf_index << " in block " << receipt.block
                      << ", transaction " << receipt.transaction << "\n"
                      << "once the provider's registry has followed it, run zkcredit sync.\n";
        }
    } catch (const zkchain::ChainError& e) {
        chain_failure(e.what());
    }
    return 0;
}

}  // namespace zkcredit_cli
