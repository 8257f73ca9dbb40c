// zkcredit: the user's client for zkcredit-gated APIs (docs/client.md).

#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <sodium.h>

#include "cli.hpp"
#include "libverify/decimal.hpp"

namespace {

using zkclient::ClientError;
using zkclient::ExitCode;
using zkcredit_cli::Options;

const char kHelp[] = R"(usage: zkcredit --state FILE [options] COMMAND [arguments]

Anonymous prepaid API credits: every request carries a zero-knowledge proof
that it is paid for, and no two requests can be linked to each other.

Commands:
  init                       create a new secret identity in FILE (never overwrites)
  register --deposit N       record the deposit N (credit units) and print the ID
                             and leaf to hand to the provider with the payment
  deposit --deposit N --rpc URL --contract ADDRESS --chain-key FILE
                             pay the deposit of N credit units into the deposit
                             contract, from the chain key in FILE (64 hex digits,
                             mode 0600), in ether or the contract's token
  withdraw --rpc URL --contract ADDRESS --chain-key FILE [--to ADDRESS]
                             request the withdrawal of what the deposit has left
                             (deposit + refunds - tickets * C_max) to ADDRESS
                             (default: the chain key's); no request can be made
                             after it
  withdraw --finalize --rpc URL --contract ADDRESS --chain-key FILE
                             after the challenge window, pay the withdrawal out
  sync --leaves URL|FILE     fetch the public list of leaves, build the tree
                             locally, find the own leaf and check the root
  request [-X METHOD] [-d BODY|@FILE] [-H 'Name: value']... URL
                             send one paid request (like curl); the response
                             body goes to stdout
  precompute                 precompute the next ticket's proof (all but the
                             request); request and sync start it in the
                             background after each answer and sync
  refund --fetch             fetch the refund vouchers that were not received
  balance                    deposit, tickets used, refunds, what is left
  status                     balance plus the deployment, tree and tickets
  proxy [--listen ADDR:PORT] URL
                             serve a local endpoint (default 127.0.0.1:8402) that
                             pays every request it forwards to the API at URL;
                             point an OpenAI SDK's base_url at it

Options:
  --state FILE               the state file (or $ZKCREDIT_STATE)
  --json                     machine-readable output on stdout
  --wait                     wait for another zkcredit using FILE instead of failing
  --refunds URL              refund location (default <origin>/zkcredit/refunds/)
  --timeout SECONDS          HTTP timeout per exchange (default 300)
  --zkey FILE                proving key (or $ZKCREDIT_ZKEY)
  --witness-dat FILE         witness generator data (or $ZKCREDIT_WITNESS_DAT)
  --vk FILE                  verification key to check proofs before sending
                             (or $ZKCREDIT_VK)
  --no-precompute            request, sync: start no background precompute, and
                             request ignores a precomputed proof (also
                             ZKCREDIT_PRECOMPUTE=0)
  --from-block N             withdraw: the contract's deployment block (0)
  --withdraw-zkey FILE       withdraw: the withdrawal circuit's proving key, its
  --withdraw-wasm FILE         witness generator, its verification key, and the
  --withdraw-vk FILE           prover script run by node (defaults: the build's)
  --withdraw-prover FILE
  --listen ADDR:PORT         proxy: the local address (numeric; beyond loopback
                             only with a token)
  --token-file FILE          proxy: require this local token (an owner-only file,
                             or $ZKCREDIT_PROXY_TOKEN) as the bearer API key
  --queue N                  proxy: requests that may wait for their turn (32)
  --max-body BYTES           proxy: the largest local request body (16 MiB)
  -h, --help                 this text

Exit status:
  0   done
  1   unexpected internal failure
  2   bad command line
  3   state file missing, unreadable, malformed or (init) already present
  4   another zkcredit process is using the state file
  5   no HTTP answer (connection, TLS, timeout)
  6   not synced, own leaf not in the list, root mismatch, bad leaves list
  7   not enough credit for another request
  8   the gateway refused the credential (402)
  9   the gateway reports the ticket spent (409)
  10  the gateway's store is unavailable (503)
  11  bad challenge, voucher or server answer
  12  proving keys unreadable, witness or proof failed
  13  deposit, withdraw: the node failed, the contract refused, or the chain key
      is bad
)";

[[noreturn]] void usage(const std::string& message) {
    throw ClientError(ExitCode::usage, message + " (see zkcredit --help)");
}

std::string env_or(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && value[0] != '\0' ? value : fallback;
}

uint64_t parse_amount(const std::string& text, const char* what) {
    libverify::Limbs limbs;
    if (libverify::limbs_from_decimal(text, limbs) != libverify::Status::ok || limbs[1] != 0 ||
        limbs[2] != 0 || limbs[3] != 0) {
        usage(std::string(what) + " must be a whole number below 2^64");
    }
    return limbs[0];
}

std::string read_body(const std::string& spec) {
    if (spec.empty() || spec[0] != '@') return spec;
    const std::string path = spec.substr(1);
    std::ifstream in(path, std::ios::binary);
    if (!in) usage("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int run(int argc, char** argv) {
    Options options;
    options.state_path = env_or("ZKCREDIT_STATE", "");
    options.zkey_path = env_or("ZKCREDIT_ZKEY", ZKC_DEFAULT_ZKEY);
    options.witness_dat_path = env_or("ZKCREDIT_WITNESS_DAT", ZKC_DEFAULT_WITNESS_DAT);
    options.vk_path = env_or("ZKCREDIT_VK", ZKC_DEFAULT_VK);
    options.withdraw_wasm_path = ZKC_DEFAULT_WITHDRAW_WASM;
    options.withdraw_zkey_path = ZKC_DEFAULT_WITHDRAW_ZKEY;
    options.withdraw_vk_path = ZKC_DEFAULT_WITHDRAW_VK;
    options.withdraw_prover_path = ZKC_DEFAULT_WITHDRAW_PROVER;
    std::string command;
    std::vector<std::string> positional;

    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "-h" || arg == "--help") {
            std::cout << kHelp;
            return 0;
        } else if (arg == "--state") {
            options.state_path = value();
        } else if (arg == "--json") {
            options.json = true;
        } else if (arg == "--wait") {
            options.wait_for_lock = true;
        } else if (arg == "--zkey") {
            options.zkey_path = value();
        } else if (arg == "--witness-dat") {
            options.witness_dat_path = value();
        } else if (arg == "--vk") {
            options.vk_path = value();
        } else if (arg == "--timeout") {
            const uint64_t t = parse_amount(value(), "--timeout");
            if (t == 0 || t > 86400) usage("--timeout must be 1 to 86400 seconds");
            options.timeout_seconds = static_cast<long>(t);
        } else if (arg == "--deposit") {
            options.deposit = parse_amount(value(), "--deposit");
            options.has_deposit = true;
        } else if (arg == "--rpc") {
            options.rpc_url = value();
        } else if (arg == "--contract") {
            options.contract = value();
        } else if (arg == "--chain-key") {
            options.chain_key = value();
        } else if (arg == "--to") {
            options.recipient = value();
        } else if (arg == "--finalize") {
            options.finalize = true;
        } else if (arg == "--from-block") {
            options.from_block = parse_amount(value(), "--from-block");
        } else if (arg == "--withdraw-zkey") {
            options.withdraw_zkey_path = value();
        } else if (arg == "--withdraw-wasm") {
            options.withdraw_wasm_path = value();
        } else if (arg == "--withdraw-vk") {
            options.withdraw_vk_path = value();
        } else if (arg == "--withdraw-prover") {
            options.withdraw_prover_path = value();
        } else if (arg == "--leaves") {
            options.leaves = value();
        } else if (arg == "-X" || arg == "--request") {
            options.method = value();
        } else if (arg == "-d" || arg == "--data" || arg == "--data-binary") {
            if (options.has_body) usage("give the body once");
            options.body = read_body(value());
            options.has_body = true;
        } else if (arg == "-H" || arg == "--header") {
            options.headers.push_back(value());
        } else if (arg == "--refunds") {
            options.refunds_url = value();
        } else if (arg == "--fetch") {
            options.fetch = true;
        } else if (arg == "--background") {
            options.background = true;
        } else if (arg == "--listen") {
            options.listen = value();
        } else if (arg == "--token-file") {
            options.token_file = value();
        } else if (arg == "--queue") {
            const uint64_t n = parse_amount(value(), "--queue");
            if (n == 0 || n > 100000) usage("--queue must be 1 to 100000");
            options.queue_limit = static_cast<size_t>(n);
        } else if (arg == "--max-body") {
            const uint64_t n = parse_amount(value(), "--max-body");
            if (n == 0 || n > (1ULL << 32)) usage("--max-body must be 1 to 2^32 bytes");
            options.max_body_bytes = static_cast<size_t>(n);
        } else if (arg == "--no-precompute") {
            options.no_precompute = true;
        } else if (arg.size() > 1 && arg[0] == '-') {
            usage("unknown option " + arg);
        } else if (command.empty()) {
            command = arg;
        } else {
            positional.push_back(arg);
        }
    }

