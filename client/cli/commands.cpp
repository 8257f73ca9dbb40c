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
#include "zkclient/merkle.hpp"
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

constexpr char kCredentialHeader[] = "ZKCredit-Credential";
constexpr char kRefundHeader[] = "ZKCredit-Refund";
constexpr char kProblemPrefix[] = "urn:zkcredit:problem:";

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

// The problem type of an application/problem+json answer from the gateway,
// without the URN prefix; empty for anything else.
std::string problem_type(const zkclient::HttpResponse& response) {
    const auto types = response.header_values("Content-Type");
    if (types.size() != 1 || types[0].rfind("application/problem+json", 0) != 0) return "";
    try {
        const json body = json::parse(response.body);
        const std::string type = body.value("type", "");
        if (type.rfind(kProblemPrefix, 0) != 0) return "";
        return type.substr(std::strlen(kProblemPrefix));
    } catch (const json::exception&) {
        return "";
    }
}

bool challenge_of(const zkclient::HttpResponse& response, zkclient::Challenge& out) {
    for (const std::string& value : response.header_values("WWW-Authenticate")) {
        if (zkclient::challenge_parse(value, out) == Status::ok) return true;
    }
    return false;
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

void require_deposit(const State& state) {
    if (!state.has_deposit)
        fail(ExitCode::tree, "no deposit recorded (run zkcredit register --deposit N)");
}

void require_synced(const State& state) {
    require_deposit(state);
    if (!state.tree.synced)
        fail(ExitCode::tree, "the tree is not synced (run zkcredit sync --leaves ...)");
}

// Records a deployment from its challenge. The state belongs to one
// deployment: a different scope is refused; a new signing key is added to
// the keys that vouchers may name.
void adopt_challenge(State& state, const zkclient::Challenge& challenge, const std::string& origin,
                     const std::string& refunds_url) {
    zkclient::DeploymentInfo& d = state.deployment;
    const std::string key = zkclient::key_to_hex(challenge.key_packed);
    if (d.known && !(d.scope == challenge.scope)) {
        fail(ExitCode::protocol, "the gateway's scope " + zkclient::fr_to_dec(challenge.scope) +
                                     " is not this state's scope " + zkclient::fr_to_dec(d.scope) +
                                     " (one state file per deployment)");
    }
    if (d.known && d.c_max != challenge.c_max) {
        note("the gateway's C_max changed from " + std::to_string(d.c_max) + " to " +
             std::to_string(challenge.c_max));
    }
    if (!d.known) {
        d.origin = origin;
        d.refunds_url = refunds_url.empty() ? origin + "/zkcredit/refunds/" : refunds_url;
    }
    d.known = true;
    d.realm = challenge.realm;
    d.scope = challenge.scope;
    d.c_max = challenge.c_max;
    d.key = key;
    bool seen = false;
    for (const std::string& k : d.keys) seen = seen || k == key;
    if (!seen) d.keys.push_back(key);
}

// The known key a voucher names, if any.
bool voucher_key(const State& state, const libverify::Refund& refund, std::string& key_hex,
                 libverify::BabyJubAffine& key) {
    for (const std::string& candidate : state.deployment.keys) {
        std::array<uint8_t, libverify::kBabyJubPackedBytes> packed;
        libverify::BabyJubAffine point;
        if (zkclient::key_from_hex(candidate, packed, point) != Status::ok) continue;
        if (libverify::server_key_hash(point) == refund.key_hash) {
            key_hex = candidate;
            key = point;
            return true;
        }
    }
    return false;
}

// Checks a voucher for `ticket` and stores it there; a message on failure.
bool store_voucher(State& state, TicketRecord& ticket, const std::string& value,
                   std::string& error) {
    libverify::Refund refund;
    if (libverify::refund_decode(value, refund) != Status::ok) {
        error = "malformed refund voucher";
        return false;
    }
    std::string key_hex;
    libverify::BabyJubAffine key;
    if (!voucher_key(state, refund, key_hex, key)) {
        error = "the refund voucher names an unknown signing key";
        return false;
    }
    const Status status =
        zkclient::voucher_accept(value, key, state.deployment.scope, ticket.c_new, refund);
    if (status != Status::ok) {
        error = std::string("the refund voucher does not verify (") +
                libverify::status_name(status) + ")";
        return false;
    }
    ticket.has_voucher = true;
    ticket.voucher = value;
    ticket.refund = refund.amount;
    ticket.voucher_key = key_hex;
    return true;
}

enum class FetchResult { stored, none, bad };

// GET <refunds>/<nullifier hex>: 200 with the voucher header, 404 without.
FetchResult fetch_voucher(State& state, TicketRecord& ticket, long timeout, std::string& error) {
    zkclient::HttpRequest request;
    request.url =
        zkclient::url_parse(state.deployment.refunds_url + zkclient::fr_to_hex(ticket.nullifier));
    request.timeout_seconds = timeout;
    const zkclient::HttpResponse response = zkclient::http_send(request);
    if (response.status == 404) return FetchResult::none;
    const auto values = response.header_values(kRefundHeader);
    if (response.status != 200 || values.size() != 1) {
        error = "refund location answered HTTP " + std::to_string(response.status);
        return FetchResult::bad;
    }
    return store_voucher(state, ticket, values[0], error) ? FetchResult::stored : FetchResult::bad;
}

bool may_have_voucher(const TicketRecord& t) {
    return !t.has_voucher && (t.status == TicketStatus::sent || t.status == TicketStatus::served ||
                              t.status == TicketStatus::spent);
}

struct Balance {
    uint64_t deposit = 0;
    uint64_t c_max = 0;
    uint32_t tickets_used = 0;
    uint64_t refund_total = 0;
    __int128 spendable = 0;
    uint64_t requests_left = 0;
    size_t unknown = 0;
    size_t missing_vouchers = 0;
};

Balance balance_of(const State& state) {
    Balance b;
    b.deposit = state.deposit;
    b.c_max = state.deployment.known ? state.deployment.c_max : 0;
    b.tickets_used = state.next_ticket;
    b.refund_total = state.refund_total();
    b.spendable = static_cast<__int128>(b.deposit) + b.refund_total -
                  static_cast<__int128>(b.tickets_used) * b.c_max;
    if (b.c_max != 0 && b.spendable > 0) {
        const __int128 left = b.spendable / b.c_max;
        const __int128 ticket_room = static_cast<__int128>(UINT32_MAX) - b.tickets_used;
        b.requests_left = static_cast<uint64_t>(left < ticket_room ? left : ticket_room);
    }
    for (const TicketRecord& t : state.tickets) {
        if (t.status == TicketStatus::sent) ++b.unknown;
        if (may_have_voucher(t)) ++b.missing_vouchers;
    }
    return b;
}

std::string int128_to_string(__int128 v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    unsigned __int128 u =
        negative ? static_cast<unsigned __int128>(-v) : static_cast<unsigned __int128>(v);
    std::string digits;
    while (u != 0) {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
    }
    return negative ? "-" + digits : digits;
}

json balance_json(const Balance& b) {
    return {{"deposit", b.deposit},
            {"c_max", b.c_max},
            {"tickets_used", b.tickets_used},
            {"refund_total", b.refund_total},
            {"spendable", json::parse(int128_to_string(b.spendable))},
            {"requests_left", b.requests_left},
            {"tickets_unknown", b.unknown},
            {"vouchers_missing", b.missing_vouchers}};
}

void print_balance_text(const Balance& b) {
    std::cout << "deposit        " << b.deposit << "\n"
              << "C_max          " << b.c_max << "\n"
              << "tickets used   " << b.tickets_used << "\n"
              << "refund total   " << b.refund_total << "\n"
              << "spendable      " << int128_to_string(b.spendable)
              << "  (deposit + refunds - tickets used * C_max)\n"
              << "requests left  " << b.requests_left << " at most C_max each\n";
    if (b.missing_vouchers != 0) {
        std::cout << "pending        " << b.missing_vouchers
                  << " ticket(s) may still have a refund: zkcredit refund --fetch\n";
    }
}

// Proving keys, loaded per request (about a tenth of a second).
struct Prover {
    zkclient::ProvingKey key;
    zkclient::CreditWitnessGenerator witness;
};

void load_prover(const Options& options, Prover& prover) {
    Status s = zkclient::ProvingKey::from_file(options.zkey_path, prover.key);
    if (s != Status::ok) {
        fail(ExitCode::prover, "cannot load the proving key " + options.zkey_path + " (" +
                                   libverify::status_name(s) + ")");
    }
    s = zkclient::CreditWitnessGenerator::load(options.witness_dat_path, prover.witness);
    if (s != Status::ok) {
        fail(ExitCode::prover, "cannot load the witness generator data " +
                                   options.witness_dat_path + " (" + libverify::status_name(s) +
                                   ")");
    }
}

std::string read_text_file(const std::string& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    ok = static_cast<bool>(in);
    std::ostringstream text;
    if (ok) text << in.rdbuf();
    return text.str();
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

// Fetches vouchers of tickets left without one (a crash, a lost answer).
// Returns how many were stored; saves after each.
size_t recover_vouchers(State& state, const Options& options, bool only_unknown, bool quiet,
                        size_t* remaining) {
    size_t stored = 0, left = 0;
    for (TicketRecord& t : state.tickets) {
        if (!may_have_voucher(t) || (only_unknown && t.status != TicketStatus::sent)) continue;
        std::string error;
        FetchResult result;
        try {
            result = fetch_voucher(state, t, options.timeout_seconds, error);
        } catch (const ClientError& e) {
            if (!quiet)
                note(std::string("refund for ticket ") + std::to_string(t.index) + ": " + e.what());
            ++left;
            continue;
        }
        if (result == FetchResult::stored) {
            // A voucher exists only for a request the gateway served.
            if (t.status == TicketStatus::sent) t.status = TicketStatus::served;
            zkclient::state_save(options.state_path, state);
            ++stored;
        } else {
            if (result == FetchResult::bad && !quiet) {
                note("refund for ticket " + std::to_string(t.index) + ": " + error);
            }
            ++left;
        }
    }
    if (remaining != nullptr) *remaining = left;
    return stored;
}


// The statement of the next ticket, as the request and the precompute
// build it. Not movable: params points at opening.
struct NextStatement {
    zkclient::VoucherOpening opening;
    zkclient::CreditParameters params;
    zkclient::CreditInput input;
    uint32_t index = 0;
    uint64_t refund_total = 0;

    NextStatement() = default;
    NextStatement(const NextStatement&) = delete;
    NextStatement& operator=(const NextStatement&) = delete;
    ~NextStatement() {
        input.wipe();
        sodium_memzero(&params.k, sizeof params.k);
        sodium_memzero(&params.salt_new, sizeof params.salt_new);
    }
};

// Refuses a next ticket that the deposit and refunds do not cover.
void require_solvent(const State& state) {
    const zkclient::DeploymentInfo& d = state.deployment;
    const uint32_t index = state.next_ticket;
    const uint64_t refund_total = state.refund_total();
    if (index == UINT32_MAX) fail(ExitCode::insufficient, "every ticket of this identity is used");
    if (!zkclient::solvent(index, d.c_max, state.deposit, refund_total)) {
        const Balance b = balance_of(state);
        const __int128 needed = (static_cast<__int128>(index) + 1) * d.c_max;
        fail(ExitCode::insufficient,
             "not enough credit: ticket " + std::to_string(index) +
                 " needs (i + 1) * C_max = " + int128_to_string(needed) +
                 " <= deposit + refunds = " + std::to_string(state.deposit) + " + " +
                 std::to_string(refund_total) +
                 (b.missing_vouchers ? "; try zkcredit refund --fetch" : ""));
    }
}

// The statement for ticket state.next_ticket with request x and salt_new:
// key, voucher the next request builds on, tree, deployment.
void assemble_next(const State& state, const Fr& x, const Fr& salt_new, NextStatement& out) {
    const zkclient::DeploymentInfo& d = state.deployment;
    const TicketRecord* head = state.head();
    out.index = state.next_ticket;
    out.refund_total = state.refund_total();
    zkclient::CreditParameters& params = out.params;
    std::array<uint8_t, libverify::kBabyJubPackedBytes> packed;
    params.voucher = nullptr;
    if (head != nullptr) {
        if (libverify::refund_decode(head->voucher, out.opening.voucher) != Status::ok ||
            zkclient::key_from_hex(head->voucher_key, packed, out.opening.key) != Status::ok) {
            fail(ExitCode::state,
                 "the stored voucher of ticket " + std::to_string(head->index) + " is malformed");
        }
        out.opening.refund_total_prev = head->refund_total;
        out.opening.salt_prev = head->salt;
        params.voucher = &out.opening;
        params.key = out.opening.key;
    } else if (zkclient::key_from_hex(d.key, packed, params.key) != Status::ok) {
        fail(ExitCode::state, "the stored signing key is malformed");
    }
    params.k = state.k;
    params.deposit = state.deposit;
    params.root = state.tree.root;
    params.path_elements = state.tree.path;
    params.leaf_index = state.tree.leaf_index;
    params.scope = d.scope;
    params.c_max = d.c_max;
    params.ticket = out.index;
    params.x = x;
    params.salt_new = salt_new;
    const Status assembled = zkclient::credit_input_assemble(params, out.input);
    if (assembled != Status::ok) {
        fail(ExitCode::state,
             std::string("cannot assemble the statement: ") + libverify::status_name(assembled));
    }
}

// The verifying key that proofs are checked against before they leave, and
// whose fingerprint a precompute is bound to; false if it cannot be read.
bool load_vk(const Options& options, libverify::VerifyingKey& vk) {
    bool have_vk = false;
    const std::string vk_text = read_text_file(options.vk_path, have_vk);
    return have_vk && libverify::VerifyingKey::from_json(vk_text, vk) == Status::ok;
}

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

}  // namespace

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

int cmd_register(const Options& options) {
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    State state = zkclient::state_load(options.state_path);
    if (state.has_deposit && state.deposit != options.deposit && state.next_ticket != 0) {
        fail(ExitCode::state, "tickets were already used with the deposit " +
                                  std::to_string(state.deposit) + "; use a new identity");
    }
    if (!state.has_deposit || state.deposit != options.deposit) {
        state.has_deposit = true;
        state.deposit = options.deposit;
        state.tree = zkclient::TreeInfo{};  // the leaf changes with the deposit
        zkclient::state_save(options.state_path, state);
    }
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
    require_deposit(state);

    const std::string text = zkclient::fetch_document(options.leaves, nullptr);
    uint32_t depth = 0;
    std::vector<Fr> leaves;
    Fr published_root;
    try {
        const json doc = json::parse(text);
        depth = doc.at("depth").get<uint32_t>();
        const std::string root_hex = doc.at("root").get<std::string>();
        if (zkclient::fr_from_hex(root_hex, published_root) != Status::ok) {
            fail(ExitCode::tree, "the leaves list has a malformed root");
        }
        const json& list = doc.at("leaves");
        if (!list.is_array()) fail(ExitCode::tree, "the leaves list has no array of leaves");
        leaves.reserve(list.size());
        for (const json& entry : list) {
            Fr leaf;
            if (!entry.is_string() ||
                zkclient::fr_from_hex(entry.get<std::string>(), leaf) != Status::ok) {
                fail(ExitCode::tree, "the leaves list has a malformed leaf");
            }
            leaves.push_back(leaf);
        }
    } catch (const json::exception& e) {
        fail(ExitCode::tree, std::string("malformed leaves list: ") + e.what());
    }
    if (depth != zkclient::kCreditTreeDepth) {
        fail(ExitCode::tree, "the leaves list is for a tree of depth " + std::to_string(depth) +
                                 "; the credit circuit needs " +
                                 std::to_string(zkclient::kCreditTreeDepth));
    }
    const Fr own = zkclient::leaf_of(state.k, state.deposit);
    size_t index = leaves.size();
    for (size_t i = 0; i < leaves.size(); ++i) {
        if (leaves[i] == own) {
            index = i;
            break;
        }
    }
    Fr root;
    zkclient::MerklePath path;
    const Status s = zkclient::merkle_root_and_path(depth, leaves,
                                                    index < leaves.size() ? index : 0, root, path);
    if (s != Status::ok)
        fail(ExitCode::tree, std::string("cannot build the tree: ") + libverify::status_name(s));
    if (!(root == published_root)) {
        fail(ExitCode::tree, "the published root does not match the leaves (expected " +
                                 zkclient::fr_to_hex(root) + ")");
    }
    if (index == leaves.size()) {
        fail(ExitCode::tree, "the own leaf " + zkclient::fr_to_hex(own) + " is not among the " +
                                 std::to_string(leaves.size()) +
                                 " leaves (not registered yet, another deposit, or revoked)");
    }
    const bool changed = !state.tree.synced || !(state.tree.root == root);
    state.tree.synced = true;
    state.tree.depth = depth;
    state.tree.root = root;
    state.tree.leaf_index = index;
    state.tree.leaf_count = leaves.size();
    state.tree.path = path.elements;
    state.tree.source = options.leaves;
    zkclient::state_save(options.state_path, state);
    if (state.deployment.known) start_background_precompute(options);
    if (options.json) {
        print_json({{"root", zkclient::fr_to_hex(root)},
                    {"leaf_index", index},
                    {"leaf_count", leaves.size()},
                    {"changed", changed}});
    } else {
        std::cout << "root " << zkclient::fr_to_hex(root) << (changed ? " (new)" : " (unchanged)")
                  << "\nleaf " << index << " of " << leaves.size() << "\n";
    }
    return 0;
}

int cmd_request(const Options& options) {
    const zkclient::Url url = zkclient::url_parse(options.url);
    if (!options.refunds_url.empty()) zkclient::url_parse(options.refunds_url);
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    State state = zkclient::state_load(options.state_path);
    require_synced(state);
    if (!options.refunds_url.empty() && state.deployment.known &&
        state.deployment.refunds_url != options.refunds_url) {
        state.deployment.refunds_url = options.refunds_url;
        zkclient::state_save(options.state_path, state);
    }

    // Learn the deployment from the gateway's challenge the first time.
    if (!state.deployment.known) {
        note("asking " + url.origin + " for its parameters");
        const zkclient::HttpResponse probe = zkclient::http_send(http_request_of(options, url));
        zkclient::Challenge challenge;
        if (probe.status != 402 || !challenge_of(probe, challenge)) {
            note("answered HTTP " + std::to_string(probe.status) +
                 " without asking for a credential; nothing was paid");
            write_body(probe.body);
            return 0;
        }
        adopt_challenge(state, challenge, url.origin, options.refunds_url);
        zkclient::state_save(options.state_path, state);
    }

    // Tickets whose answer was lost may hold the newest refund.
    bool unknown = false;
    for (const TicketRecord& t : state.tickets)
        unknown = unknown || (may_have_voucher(t) && t.status == TicketStatus::sent);
    if (unknown) recover_vouchers(state, options, true, true, nullptr);

    const zkclient::DeploymentInfo& d = state.deployment;
    require_solvent(state);
    const uint32_t index = state.next_ticket;

    // The precomputed proof for exactly this statement, if there is one: it
    // leaves its file (durably) now, whether or not the request goes on.
    libverify::VerifyingKey vk;
    const bool have_vk = load_vk(options, vk);
    zkclient::LockedPrecompute precomputed;
    if (have_vk && precompute_enabled(options)) {
        NextStatement unbound;
        assemble_next(state, Fr::zero(), Fr::zero(), unbound);
        const zkclient::PrecomputeFile found = zkclient::precompute_take(
            zkclient::precompute_path(options.state_path),
            zkclient::statement_binding(unbound.input, zkclient::key_fingerprint(vk)), index,
            precomputed);
        if (found == zkclient::PrecomputeFile::stale || found == zkclient::PrecomputeFile::corrupt) {
            note(std::string("discarded a ") + zkclient::precompute_file_name(found) +
                 " precomputed proof");
        }
    }

    // The statement: key, voucher, fresh nonce and salt, x over the exact request.
    uint8_t nonce[libverify::kNonceBytes];
    zkclient::random_nonce(nonce);
    Fr x;
    if (zkclient::request_binding(options.method, url.target, options.body, nonce, x) !=
        Status::ok) {
        fail(ExitCode::usage, "the method or target is too long");
    }
    NextStatement next;
    assemble_next(state, x,
                  precomputed.ready() ? precomputed.get().salt_new
                                      : zkclient::random_field_element(),
                  next);
    zkclient::CreditInput& input = next.input;

    // Ticket `index` is taken, durably, before anything about it leaves
    // this process (docs/protocol.md section 10).
    TicketRecord record;
    record.index = index;
    record.nullifier = input.nullifier;
    record.c_new = input.c_new;
    record.refund_total = next.refund_total;
    record.salt = next.params.salt_new;
    record.method = options.method;
    record.url = url.origin + url.target;
    state.tickets.push_back(record);
    state.next_ticket = index + 1;
    zkclient::state_save(options.state_path, state);
    test_pause("reserved");

    const auto started = std::chrono::steady_clock::now();
    std::cerr << "zkcredit: proving ticket " << index << " ..." << std::flush;
    libverify::Proof proof;
    bool finished = false;
    if (precomputed.ready()) {
        test_pause("proving");
        const Status f = precomputed.finish(x, input, proof);
        finished = f == Status::ok;
        if (!finished) {
            note(std::string("the precomputed proof failed (") + libverify::status_name(f) +
                 "); proving in full");
        }
    }
    const char* proof_kind = finished ? "precomputed" : "full";
    if (!finished) {
        Prover prover;
        std::vector<Fr> witness;
        std::vector<Fr> public_inputs;
        try {
            load_prover(options, prover);
            const Status w = prover.witness.compute(input, witness);
            if (w != Status::ok) {
                fail(ExitCode::prover, std::string("the witness generator refused the statement (") +
                                           libverify::status_name(w) + ")");
            }
            test_pause("proving");
            const Status p = zkclient::groth16_prove(prover.key, witness, proof, public_inputs);
            zkclient::wipe(witness);
            if (p != Status::ok) {
                fail(ExitCode::prover,
                     std::string("proving failed (") + libverify::status_name(p) + ")");
            }
        } catch (...) {
            std::cerr << std::endl;
            zkclient::wipe(witness);
            throw;
        }
    }
    const double proving_seconds = seconds_since(started);
    const libverify::Credential credential = zkclient::credential_of(input, nonce, proof);
    input.wipe();

    // A proof the gateway would refuse costs the ticket anyway; catching a
    // broken prover, key or precompute here says why.
    if (have_vk) {
        libverify::Deployment deployment;
        deployment.vk = &vk;
        deployment.scope = d.scope;
        deployment.c_max = d.c_max;
        const Status v = libverify::credential_verify(deployment, credential, x);
        if (v != Status::ok) {
            std::cerr << std::endl;
            fail(ExitCode::prover, std::string("the ") + proof_kind +
                                       " proof does not verify under " + options.vk_path + " (" +
                                       libverify::status_name(v) + ")");
        }
    }
    std::cerr << " " << proof_kind << ", " << format_seconds(seconds_since(started)) << std::endl;
    test_pause("proved");

    char encoded[libverify::kCredentialChars];
    libverify::credential_encode(credential, encoded);
    zkclient::HttpRequest request = http_request_of(options, url);
    request.headers.push_back(std::string(kCredentialHeader) + ": " +
                              std::string(encoded, sizeof encoded));
    request.on_sent = [] { test_pause("sent"); };

    state.ticket(index)->status = TicketStatus::sent;
    zkclient::state_save(options.state_path, state);
    const zkclient::HttpResponse response = zkclient::http_send(request);
    test_pause("answered");

    TicketRecord& ticket = *state.ticket(index);
    ticket.http_status = response.status;
    const std::string problem = problem_type(response);
    zkclient::Challenge challenge;
    ExitCode outcome = ExitCode::ok;
    std::string message;
    if (response.status == 402 && challenge_of(response, challenge)) {
        ticket.status = TicketStatus::refused;
        adopt_challenge(state, challenge, url.origin, "");
        outcome = ExitCode::refused;
        message = "the gateway refused the credential (" + problem +
                  "); if the deposit list changed, run zkcredit sync";
    } else if (response.status == 409 && problem == "ticket-spent") {
        ticket.status = TicketStatus::spent;
        outcome = ExitCode::ticket_spent;
        message = "the gateway reports ticket " + std::to_string(index) + " spent";
        // a ticket spent without being served comes back with its refund
        const auto vouchers = response.header_values(kRefundHeader);
        std::string error;
        if (vouchers.size() == 1 && !store_voucher(state, ticket, vouchers[0], error)) {
            message += "; " + error;
        }
    } else if (response.status == 503 && !problem.empty()) {
        // store-unavailable, overloaded or outcome-unknown: the ticket is never
        // proved again; a refund the gateway issues for it is fetched later
        outcome = ExitCode::unavailable;
        message = "the gateway could not settle the request (" + problem +
                  "); zkcredit refund --fetch recovers a refund later";
    } else {
        ticket.status = TicketStatus::served;
        const auto vouchers = response.header_values(kRefundHeader);
        std::string error;
        if (vouchers.size() == 1) {
            if (!store_voucher(state, ticket, vouchers[0], error)) {
                outcome = ExitCode::protocol;
                message = error;
            }
        } else {
            zkclient::state_save(options.state_path, state);
            try {
                if (fetch_voucher(state, ticket, options.timeout_seconds, error) ==
                    FetchResult::bad) {
                    note(error + " (zkcredit refund --fetch retries)");
                }
            } catch (const ClientError& e) {
                note(std::string(e.what()) + " (zkcredit refund --fetch retries)");
            }
        }
    }
    zkclient::state_save(options.state_path, state);
    start_background_precompute(options);

    if (options.json) {
        json out = {{"http_status", response.status},
                    {"ticket", index},
                    {"nullifier", zkclient::fr_to_hex(ticket.nullifier)},
                    {"ticket_status", zkclient::ticket_status_name(ticket.status)},
                    {"refund", ticket.has_voucher ? json(ticket.refund) : json(nullptr)},
                    {"refund_total", state.refund_total()},
                    {"proof", proof_kind},
                    {"proving_ms", proving_seconds * 1e3}};
        if (valid_utf8(response.body)) {
            out["body"] = response.body;
        } else {
            std::string b64(
                sodium_base64_encoded_len(response.body.size(), sodium_base64_VARIANT_ORIGINAL),
                '\0');
            sodium_bin2base64(b64.data(), b64.size(),
                              reinterpret_cast<const unsigned char*>(response.body.data()),
                              response.body.size(), sodium_base64_VARIANT_ORIGINAL);
            b64.pop_back();
            out["body_base64"] = b64;
        }
        print_json(out);
    } else {
        write_body(response.body);
    }
    if (outcome != ExitCode::ok) fail(outcome, message);
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
    require_synced(state);
    if (!state.deployment.known) {
        fail(ExitCode::state,
             "the deployment is not known yet (it comes with the gateway's first challenge; "
             "make a request first)");
    }
    require_solvent(state);
    libverify::VerifyingKey vk;
    if (!load_vk(options, vk)) {
        fail(ExitCode::prover, "cannot read the verification key " + options.vk_path +
                                   " (a precompute is bound to it)");
    }
    NextStatement next;
    assemble_next(state, Fr::zero(), Fr::zero(), next);
    Prover prover;
    load_prover(options, prover);
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
        NextStatement current;
        assemble_next(now, Fr::zero(), Fr::zero(), current);
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
    State state = zkclient::state_load(options.state_path);
    if (!state.deployment.known) fail(ExitCode::state, "no request was made yet");
    if (!options.refunds_url.empty()) {
        zkclient::url_parse(options.refunds_url);
        state.deployment.refunds_url = options.refunds_url;
        zkclient::state_save(options.state_path, state);
    }
    size_t remaining = 0;
    const size_t stored = recover_vouchers(state, options, false, options.json, &remaining);
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
    require_deposit(state);
    const Balance b = balance_of(state);
    if (options.json) {
        print_json(balance_json(b));
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
    if (!state.tree.synced || !state.deployment.known || !load_vk(options, vk)) {
        return "unavailable";
    }
    try {
        require_solvent(state);
        NextStatement next;
        assemble_next(state, Fr::zero(), Fr::zero(), next);
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
    out["balance"] = state.has_deposit ? balance_json(balance_of(state)) : json(nullptr);
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
    out["next_ticket"] = {{"index", state.next_ticket}, {"precomputed", next_proof}};
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
    if (state.has_deposit) print_balance_text(balance_of(state));
    std::cout << "next ticket    " << state.next_ticket << ", precomputed proof: " << next_proof
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
