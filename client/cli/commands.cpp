#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <sodium.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "libverify/groth16.hpp"
#include "libverify/protocol.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/http.hpp"
#include "zkclient/payment.hpp"
#include "zkclient/precompute.hpp"
#include "zkclient/prover.hpp"
#include "zkclient/state.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace zkcredit_cli {

using libverify::Status;
using nlohmann::json;
using zkclient::ClientError;
using zkclient::ExitCode;
using zkclient::Fr;
using zkclient::State;
using zkclient::TicketRecord;
using zkclient::TicketStatus;

namespace {


[[noreturn]] void fail(ExitCode code, const std::string& message) {
    throw ClientError(code, message);
}

void print_json(const json& value) { std::cout << value.dump(2) << "\n"; }

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string format_seconds(double s) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f s", s);
    return text;
}

void write_body(const std::string& body) {
    std::cout.write(body.data(), static_cast<std::streamsize>(body.size()));
    std::cout.flush();
}

bool valid_utf8(const std::string& text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        size_t extra;
        if (c < 0x80) {
            extra = 0;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
        } else {
            return false;
        }
        if (text.size() - i <= extra) return false;
        for (size_t k = 1; k <= extra; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return false;
        }
        i += extra + 1;
    }
    return true;
}

void print_balance_text(const zkclient::Balance& b) {
    std::cout << "deposit        " << b.deposit << "\n"
              << "C_max          " << b.c_max << "\n"
              << "tickets used   " << b.tickets_used << "\n"
              << "refund total   " << b.refund_total << "\n"
              << "spendable      " << zkclient::int128_to_string(b.spendable)
              << "  (deposit + refunds - tickets used * C_max)\n"
              << "requests left  " << b.requests_left << " at most C_max each\n";
    if (b.missing_vouchers != 0) {
        std::cout << "pending        " << b.missing_vouchers
                  << " ticket(s) may still have a refund: zkcredit refund --fetch\n";
    }
    if (b.expires_at != 0) {
        std::cout << "expires        unix time " << b.expires_at
                  << (b.expires_soon ? "  (soon: withdraw before then)" : "") << "\n";
    }
}

zkclient::HttpRequest http_request_of(const Options& options, const zkclient::Url& url) {
    zkclient::HttpRequest request;
    request.method = options.method;
    request.url = url;
    request.has_body = options.has_body;
    request.body = options.body;
    request.headers = options.headers;
    request.timeout_seconds = options.timeout_seconds;
    return request;
}

}  // namespace

bool precompute_enabled(const Options& options) {
    const char* env = std::getenv("ZKCREDIT_PRECOMPUTE");
    return !options.no_precompute && !(env != nullptr && std::strcmp(env, "0") == 0);
}

// Starts `zkcredit precompute --background` for the next ticket, detached
// (own session, no terminal, output to /dev/null). Best effort: a request
// without a precompute proves in full.
void start_background_precompute(const Options& options) {
    if (!precompute_enabled(options)) return;
    std::vector<std::string> args = {"zkcredit",      "--state", options.state_path,
                                     "--zkey",        options.zkey_path,
                                     "--witness-dat", options.witness_dat_path,
                                     "--vk",          options.vk_path,
                                     "precompute",    "--background"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    if (posix_spawn_file_actions_init(&actions) != 0) return;
    if (posix_spawnattr_init(&attributes) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return;
    }
    for (int fd = 0; fd <= 2; ++fd) {
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY,
                                         0);
    }
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv.data(), environ) != 0) {
        note("could not start the background precompute; the next request proves in full");
    }
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
}

zkclient::PaymentSettings payment_settings(const Options& options) {
    zkclient::PaymentSettings settings;
    settings.state_path = options.state_path;
    settings.zkey_path = options.zkey_path;
    settings.witness_dat_path = options.witness_dat_path;
    settings.vk_path = options.vk_path;
    settings.use_precompute = precompute_enabled(options);
    settings.timeout_seconds = options.timeout_seconds;
    settings.refunds_url = options.refunds_url;
    return settings;
}

zkclient::PaymentHooks cli_hooks() {
    zkclient::PaymentHooks hooks;
    hooks.pause = test_pause;
    hooks.note = note;
    return hooks;
}

void note(const std::string& message) { std::cerr << "zkcredit: " << message << std::endl; }

