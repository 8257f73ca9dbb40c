#pragma once
// Paying for requests with one identity's state (docs/client.md §4): the
// ticket machinery that `zkcredit request` and `zkcredit proxy` share.
// Learning the deployment from its challenge, reserving a ticket durably
// before anything about it leaves the process, proving (precomputed or in
// full), sending, reading the answer's fate and its voucher (header, SSE
// comment or the refund location), and what docs/protocol.md §10 allows
// after a failure: resending the byte-identical request after a 503, and
// proving the same ticket again after `root-not-accepted`, the one answer
// that proves the ticket unspent for good.
//
// The caller holds the StateLock for as long as a Wallet lives.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "libverify/groth16.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/error.hpp"
#include "zkclient/http.hpp"
#include "zkclient/sse.hpp"
#include "zkclient/state.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient {

constexpr char kCredentialHeader[] = "ZKCredit-Credential";
constexpr char kRefundHeader[] = "ZKCredit-Refund";

// The problem type of an application/problem+json answer from the gateway,
// without the URN prefix; empty for anything else.
std::string problem_type(const HttpResponse& response);

// The gateway's ZKCredit challenge among the WWW-Authenticate values.
bool challenge_of(const HttpResponse& response, Challenge& out);

// Whether a ticket may still have a voucher to fetch.
bool may_have_voucher(const TicketRecord& ticket);

struct Balance {
    uint64_t deposit = 0;
    uint64_t c_max = 0;
    uint32_t tickets_used = 0;
    uint64_t refund_total = 0;
    __int128 spendable = 0;
    uint64_t requests_left = 0;
    size_t unknown = 0;
    size_t missing_vouchers = 0;
    uint64_t expires_at = 0;  // 0: not known
    bool expires_soon = false;  // within kExpiryWarningSeconds
};

// How long before its expiry the client warns that a deposit must be
// withdrawn (docs/client.md §1.2).
constexpr uint64_t kExpiryWarningSeconds = 30 * 24 * 3600;
// The warning, when the deposit expires within kExpiryWarningSeconds of
// `now` (unix seconds); empty otherwise.
std::string expiry_warning(const State& state, uint64_t now);
Balance balance_of(const State& state);
std::string int128_to_string(__int128 value);
// The balance as `zkcredit balance --json` prints it (docs/client.md §1).
nlohmann::json balance_json(const Balance& balance);

// Refuses (ClientError) a state without a deposit, or without a synced tree.
void require_deposit(const State& state);
void require_synced(const State& state);
// Refuses (ClientError insufficient) a next ticket that the deposit and
// refunds do not cover.
void require_solvent(const State& state);
// Refuses (ClientError unavailable) to prove ticket `index` again unless no
// credential of it can have been spent: never sent (reserved) or refused
// (402). Any other ticket at the chain's head is one whose voucher is still
// missing, and a second request on it would reveal k. Refuses every ticket
// (ClientError insufficient) once a withdrawal has started.
void require_reusable(const State& state, uint32_t index);

// The verifying key that proofs are checked against before they leave,
// and whose fingerprint a precompute is bound to; false if unreadable.
bool load_verifying_key(const std::string& path, libverify::VerifyingKey& vk);

// Fetches the public leaves (URL or file), rebuilds the tree, checks the
// published root and finds the own leaf; records it in `state` (not saved).
// Returns whether the root changed. ClientError(tree) on any mismatch.
bool sync_tree(State& state, const std::string& leaves_location);

// The proving key and the witness generator (about a tenth of a second to
// load). ClientError(prover) when either cannot be read.
struct ProvingKeys {
    ProvingKey key;
    CreditWitnessGenerator witness;
};
void load_proving_keys(const std::string& zkey_path, const std::string& witness_dat_path,
                       ProvingKeys& out);

// The statement of one ticket. Not movable: params points at opening.
struct Statement {
    VoucherOpening opening;
    CreditParameters params;
    CreditInput input;
    uint32_t index = 0;
    uint64_t refund_total = 0;

    Statement() = default;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();
};

