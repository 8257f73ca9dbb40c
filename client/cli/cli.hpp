#pragma once
// The zkcredit command line: options shared by the commands, and the
// commands themselves (commands.cpp). Help text and exit codes: main.cpp
// and docs/client.md.

#include <cstddef>
#include <string>
#include <vector>

#include "zkclient/error.hpp"
#include "zkclient/payment.hpp"
#include "zkclient/state.hpp"

namespace zkcredit_cli {

struct Options {
    std::string state_path;
    bool json = false;
    bool wait_for_lock = false;
    std::string zkey_path;
    std::string witness_dat_path;
    std::string vk_path;
    long timeout_seconds = 300;

    // register
    bool has_deposit = false;
    uint64_t deposit = 0;
    // sync
    std::string leaves;
    // request
    std::string method;
    bool has_body = false;
    std::string body;
    std::vector<std::string> headers;
    std::string url;
    std::string refunds_url;
    // refund
    bool fetch = false;
    // precompute: without the state lock, as request and sync start it
    bool background = false;
    // request, sync: start no background precompute
    bool no_precompute = false;
    // deposit (with deposit above)
    std::string rpc_url;
    std::string contract;
    std::string chain_key;
    // withdraw (with rpc_url, contract and chain_key above)
    std::string recipient;  // --to; default: the chain key's address
    bool finalize = false;
    uint64_t from_block = 0;  // the contract's deployment block
    std::string withdraw_wasm_path;
    std::string withdraw_zkey_path;
    std::string withdraw_vk_path;
    std::string withdraw_prover_path;
    // proxy
    std::string listen = "127.0.0.1:8402";
    std::string token_file;
    size_t queue_limit = 32;
    size_t max_body_bytes = 16 << 20;
    size_t max_header_bytes = 64 << 10;
    int local_timeout_seconds = 60;
};

int cmd_init(const Options& options);
int cmd_register(const Options& options);
int cmd_sync(const Options& options);
int cmd_request(const Options& options);
int cmd_precompute(const Options& options);
int cmd_withdraw(const Options& options);

// Throws ClientError(chain): the node failed, the contract refused, or the
// chain key is bad (deposit, withdraw).
[[noreturn]] void chain_failure(const std::string& message);
int cmd_refund(const Options& options);
int cmd_balance(const Options& options);
int cmd_status(const Options& options);
int cmd_deposit(const Options& options);

// register and deposit: refuses (exit 3) a new deposit amount once tickets
// of the old one were used; records the amount, durably, when it changed.
void check_deposit_change(const zkclient::State& state, uint64_t deposit);
void record_deposit(const Options& options, zkclient::State& state);
int cmd_proxy(const Options& options);

// Whether requests use and start precomputed proofs (--no-precompute,
// ZKCREDIT_PRECOMPUTE=0).
bool precompute_enabled(const Options& options);
// Starts `zkcredit precompute --background` for the next ticket, detached.
void start_background_precompute(const Options& options);
// How `request`, `refund` and `proxy` pay: the options' keys and limits,
// notes and test pauses on stderr.
zkclient::PaymentSettings payment_settings(const Options& options);
zkclient::PaymentHooks cli_hooks();

// Writes "zkcredit: <message>" to stderr.
void note(const std::string& message);

// ZKCREDIT_TEST_PAUSE=<point>[,<point>...]: at each named point the process
// says "zkcredit: test pause at <point>" on stderr and stops itself with
// SIGSTOP, so that a test can kill it there (or let it go on with SIGCONT).
// Off unless the variable is set. Points: reserved, proving, proved, sent,
// answered.
void test_pause(const char* point);

}  // namespace zkcredit_cli