void test_pause(const char* point) {
    const char* spec = std::getenv("ZKCREDIT_TEST_PAUSE");
    if (spec == nullptr) return;
    const std::string list = std::string(",") + spec + ",";
    if (list.find(std::string(",") + point + ",") == std::string::npos) return;
    const std::string line = std::string("zkcredit: test pause at ") + point + "\n";
    // write(2) directly: the line must be out before the process stops.
    ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
    (void)unused;
    ::raise(SIGSTOP);
}

int cmd_init(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    if (zkclient::state_exists(options.state_path)) {
        fail(ExitCode::state, options.state_path + " exists; refusing to overwrite an identity");
    }
    State state;
    state.k = zkclient::random_field_element();
    zkclient::state_create(options.state_path, state);
    const Fr id = zkclient::identity_of(state.k);
    if (options.json) {
        print_json({{"state", options.state_path}, {"id", zkclient::fr_to_dec(id)}});
    } else {
        std::cout << "created " << options.state_path << " (keep it private; it holds the secret)\n"
                  << "ID " << zkclient::fr_to_dec(id) << "\n";
    }
    return 0;
}

void check_deposit_change(const State& state, uint64_t deposit) {
    if (state.has_deposit && state.deposit != deposit && state.next_ticket != 0) {
        fail(ExitCode::state, "tickets were already used with the deposit " +
                                  std::to_string(state.deposit) + "; use a new identity");
    }
}

void record_deposit(const Options& options, State& state) {
    if (!state.has_deposit || state.deposit != options.deposit) {
        state.has_deposit = true;
        state.deposit = options.deposit;
        state.tree = zkclient::TreeInfo{};  // the leaf changes with the deposit
        zkclient::state_save(options.state_path, state);
    }
}

int cmd_register(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    State state = zkclient::state_load(options.state_path);
    check_deposit_change(state, options.deposit);
    record_deposit(options, state);
    const Fr id = zkclient::identity_of(state.k);
    const Fr leaf = zkclient::leaf_of(state.k, state.deposit);
    const std::string id_dec = zkclient::fr_to_dec(id);
    if (options.json) {
        print_json({{"id", id_dec},
                    {"id_hex", zkclient::fr_to_hex(id)},
                    {"deposit", state.deposit},
                    {"leaf", zkclient::fr_to_hex(leaf)}});
    } else {
        std::cout << "ID       " << id_dec << "\n"
                  << "deposit  " << state.deposit << "\n"
                  << "leaf     " << zkclient::fr_to_hex(leaf) << "\n"
                  << "Pay the deposit to the provider and give it the ID and amount; it runs\n"
                  << "  zkcredit-registry register --id " << id_dec << " --deposit "
                  << state.deposit << "\n"
                  << "then run zkcredit sync --leaves <the provider's leaves URL>.\n";
    }
    return 0;
}

int cmd_sync(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    State state = zkclient::state_load(options.state_path);
    zkclient::require_deposit(state);
    const bool changed = zkclient::sync_tree(state, options.leaves);
    zkclient::state_save(options.state_path, state);
    if (state.deployment.known) start_background_precompute(options);
    const std::string root = zkclient::fr_to_hex(state.tree.root);
    if (options.json) {
        print_json({{"root", root},
                    {"leaf_index", state.tree.leaf_index},
                    {"leaf_count", state.tree.leaf_count},
                    {"changed", changed}});
    } else {
        std::cout << "root " << root << (changed ? " (new)" : " (unchanged)") << "\nleaf "
                  << state.tree.leaf_index << " of " << state.tree.leaf_count << "\n";
    }
    return 0;
}