// The statement for ticket `index` with request x and salt_new: key, the
// voucher the request builds on (the state's head), tree, deployment.
// ClientError(state) on a malformed stored voucher or key.
void assemble_statement(const State& state, uint32_t index, const Fr& x, const Fr& salt_new,
                        Statement& out);

// Where the proving keys are, and how requests are paid.
struct PaymentSettings {
    std::string state_path;
    std::string zkey_path;
    std::string witness_dat_path;
    std::string vk_path;
    bool use_precompute = true;
    long timeout_seconds = 300;
    // Refund location when the deployment is first learnt; empty: the
    // default <origin>/zkcredit/refunds/.
    std::string refunds_url;
    // How often a 503 problem answer is followed by the byte-identical
    // request again (rule 2 of §10), after its Retry-After (at most
    // max_retry_wait_seconds).
    unsigned resend_limit = 0;
    unsigned max_retry_wait_seconds = 2;
    // After `402 root-not-accepted`: sync from the state's leaves source and
    // prove the same ticket again (rule 4 of §10).
    bool resync_on_stale_root = false;
};

// What the payment tells its caller along the way. Both optional.
struct PaymentHooks {
    // A test point of docs/client.md §7 is reached (reserved, proving,
    // proved, sent, answered, and streaming at the first body byte).
    std::function<void(const char* point)> pause;
    // A one-line note for the user (never a secret, credential or voucher).
    std::function<void(const std::string& message)> note;
};

struct PaymentResult {
    // The answer as the caller received it; its body is empty when streamed.
    HttpResponse response;
    bool paid = false;  // false: the deployment answered without asking for a credential
    uint32_t ticket = 0;
    TicketStatus ticket_status = TicketStatus::reserved;
    bool has_refund = false;
    uint64_t refund = 0;
    const char* proof_kind = "none";  // "precomputed" or "full" once proved
    double proving_seconds = 0;
    unsigned resends = 0;  // identical copies sent after a 503
    bool reproved = false;  // the ticket was proved again after a stale root
    // ok, or the exit code and message that `zkcredit request` reports.
    ExitCode outcome = ExitCode::ok;
    std::string message;
};

class Wallet {
public:
    // Loads the state (the caller holds its lock).
    Wallet(PaymentSettings settings, PaymentHooks hooks);
    ~Wallet();
    Wallet(const Wallet&) = delete;
    Wallet& operator=(const Wallet&) = delete;

    const State& state() const noexcept { return state_; }
    const PaymentSettings& settings() const noexcept { return settings_; }

    // Pays for `request` (its headers must not carry a credential) with the
    // next ticket. Without `stream` the body is collected in the result as
    // the gateway sent it. With it, the answer that ends the payment, and
    // only that one, is streamed: status and headers as the gateway sent
    // them, the body without zkcredit's refund comment line, then on_end
    // before the state is written. A 402 or 503 that is followed
    // by another attempt never reaches it. Throws ClientError when no answer
    // came (the ticket stays `sent`, its voucher is fetched later) or the
    // payment could not start (no credit, no keys, the state).
    PaymentResult pay(const HttpRequest& request, const HttpStream* stream = nullptr);

    // Asks the refund location for the vouchers of tickets without one
    // (only those whose answer was lost, with only_unknown); saves after
    // each. Returns how many were stored.
    size_t recover_vouchers(bool only_unknown, bool quiet, size_t* remaining = nullptr);

    // Writes the state back (after changing it through mutable_state).
    void save();
    State& mutable_state() noexcept { return state_; }

private:
    void note(const std::string& message) const;
    void pause(const char* point) const;
    void settle_answer(TicketRecord& ticket, const HttpResponse& response,
                       const Challenge* refusal, const std::optional<std::string>& stream_voucher,
                       const std::string& origin, PaymentResult& result);
    void resend_unanswered(TicketRecord& ticket);

    PaymentSettings settings_;
    PaymentHooks hooks_;
    State state_;
    std::unique_ptr<ProvingKeys> prover_;  // loaded at the first full proof, kept
    std::unique_ptr<libverify::VerifyingKey> vk_;  // loaded at the first payment, kept
};

}  // namespace zkclient
