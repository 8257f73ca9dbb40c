#pragma once
// The zkcredit command line: options shared by the commands, and the
// commands themselves (commands.cpp). Help text and exit codes: main.cpp
// and docs/client.md.

#include <string>
#include <vector>

#include "zkclient/error.hpp"

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
};

int cmd_init(const Options& options);
int cmd_register(const Options& options);
int cmd_sync(const Options& options);
int cmd_request(const Options& options);
int cmd_precompute(const Options& options);
int cmd_refund(const Options& options);
int cmd_balance(const Options& options);
int cmd_status(const Options& options);
int cmd_deposit(const Options& options);

// Writes "zkcredit: <message>" to stderr.
void note(const std::string& message);

// ZKCREDIT_TEST_PAUSE=<point>[,<point>...]: at each named point the process
// says "zkcredit: test pause at <point>" on stderr and stops itself with
// SIGSTOP, so that a test can kill it there (or let it go on with SIGCONT).
// Off unless the variable is set. Points: reserved, proving, proved, sent,
// answered.
void test_pause(const char* point);

}  // namespace zkcredit_cli
