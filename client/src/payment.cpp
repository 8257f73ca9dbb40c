#include "zkclient/payment.hpp"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <sodium.h>
#include <nlohmann/json.hpp>

#include "libverify/groth16.hpp"
#include "libverify/protocol.hpp"
#include "zkclient/error.hpp"
#include "zkclient/merkle.hpp"
#include "zkclient/precompute.hpp"
#include "zkclient/prover.hpp"
#include "zkclient/receipts.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient {

using nlohmann::json;

namespace {

constexpr char kProblemPrefix[] = "urn:zkcredit:problem:";

[[noreturn]] void fail(ExitCode code, const std::string& message) {
    throw ClientError(code, message);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool is_event_stream(const HttpResponse& response) {
    const auto types = response.header_values("Content-Type");
    return types.size() == 1 && types[0].rfind("text/event-stream", 0) == 0;
}

bool is_problem(const HttpResponse& response) {
    const auto types = response.header_values("Content-Type");
    return types.size() == 1 && types[0].rfind("application/problem+json", 0) == 0;
}

// Records a deployment from its challenge. The state belongs to one
// deployment: a different scope is refused; a new signing key is added to
// the keys that vouchers may name.
void adopt_challenge(State& state, const Challenge& challenge, const std::string& origin,
                     const std::string& refunds_url,
                     const std::function<void(const std::string&)>& note) {
    DeploymentInfo& d = state.deployment;
    const std::string key = key_to_hex(challenge.key_packed);
    if (d.known && !(d.scope == challenge.scope)) {
        fail(ExitCode::protocol, "the gateway's scope " + fr_to_dec(challenge.scope) +
                                     " is not this state's scope " + fr_to_dec(d.scope) +
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
        if (key_from_hex(candidate, packed, point) != Status::ok) continue;
        if (libverify::server_key_hash(point) == refund.key_hash) {
            key_hex = candidate;
            key = point;
            return true;
        }
    }
    return false;
}

// Checks a voucher for `ticket` and stores it there; a message on failure.
bool store_voucher(const State& state, TicketRecord& ticket, const std::string& value,
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
    const Status status = voucher_accept(value, key, state.deployment.scope, ticket.c_new, refund);
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
FetchResult fetch_voucher(const State& state, TicketRecord& ticket, long timeout,
                          std::string& error) {
    HttpRequest request;
    request.url = url_parse(state.deployment.refunds_url + fr_to_hex(ticket.nullifier));
    request.timeout_seconds = timeout;
    const HttpResponse response = http_send(request);
    if (response.status == 404) return FetchResult::none;
    const auto values = response.header_values(kRefundHeader);
    if (response.status != 200 || values.size() != 1) {
        error = "refund location answered HTTP " + std::to_string(response.status);
        return FetchResult::bad;
    }
    return store_voucher(state, ticket, values[0], error) ? FetchResult::stored : FetchResult::bad;
}

std::string read_text_file(const std::string& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    ok = static_cast<bool>(in);
    std::ostringstream text;
    if (ok) text << in.rdbuf();
    return text.str();
}

unsigned retry_after_seconds(const HttpResponse& response, unsigned cap) {
    const auto values = response.header_values("Retry-After");
    unsigned seconds = 1;
    if (values.size() == 1 && !values[0].empty() && values[0].size() < 6 &&
        values[0].find_first_not_of("0123456789") == std::string::npos) {
        seconds = static_cast<unsigned>(std::stoul(values[0]));
    }
    return seconds < cap ? seconds : cap;
}

}  // namespace

// The statement for ticket `index` with request x and salt_new: key,
// voucher the request builds on, tree, deployment.
void assemble_statement(const State& state, uint32_t index, const Fr& x, const Fr& salt_new,
                        Statement& out) {
    const DeploymentInfo& d = state.deployment;
    const TicketRecord* head = state.head();
    out.index = index;
    out.refund_total = state.refund_total();
    CreditParameters& params = out.params;
    std::array<uint8_t, libverify::kBabyJubPackedBytes> packed;
    params.voucher = nullptr;
    if (head != nullptr) {
        if (libverify::refund_decode(head->voucher, out.opening.voucher) != Status::ok ||
            key_from_hex(head->voucher_key, packed, out.opening.key) != Status::ok) {
            fail(ExitCode::state,
                 "the stored voucher of ticket " + std::to_string(head->index) + " is malformed");
        }
        out.opening.refund_total_prev = head->refund_total;
        out.opening.salt_prev = head->salt;
        params.voucher = &out.opening;
        params.key = out.opening.key;
    } else if (key_from_hex(d.key, packed, params.key) != Status::ok) {
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
    const Status assembled = credit_input_assemble(params, out.input);
    if (assembled != Status::ok) {
        fail(ExitCode::state,
             std::string("cannot assemble the statement: ") + libverify::status_name(assembled));
    }
}

Statement::~Statement() {
    input.wipe();
    sodium_memzero(&params.k, sizeof params.k);
    sodium_memzero(&params.salt_new, sizeof params.salt_new);
}

void load_proving_keys(const std::string& zkey_path, const std::string& witness_dat_path,
                       ProvingKeys& out) {
    Status s = ProvingKey::from_file(zkey_path, out.key);
    if (s != Status::ok) {
        fail(ExitCode::prover, "cannot load the proving key " + zkey_path + " (" +
                                   libverify::status_name(s) + ")");
    }
    s = CreditWitnessGenerator::load(witness_dat_path, out.witness);
    if (s != Status::ok) {
        fail(ExitCode::prover, "cannot load the witness generator data " + witness_dat_path +
                                   " (" + libverify::status_name(s) + ")");
    }
}

std::string problem_type(const HttpResponse& response) {
    if (!is_problem(response)) return "";
    try {
        const json body = json::parse(response.body);
        const std::string type = body.value("type", "");
        if (type.rfind(kProblemPrefix, 0) != 0) return "";
        return type.substr(std::strlen(kProblemPrefix));
    } catch (const json::exception&) {
        return "";
    }
}

bool challenge_of(const HttpResponse& response, Challenge& out) {
    for (const std::string& value : response.header_values("WWW-Authenticate")) {
        if (challenge_parse(value, out) == Status::ok) return true;
    }
    return false;
}

void forget_pending_request(TicketRecord& ticket) {
    if (!ticket.has_pending_request) return;
    ticket.has_pending_request = false;
    sodium_memzero(ticket.request_body.data(), ticket.request_body.size());
    ticket.request_body.clear();
    ticket.request_headers.clear();
    ticket.credential.clear();
}

bool may_have_voucher(const TicketRecord& t) {
    return !t.has_voucher && (t.status == TicketStatus::sent || t.status == TicketStatus::served ||
                              t.status == TicketStatus::spent);
}

Balance balance_of(const State& state) {
    Balance b;
    b.deposit = state.deposit;
    b.c_max = state.deployment.known ? state.deployment.c_max : 0;
    b.tickets_used = state.chain_ticket();
    b.expires_at = state.expires_at;
    b.expires_soon = !expiry_warning(state, static_cast<uint64_t>(std::time(nullptr))).empty();
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

std::string expiry_warning(const State& state, uint64_t now) {
    if (state.expires_at == 0 || now + kExpiryWarningSeconds < state.expires_at) return "";
    const std::string when = "unix time " + std::to_string(state.expires_at);
    if (now >= state.expires_at) {
        return "the deposit expired at " + when +
               ": the provider may claim it (claimExpired); it can no longer be withdrawn";
    }
    return "the deposit expires at " + when + ", in " +
           std::to_string((state.expires_at - now) / 86400) +
           " day(s): withdraw before then (zkcredit withdraw), or what is left goes to the "
           "provider";
}

json balance_json(const Balance& b) {
    return {{"deposit", b.deposit},
            {"expires_at", b.expires_at == 0 ? json(nullptr) : json(b.expires_at)},
            {"expires_soon", b.expires_soon},
            {"c_max", b.c_max},
            {"tickets_used", b.tickets_used},
            {"refund_total", b.refund_total},
            {"spendable", json::parse(int128_to_string(b.spendable))},
            {"requests_left", b.requests_left},
            {"tickets_unknown", b.unknown},
            {"vouchers_missing", b.missing_vouchers}};
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

void require_solvent(const State& state) {
    const DeploymentInfo& d = state.deployment;
    const uint32_t index = state.chain_ticket();
    const uint64_t refund_total = state.refund_total();
    if (index == UINT32_MAX) fail(ExitCode::insufficient, "every ticket of this identity is used");
    if (!solvent(index, d.c_max, state.deposit, refund_total)) {
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

void require_reusable(const State& state, uint32_t index) {
    if (state.withdrawal.started) {
        fail(ExitCode::insufficient,
             "the deposit is being withdrawn (ticket " + std::to_string(state.withdrawal.tickets) +
                 " is the withdrawal's): a request now would reveal the secret and forfeit the "
                 "deposit");
    }
    const TicketRecord* record = state.ticket(index);
    if (record == nullptr || record->status == TicketStatus::reserved ||
        record->status == TicketStatus::refused) {
        return;
    }
    fail(ExitCode::unavailable,
         "ticket " + std::to_string(index) + " was sent and its voucher has not come back (" +
             ticket_status_name(record->status) +
             "); the next request needs it, and proving the ticket for another request would "
             "reveal the secret: try again later (the same request is sent again first), or "
             "zkcredit refund --fetch");
}

bool sync_tree(State& state, const std::string& leaves_location) {
    const std::string text = fetch_document(leaves_location, nullptr);
    uint32_t depth = 0;
    std::vector<Fr> leaves;
    Fr published_root;
    try {
        const json doc = json::parse(text);
        depth = doc.at("depth").get<uint32_t>();
        const std::string root_hex = doc.at("root").get<std::string>();
        if (fr_from_hex(root_hex, published_root) != Status::ok) {
            fail(ExitCode::tree, "the leaves list has a malformed root");
        }
        const json& list = doc.at("leaves");
        if (!list.is_array()) fail(ExitCode::tree, "the leaves list has no array of leaves");
        leaves.reserve(list.size());
        for (const json& entry : list) {
            Fr leaf;
            if (!entry.is_string() || fr_from_hex(entry.get<std::string>(), leaf) != Status::ok) {
                fail(ExitCode::tree, "the leaves list has a malformed leaf");
            }
            leaves.push_back(leaf);
        }
    } catch (const json::exception& e) {
        fail(ExitCode::tree, std::string("malformed leaves list: ") + e.what());
    }
    if (depth != kCreditTreeDepth) {
        fail(ExitCode::tree, "the leaves list is for a tree of depth " + std::to_string(depth) +
                                 "; the credit circuit needs " + std::to_string(kCreditTreeDepth));
    }
    const Fr own = leaf_of(state.k, state.deposit);
    size_t index = leaves.size();
    for (size_t i = 0; i < leaves.size(); ++i) {
        if (leaves[i] == own) {
            index = i;
            break;
        }
    }
    Fr root;
    MerklePath path;
    const Status s =
        merkle_root_and_path(depth, leaves, index < leaves.size() ? index : 0, root, path);
    if (s != Status::ok)
        fail(ExitCode::tree, std::string("cannot build the tree: ") + libverify::status_name(s));
    if (!(root == published_root)) {
        fail(ExitCode::tree, "the published root does not match the leaves (expected " +
                                 fr_to_hex(root) + ")");
    }
    if (index == leaves.size()) {
        fail(ExitCode::tree, "the own leaf " + fr_to_hex(own) + " is not among the " +
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
    state.tree.source = leaves_location;
    return changed;
}

Wallet::Wallet(PaymentSettings settings, PaymentHooks hooks)
    : settings_(std::move(settings)), hooks_(std::move(hooks)),
      state_(state_load(settings_.state_path)) {}

Wallet::~Wallet() = default;

void Wallet::note(const std::string& message) const {
    if (hooks_.note) hooks_.note(message);
}

void Wallet::pause(const char* point) const {
    if (hooks_.pause) hooks_.pause(point);
}

void Wallet::save() { state_save(settings_.state_path, state_); }

size_t Wallet::recover_vouchers(bool only_unknown, bool quiet, size_t* remaining) {
    size_t stored = 0, left = 0;
    for (TicketRecord& t : state_.tickets) {
        if (!may_have_voucher(t) || (only_unknown && t.status != TicketStatus::sent)) continue;
        std::string error;
        FetchResult result;
        try {
            result = fetch_voucher(state_, t, settings_.timeout_seconds, error);
        } catch (const ClientError& e) {
            if (!quiet)
                note(std::string("refund for ticket ") + std::to_string(t.index) + ": " + e.what());
            ++left;
            continue;
        }
        if (result == FetchResult::stored) {
            // A voucher exists only for a request the gateway served (or
            // refunded): the ticket is settled, its request no longer kept.
            if (t.status == TicketStatus::sent) t.status = TicketStatus::served;
            forget_pending_request(t);
            save();
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

// Records what an answer says of its ticket (docs/protocol.md §10): refused,
// spent (with its voucher when one came), still unknown (a 503: the ticket
// stays `sent`), or served (with its voucher, fetched when the answer had
// none, and a policy receipt). An answer other than a 503 settles the
// ticket, and the request kept for sending it again is dropped.
void Wallet::settle_answer(TicketRecord& ticket, const HttpResponse& response,
                           const Challenge* refusal,
                           const std::optional<std::string>& stream_voucher,
                           const std::string& origin, PaymentResult& result) {
    const std::string problem = problem_type(response);
    if (refusal != nullptr) {
        ticket.status = TicketStatus::refused;
        adopt_challenge(state_, *refusal, origin, "",
                        [this](const std::string& m) { note(m); });
        result.outcome = ExitCode::refused;
        result.message = "the gateway refused the credential (" + problem +
                         "); if the deposit list changed, run zkcredit sync";
    } else if (response.status == 409 && problem == "ticket-spent") {
        ticket.status = TicketStatus::spent;
        result.outcome = ExitCode::ticket_spent;
        result.message = "the gateway reports ticket " + std::to_string(ticket.index) + " spent";
        // a ticket spent without being served comes back with its refund
        const auto vouchers = response.header_values(kRefundHeader);
        std::string error;
        if (vouchers.size() == 1 && !store_voucher(state_, ticket, vouchers[0], error)) {
            result.message += "; " + error;
        }
    } else if (response.status == 503 && !problem.empty()) {
        // store-unavailable, overloaded or outcome-unknown: the ticket is
        // never proved again; the same request goes again before the next
        // one, and a refund the gateway issues for it is fetched
        result.outcome = ExitCode::unavailable;
        result.message = "the gateway could not settle the request (" + problem +
                         "); zkcredit refund --fetch recovers a refund later";
    } else {
        ticket.status = TicketStatus::served;
        const auto receipts = response.header_values(kPolicyReceiptHeader);
        if (receipts.size() == 1) {
            std::string error;
            note(keep_policy_receipt(state_, ticket, receipts[0], error)
                     ? "refused by the provider's policy: C_max is kept, to be burned; "
                       "its receipt is stored (zkcredit receipts)"
                     : error);
        }
        auto vouchers = response.header_values(kRefundHeader);
        if (vouchers.empty() && stream_voucher) vouchers.push_back(*stream_voucher);
        std::string error;
        if (vouchers.size() == 1) {
            if (!store_voucher(state_, ticket, vouchers[0], error)) {
                result.outcome = ExitCode::protocol;
                result.message = error;
            }
        } else {
            save();
            try {
                if (fetch_voucher(state_, ticket, settings_.timeout_seconds, error) ==
                    FetchResult::bad) {
                    note(error + " (zkcredit refund --fetch retries)");
                }
            } catch (const ClientError& e) {
                note(std::string(e.what()) + " (zkcredit refund --fetch retries)");
            }
        }
    }
    if (!(response.status == 503 && !problem.empty())) forget_pending_request(ticket);
}

// The chain's ticket went out and no answer settled it (the connection
// failed, or a 503 each time): the byte-identical request again (§10 rule
// 2: the same x can never reveal k), answered to nobody, so that the ticket
// gets its voucher, is found spent, or is refused and may be proved again.
void Wallet::resend_unanswered(TicketRecord& ticket) {
    note("ticket " + std::to_string(ticket.index) +
         " was sent and never answered; sending the same request again");
    HttpRequest request;
    request.method = ticket.method;
    request.url = url_parse(ticket.url);
    request.headers = ticket.request_headers;
    request.headers.push_back(std::string(kCredentialHeader) + ": " + ticket.credential);
    request.has_body = ticket.request_has_body;
    request.body = ticket.request_body;
    request.timeout_seconds = settings_.timeout_seconds;
    HttpResponse response = http_send(request);
    SseRefundFilter filter;
    if (is_event_stream(response)) {
        filter.feed(response.body);
        filter.finish();
    }
    ticket.http_status = response.status;
    Challenge challenge;
    const bool refused = response.status == 402 && challenge_of(response, challenge);
    PaymentResult ignored;
    settle_answer(ticket, response, refused ? &challenge : nullptr, filter.voucher(),
                  request.url.origin, ignored);
    save();
}

PaymentResult Wallet::pay(const HttpRequest& original, const HttpStream* stream) {
    const Url& url = original.url;
    require_synced(state_);
    PaymentResult result;

    // Learn the deployment from the gateway's challenge the first time.
    if (!state_.deployment.known) {
        note("asking " + url.origin + " for its parameters");
        HttpResponse probe = http_send(original);
        Challenge challenge;
        if (probe.status != 402 || !challenge_of(probe, challenge)) {
            note("answered HTTP " + std::to_string(probe.status) +
                 " without asking for a credential; nothing was paid");
            if (stream != nullptr) {
                if (stream->on_head) stream->on_head(probe);
                if (stream->on_body && !probe.body.empty()) stream->on_body(probe.body);
                if (stream->on_end) stream->on_end();
                probe.body.clear();
            }
            result.response = std::move(probe);
            return result;
        }
        adopt_challenge(state_, challenge, url.origin, settings_.refunds_url,
                        [this](const std::string& m) { note(m); });
        save();
    }

    // Tickets whose answer was lost may hold the newest refund.
    bool unknown = false;
    for (const TicketRecord& t : state_.tickets)
        unknown = unknown || (may_have_voucher(t) && t.status == TicketStatus::sent);
    if (unknown) recover_vouchers(true, true);

    if (TicketRecord* pending = state_.ticket(state_.chain_ticket());
        pending != nullptr && pending->status == TicketStatus::sent && !pending->has_voucher &&
        pending->has_pending_request) {
        resend_unanswered(*pending);
    }
    require_solvent(state_);
    if (const std::string warning =
            expiry_warning(state_, static_cast<uint64_t>(std::time(nullptr)));
        !warning.empty()) {
        note(warning);
    }
    const uint32_t index = state_.chain_ticket();
    require_reusable(state_, index);
    result.paid = true;
    result.ticket = index;

    // The precomputed proof for exactly this statement, if there is one: it
    // leaves its file (durably) now, whether or not the request goes on.
    if (!vk_) {
        auto loaded = std::make_unique<libverify::VerifyingKey>();
        if (load_verifying_key(settings_.vk_path, *loaded)) vk_ = std::move(loaded);
    }
    const bool have_vk = vk_ != nullptr;
    LockedPrecompute precomputed;
    if (have_vk && settings_.use_precompute) {
        Statement unbound;
        assemble_statement(state_, index, Fr::zero(), Fr::zero(), unbound);
        const PrecomputeFile found = precompute_take(
            precompute_path(settings_.state_path),
            statement_binding(unbound.input, key_fingerprint(*vk_)), index, precomputed);
        if (found == PrecomputeFile::stale || found == PrecomputeFile::corrupt) {
            note(std::string("discarded a ") + precompute_file_name(found) + " precomputed proof");
        }
    }

    // Ticket `index` is taken, durably, before anything about it leaves
    // this process (docs/protocol.md section 10). Its record is filled by
    // the first proof below; a proof again after a stale root replaces it.
    {
        TicketRecord record;
        record.index = index;
        record.method = original.method;
        record.url = url.origin + url.target;
        if (TicketRecord* earlier = state_.ticket(index)) {
            *earlier = record;
        } else {
            state_.tickets.push_back(record);
        }
    }
    if (state_.next_ticket <= index) state_.next_ticket = index + 1;
    bool reserved = false;

    for (;;) {
        // The statement: key, voucher, fresh nonce and salt, x over the exact request.
        uint8_t nonce[libverify::kNonceBytes];
        random_nonce(nonce);
        Fr x;
        if (request_binding(original.method, url.target, original.body, nonce, x) != Status::ok) {
            fail(ExitCode::usage, "the method or target is too long");
        }
        Statement next;
        assemble_statement(state_, index, x,
                           precomputed.ready() ? precomputed.get().salt_new
                                               : random_field_element(),
                           next);
        CreditInput& input = next.input;
        TicketRecord& record = *state_.ticket(index);
        record.nullifier = input.nullifier;
        record.c_new = input.c_new;
        record.refund_total = next.refund_total;
        record.salt = next.params.salt_new;
        record.status = TicketStatus::reserved;
        save();
        if (!reserved) pause("reserved");
        reserved = true;

        const auto started = std::chrono::steady_clock::now();
        note("proving ticket " + std::to_string(index) + " ...");
        libverify::Proof proof;
        bool finished = false;
        if (precomputed.ready()) {
            pause("proving");
            const Status f = precomputed.finish(x, input, proof);
            finished = f == Status::ok;
            if (!finished) {
                note(std::string("the precomputed proof failed (") + libverify::status_name(f) +
                     "); proving in full");
            }
        }
        result.proof_kind = finished ? "precomputed" : "full";
        if (!finished) {
            if (!prover_) {
                auto loaded = std::make_unique<ProvingKeys>();
                load_proving_keys(settings_.zkey_path, settings_.witness_dat_path, *loaded);
                prover_ = std::move(loaded);
            }
            std::vector<Fr> witness;
            std::vector<Fr> public_inputs;
            try {
                const Status w = prover_->witness.compute(input, witness);
                if (w != Status::ok) {
                    fail(ExitCode::prover,
                         std::string("the witness generator refused the statement (") +
                             libverify::status_name(w) + ")");
                }
                pause("proving");
                const Status p = groth16_prove(prover_->key, witness, proof, public_inputs);
                wipe(witness);
                if (p != Status::ok) {
                    fail(ExitCode::prover,
                         std::string("proving failed (") + libverify::status_name(p) + ")");
                }
            } catch (...) {
                wipe(witness);
                throw;
            }
        }
        const libverify::Credential credential = credential_of(input, nonce, proof);
        input.wipe();

        // A proof the gateway would refuse costs the ticket anyway; catching
        // a broken prover, key or precompute here says why.
        if (have_vk) {
            libverify::Deployment deployment;
            deployment.vk = vk_.get();
            deployment.scope = state_.deployment.scope;
            deployment.c_max = state_.deployment.c_max;
            const Status v = libverify::credential_verify(deployment, credential, x);
            if (v != Status::ok) {
                fail(ExitCode::prover, std::string("the ") + result.proof_kind +
                                           " proof does not verify under " + settings_.vk_path +
                                           " (" + libverify::status_name(v) + ")");
            }
        }
        result.proving_seconds = seconds_since(started);
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.2f s", result.proving_seconds);
        note(std::string("proved ticket ") + std::to_string(index) + ": " + result.proof_kind +
             ", " + seconds);
        pause("proved");

        char encoded[libverify::kCredentialChars];
        libverify::credential_encode(credential, encoded);
        const std::string credential_value(encoded, sizeof encoded);
        HttpRequest request = original;
        request.headers.push_back(std::string(kCredentialHeader) + ": " + credential_value);
        request.on_sent = [this] { pause("sent"); };

        {
            // Kept until an answer settles the ticket: the request may never
            // have arrived, and only the same bytes can settle it then.
            TicketRecord& sent = *state_.ticket(index);
            sent.status = TicketStatus::sent;
            sent.has_pending_request = true;
            sent.credential = credential_value;
            sent.request_headers = original.headers;
            sent.request_has_body = original.has_body;
            sent.request_body = original.body;
        }
        save();

        // Sends the byte-identical request until an answer other than a 503
        // problem comes, or the resends are used up. Problem answers are
        // held back (they are small) until it is known that they end the
        // payment; anything else streams to the caller at once.
        HttpResponse response;
        SseRefundFilter filter;
        bool event_stream = false, streaming = false, paused_streaming = false;
        HttpStream gate;
        gate.on_head = [&](const HttpResponse& head) {
            streaming = stream != nullptr && !is_problem(head);
            event_stream = is_event_stream(head);
            if (streaming && stream->on_head) stream->on_head(head);
        };
        gate.on_body = [&](std::string_view piece) {
            if (!paused_streaming) {
                paused_streaming = true;
                pause("streaming");
            }
            if (!streaming) {
                response.body.append(piece);
                return;
            }
            const std::string out = event_stream ? filter.feed(piece) : std::string(piece);
            if (!out.empty() && stream->on_body) stream->on_body(out);
        };
        for (unsigned attempt = 0;; ++attempt) {
            response = HttpResponse{};
            filter = SseRefundFilter{};
            paused_streaming = false;
            if (stream == nullptr) {
                // A collected answer is kept whole, as `zkcredit request`
                // prints it; the filter only reads its voucher.
                response = http_send(request);
                if (is_event_stream(response)) {
                    filter.feed(response.body);
                    filter.finish();
                }
            } else {
                HttpResponse head = http_send(request, gate);
                head.body = std::move(response.body);  // a held problem answer
                response = std::move(head);
                if (streaming && event_stream) {
                    const std::string rest = filter.finish();
                    if (!rest.empty() && stream->on_body) stream->on_body(rest);
                }
            }
            if (response.status != 503 || problem_type(response).empty() ||
                attempt >= settings_.resend_limit) {
                break;
            }
            const unsigned wait = retry_after_seconds(response, settings_.max_retry_wait_seconds);
            note("the gateway answered 503 " + problem_type(response) + "; sending the same request again in " +
                 std::to_string(wait) + " s");
            std::this_thread::sleep_for(std::chrono::seconds(wait));
            ++result.resends;
        }
        pause("answered");

        TicketRecord& ticket = *state_.ticket(index);
        ticket.http_status = response.status;
        const std::string problem = problem_type(response);
        Challenge challenge;
        result.outcome = ExitCode::ok;
        result.message.clear();
        const bool refused = response.status == 402 && challenge_of(response, challenge);
        // Only root-not-accepted proves that no share of the ticket exists
        // or ever will (§10 rule 4): then, once, sync and prove the same
        // ticket again with a fresh nonce.
        if (refused && problem == "root-not-accepted" && settings_.resync_on_stale_root &&
            !result.reproved && !state_.tree.source.empty()) {
            ticket.status = TicketStatus::refused;
            save();
            bool changed = false;
            try {
                changed = sync_tree(state_, state_.tree.source);
            } catch (const ClientError& e) {
                note(std::string("sync after a stale root failed: ") + e.what());
            }
            if (changed) {
                note("the gateway no longer accepts the root; synced, proving ticket " +
                     std::to_string(index) + " again");
                result.reproved = true;
                precomputed.clear();
                continue;
            }
        }

        // This answer ends the payment: the caller has all of it before the
        // state is written (the write still comes before the next ticket).
        if (stream != nullptr) {
            if (!streaming) {  // a problem answer, held until now
                if (stream->on_head) stream->on_head(response);
                if (stream->on_body && !response.body.empty()) stream->on_body(response.body);
            }
            if (stream->on_end) stream->on_end();
        }

        settle_answer(ticket, response, refused ? &challenge : nullptr, filter.voucher(),
                      url.origin, result);
        save();
        result.ticket_status = ticket.status;
        result.has_refund = ticket.has_voucher;
        result.refund = ticket.refund;
        result.response = std::move(response);
        if (streaming) result.response.body.clear();
        return result;
    }
}

bool load_verifying_key(const std::string& path, libverify::VerifyingKey& vk) {
    bool have_vk = false;
    const std::string vk_text = read_text_file(path, have_vk);
    return have_vk && libverify::VerifyingKey::from_json(vk_text, vk) == Status::ok;
}

}  // namespace zkclient