int cmd_request(const Options& options) {
    const zkclient::Url url = zkclient::url_parse(options.url);
    if (!options.refunds_url.empty()) zkclient::url_parse(options.refunds_url);
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    zkclient::Wallet wallet(payment_settings(options), cli_hooks());
    const State& state = wallet.state();
    zkclient::require_synced(state);
    if (!options.refunds_url.empty() && state.deployment.known &&
        state.deployment.refunds_url != options.refunds_url) {
        wallet.mutable_state().deployment.refunds_url = options.refunds_url;
        wallet.save();
    }

    const zkclient::PaymentResult result = wallet.pay(http_request_of(options, url));
    const zkclient::HttpResponse& response = result.response;
    if (!result.paid) {
        write_body(response.body);
        return 0;
    }
    start_background_precompute(options);

    if (options.json) {
        const TicketRecord& ticket = *wallet.mutable_state().ticket(result.ticket);
        json out = {{"http_status", response.status},
                    {"ticket", result.ticket},
                    {"nullifier", zkclient::fr_to_hex(ticket.nullifier)},
                    {"ticket_status", zkclient::ticket_status_name(ticket.status)},
                    {"refund", ticket.has_voucher ? json(ticket.refund) : json(nullptr)},
                    {"refund_total", state.refund_total()},
                    {"proof", result.proof_kind},
                    {"proving_ms", result.proving_seconds * 1e3}};
        if (valid_utf8(response.body)) {
            out["body"] = response.body;
        } else {
            out["body_base64"] = zkclient::base64_encode(response.body);
        }
        print_json(out);
    } else {
        write_body(response.body);
    }
    if (result.outcome != ExitCode::ok) fail(result.outcome, result.message);
    return 0;
}

// The precompute of the next ticket's proof (docs/client.md). In the
// foreground under the state lock; with --background (as request and sync
// start it) without the lock, so that it never turns another command away:
// the state file is only read, and a result whose statement changed in the
// meantime is dropped (it would be discarded as stale anyway).
int cmd_precompute(const Options& options) {
    std::unique_ptr<zkclient::StateLock> lock;
    if (!options.background) {
        lock = std::make_unique<zkclient::StateLock>(options.state_path, options.wait_for_lock);
    }
    const auto started = std::chrono::steady_clock::now();
    const State state = zkclient::state_load(options.state_path);
    zkclient::require_synced(state);
    if (!state.deployment.known) {
        fail(ExitCode::state,
             "the deployment is not known yet (it comes with the gateway's first challenge; "
             "make a request first)");
    }
    zkclient::require_solvent(state);
    libverify::VerifyingKey vk;
    if (!zkclient::load_verifying_key(options.vk_path, vk)) {
        fail(ExitCode::prover, "cannot read the verification key " + options.vk_path +
                                   " (a precompute is bound to it)");
    }
    zkclient::Statement next;
    zkclient::assemble_statement(state, state.chain_ticket(), Fr::zero(), Fr::zero(), next);
    zkclient::ProvingKeys prover;
    zkclient::load_proving_keys(options.zkey_path, options.witness_dat_path, prover);
    if (zkclient::key_fingerprint(prover.key) != zkclient::key_fingerprint(vk)) {
        fail(ExitCode::prover, options.zkey_path + " and " + options.vk_path +
                                   " are not the same key");
    }
    zkclient::LockedPrecompute precomputed;
    const Status st =
        zkclient::credit_precompute(prover.key, prover.witness, next.input, next.index, precomputed);
    if (st != Status::ok) {
        fail(ExitCode::prover,
             std::string("precomputing failed (") + libverify::status_name(st) + ")");
    }
    if (options.background) {
        const State now = zkclient::state_load(options.state_path);
        zkclient::Statement current;
        zkclient::assemble_statement(now, now.chain_ticket(), Fr::zero(), Fr::zero(), current);
        if (current.index != next.index ||
            zkclient::statement_binding(current.input, zkclient::key_fingerprint(vk)) !=
                precomputed.get().binding) {
            return 0;
        }
    }
    zkclient::precompute_save(zkclient::precompute_path(options.state_path), precomputed.get());
    const double seconds = seconds_since(started);
    if (options.json) {
        print_json({{"ticket", next.index}, {"precomputed", true}, {"seconds", seconds}});
    } else {
        std::cout << "ticket " << next.index << " precomputed in " << format_seconds(seconds)
                  << "\n";
    }
    return 0;
}

int cmd_refund(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    zkclient::Wallet wallet(payment_settings(options), cli_hooks());
    const State& state = wallet.state();
    if (!state.deployment.known) fail(ExitCode::state, "no request was made yet");
    if (!options.refunds_url.empty()) {
        zkclient::url_parse(options.refunds_url);
        wallet.mutable_state().deployment.refunds_url = options.refunds_url;
        wallet.save();
    }
    size_t remaining = 0;
    const size_t stored = wallet.recover_vouchers(false, options.json, &remaining);
    if (options.json) {
        print_json(
            {{"fetched", stored}, {"missing", remaining}, {"refund_total", state.refund_total()}});
    } else {
        std::cout << "fetched " << stored << " voucher(s); " << remaining
                  << " ticket(s) without one; refund total " << state.refund_total() << "\n";
    }
    return 0;
}

