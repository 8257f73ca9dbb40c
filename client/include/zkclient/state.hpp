#pragma once
// The client's state: one identity in one deployment. A JSON file (format
// in docs/client.md) created with mode 0600, replaced atomically on every
// change (temporary file, fsync, rename, fsync of the directory) and
// guarded by an flock on FILE.lock for the whole of a command.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libverify/field.hpp"

namespace zkclient {

using libverify::Fr;

constexpr int kStateVersion = 1;

// What is known of a ticket's request. Only `reserved` is known never to
// have left the machine; no ticket is ever used for a second request,
// whatever its status.
enum class TicketStatus {
    reserved,  // the index is taken and persisted; the request was not sent
    sent,      // the request may have reached the gateway; its fate is unknown
    served,    // the gateway accepted the credential and answered
    refused,   // the gateway refused the credential (402)
    spent,     // the gateway answered that the nullifier was spent (409)
};

const char* ticket_status_name(TicketStatus status) noexcept;

struct TicketRecord {
    uint32_t index = 0;
    Fr nullifier;
    // The commitment sent with the request and its opening:
    // c_new = H(k, refund_total, salt).
    Fr c_new;
    uint64_t refund_total = 0;
    Fr salt;
    TicketStatus status = TicketStatus::reserved;
    long http_status = 0;  // 0 until an answer arrived
    std::string method;
    std::string url;
    bool has_voucher = false;  // a verified voucher on c_new is stored
    std::string voucher;       // ZKCredit-Refund value
    uint64_t refund = 0;
    std::string voucher_key;  // packed key (hex) that signed it
    // The request was refused by policy: the gateway's receipt for the
    // C_max it kept (ZKCredit-Policy-Receipt), which lets anyone burn that
    // amount (docs/protocol.md §9.1); empty otherwise.
    std::string policy_receipt;
    // While the ticket is `sent` without an answer: what is needed to send
    // the byte-identical request again (docs/protocol.md §10 rule 2), the
    // only way to settle a ticket whose request may never have arrived.
    // Cleared once an answer settles it (the body may be a prompt).
    bool has_pending_request = false;
    std::string credential;  // the ZKCredit-Credential value sent
    std::vector<std::string> request_headers;
    bool request_has_body = false;
    std::string request_body;
};

struct DeploymentInfo {
    bool known = false;
    std::string realm;
    Fr scope;
    uint64_t c_max = 0;
    std::string key;                // current signing key from the challenge (packed, hex)
    std::vector<std::string> keys;  // every key seen, to check older vouchers
    std::string origin;             // scheme://authority of the gateway
    std::string refunds_url;        // prefix to which the nullifier hex is appended
};

struct TreeInfo {
    bool synced = false;
    uint32_t depth = 0;
    Fr root;
    uint64_t leaf_index = 0;
    uint64_t leaf_count = 0;
    std::vector<Fr> path;  // siblings, leaf level first; indices are leaf_index's bits
    std::string source;
};

// A withdrawal of the deposit (docs/protocol.md §3.2), recorded before its
// proof leaves: from then on no request may be made, since its ticket would
// be the withdrawal's (two shares of one ticket reveal k).
struct WithdrawalRecord {
    bool started = false;
    std::string recipient;    // 0x-hex address
    uint32_t tickets = 0;     // the chain's ticket count the withdrawal proves
    std::string transaction;  // requestWithdrawal's, once mined
    uint64_t deadline = 0;    // end of the challenge window, unix seconds (0: not mined)
    bool finalized = false;
};

struct State {
    Fr k;  // the secret
    bool has_deposit = false;
    uint64_t deposit = 0;
    // When the deposit contract lets the provider claim the deposit
    // (depositedAt + depositLifetime, unix seconds); 0 when not known.
    uint64_t expires_at = 0;
    DeploymentInfo deployment;
    TreeInfo tree;
    uint32_t next_ticket = 0;  // above every ticket ever reserved; persisted before one is used
    std::vector<TicketRecord> tickets;
    WithdrawalRecord withdrawal;

    // The voucher the next request builds on: the one of the newest ticket
    // that has one; nullptr at genesis. Its commitment names the only ticket
    // the next request may use (section 5.3): chain_ticket().
    const TicketRecord* head() const noexcept;
    // The ticket the chain allows next: the head's index + 1, or 0.
    uint32_t chain_ticket() const noexcept;
    // R for the next request: the head's total plus its refund, or 0.
    uint64_t refund_total() const noexcept;
    TicketRecord* ticket(uint32_t index) noexcept;
    const TicketRecord* ticket(uint32_t index) const noexcept;
};

// Standard base64 with padding (RFC 4648 section 4), as the state file and
// `zkcredit request --json` carry bytes; decoding refuses anything else.
std::string base64_encode(std::string_view bytes);
bool base64_decode(std::string_view text, std::string& out);

std::string state_to_json(const State& state);
// Throws ClientError(state) on anything malformed.
State state_from_json(const std::string& text);

// An exclusive flock on `state_path + ".lock"`, held until destruction.
// Throws ClientError(locked) when another process holds it and `wait` is
// false, ClientError(state) when the lock file cannot be opened.
class StateLock {
public:
    StateLock(const std::string& state_path, bool wait);
    ~StateLock();
    StateLock(const StateLock&) = delete;
    StateLock& operator=(const StateLock&) = delete;

private:
    int fd_ = -1;
};

bool state_exists(const std::string& path);
// Refuses a file readable or writable by group or others.
State state_load(const std::string& path);
// Writes a new file; ClientError(state) if `path` exists (never overwrites).
void state_create(const std::string& path, const State& state);
// Replaces the file atomically and durably.
void state_save(const std::string& path, const State& state);

}  // namespace zkclient