    if (command.empty()) usage("no command");
    if (options.state_path.empty()) usage("--state FILE is required");
    const auto no_positional = [&]() {
        if (!positional.empty()) usage("unexpected argument " + positional[0]);
    };
    if (command == "init") {
        no_positional();
        return zkcredit_cli::cmd_init(options);
    }
    if (command == "register") {
        no_positional();
        if (!options.has_deposit || options.deposit == 0) usage("register needs --deposit N > 0");
        return zkcredit_cli::cmd_register(options);
    }
    if (command == "deposit") {
        no_positional();
        if (!options.has_deposit || options.deposit == 0) usage("deposit needs --deposit N > 0");
        if (options.rpc_url.empty() || options.contract.empty() || options.chain_key.empty()) {
            usage("deposit needs --rpc, --contract and --chain-key");
        }
        return zkcredit_cli::cmd_deposit(options);
    }
    if (command == "withdraw") {
        no_positional();
        if (options.rpc_url.empty() || options.contract.empty() || options.chain_key.empty()) {
            usage("withdraw needs --rpc, --contract and --chain-key");
        }
        return zkcredit_cli::cmd_withdraw(options);
    }
    if (command == "sync") {
        no_positional();
        if (options.leaves.empty()) usage("sync needs --leaves URL|FILE");
        return zkcredit_cli::cmd_sync(options);
    }
    if (command == "request") {
        if (positional.size() != 1) usage("request needs exactly one URL");
        options.url = positional[0];
        if (options.method.empty()) options.method = options.has_body ? "POST" : "GET";
        for (char c : options.method) {
            if (!(c >= 'A' && c <= 'Z') && c != '-' && c != '_')
                usage("bad method " + options.method);
        }
        for (const std::string& h : options.headers) {
            const size_t colon = h.find(':');
            if (colon == 0 || colon == std::string::npos ||
                h.find_first_of("\r\n") != std::string::npos) {
                usage("bad header \"" + h + "\" (expected 'Name: value')");
            }
        }
        return zkcredit_cli::cmd_request(options);
    }
    if (command == "precompute") {
        no_positional();
        return zkcredit_cli::cmd_precompute(options);
    }
    if (command == "refund") {
        no_positional();
        if (!options.fetch) usage("refund needs --fetch");
        return zkcredit_cli::cmd_refund(options);
    }
    if (command == "balance") {
        no_positional();
        return zkcredit_cli::cmd_balance(options);
    }
    if (command == "status") {
        no_positional();
        return zkcredit_cli::cmd_status(options);
    }
    if (command == "proxy") {
        if (positional.size() != 1) usage("proxy needs exactly one URL (the API's base URL)");
        options.url = positional[0];
        return zkcredit_cli::cmd_proxy(options);
    }
    usage("unknown command " + command);
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::cerr << "zkcredit: libsodium failed to initialise\n";
        return static_cast<int>(ExitCode::failure);
    }
    try {
        return run(argc, argv);
    } catch (const ClientError& e) {
        zkcredit_cli::note(e.what());
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        zkcredit_cli::note(std::string("internal error: ") + e.what());
        return static_cast<int>(ExitCode::failure);
    }
}