int cmd_balance(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    const State state = zkclient::state_load(options.state_path);
    zkclient::require_deposit(state);
    const zkclient::Balance b = zkclient::balance_of(state);
    if (options.json) {
        print_json(zkclient::balance_json(b));
    } else {
        print_balance_text(b);
    }
    return 0;
}

namespace {

// Whether the next ticket's proof is precomputed: "ready", "absent",
// "stale" or "corrupt" as precompute_check finds the file, "unavailable"
// when no statement can be made yet (not synced, no deployment, no credit,
// no verification key).
std::string next_ticket_proof(const State& state, const Options& options) {
    libverify::VerifyingKey vk;
    if (!state.tree.synced || !state.deployment.known ||
        !zkclient::load_verifying_key(options.vk_path, vk)) {
        return "unavailable";
    }
    try {
        zkclient::require_solvent(state);
        zkclient::Statement next;
        zkclient::assemble_statement(state, state.chain_ticket(), Fr::zero(), Fr::zero(), next);
        return zkclient::precompute_file_name(zkclient::precompute_check(
            zkclient::precompute_path(options.state_path),
            zkclient::statement_binding(next.input, zkclient::key_fingerprint(vk)), next.index));
    } catch (const ClientError&) {
        return "unavailable";
    }
}

}  // namespace

int cmd_status(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    const State state = zkclient::state_load(options.state_path);
    json out;
    out["id"] = zkclient::fr_to_dec(zkclient::identity_of(state.k));
    out["deposit"] = state.has_deposit ? json(state.deposit) : json(nullptr);
    out["balance"] = state.has_deposit ? zkclient::balance_json(zkclient::balance_of(state)) : json(nullptr);
    const zkclient::DeploymentInfo& d = state.deployment;
    out["deployment"] = d.known
                            ? json{{"realm", d.realm},   {"scope", zkclient::fr_to_dec(d.scope)},
                                   {"c_max", d.c_max},   {"key", d.key},
                                   {"origin", d.origin}, {"refunds_url", d.refunds_url}}
                            : json(nullptr);
    out["tree"] = state.tree.synced ? json{{"root", zkclient::fr_to_hex(state.tree.root)},
                                           {"leaf_index", state.tree.leaf_index},
                                           {"leaf_count", state.tree.leaf_count},
                                           {"source", state.tree.source}}
                                    : json(nullptr);
    json tickets = json::array();
    for (const TicketRecord& t : state.tickets) {
        tickets.push_back({{"index", t.index},
                           {"status", zkclient::ticket_status_name(t.status)},
                           {"http_status", t.http_status},
                           {"request", t.method + " " + t.url},
                           {"refund", t.has_voucher ? json(t.refund) : json(nullptr)}});
    }
    out["tickets"] = tickets;
    const std::string next_proof = next_ticket_proof(state, options);
    out["next_ticket"] = {{"index", state.chain_ticket()}, {"precomputed", next_proof}};
    if (options.json) {
        print_json(out);
        return 0;
    }
    std::cout << "ID             " << out["id"].get<std::string>() << "\n";
    if (d.known) {
        std::cout << "deployment     " << d.origin << " realm \"" << d.realm << "\" scope "
                  << zkclient::fr_to_dec(d.scope) << "\n";
    }
    if (state.tree.synced) {
        std::cout << "tree           leaf " << state.tree.leaf_index << " of "
                  << state.tree.leaf_count << ", root " << zkclient::fr_to_hex(state.tree.root)
                  << "\n";
    }
    if (state.has_deposit) print_balance_text(zkclient::balance_of(state));
    std::cout << "next ticket    " << state.chain_ticket() << ", precomputed proof: " << next_proof
              << "\n";
    for (const TicketRecord& t : state.tickets) {
        std::cout << "ticket " << t.index << "  " << zkclient::ticket_status_name(t.status);
        if (t.http_status != 0) std::cout << " HTTP " << t.http_status;
        if (t.has_voucher) std::cout << " refund " << t.refund;
        std::cout << "  " << t.method << " " << t.url << "\n";
    }
    return 0;
}

}  // namespace zkcredit_cli
