#pragma once
// The deposit registry kept in Redis, next to the gateway's keys
// (docs/operations.md lists the schema).
//
// Concurrency: every change is an optimistic transaction. The registrar
// WATCHes the keys it reads, computes the Poseidon hashes of the new path in
// C++ (Redis's Lua has no BN254 arithmetic, and hashing in Lua would stall
// the gateway's Redis), then commits leaf, path, root publication and log
// entry in one MULTI/EXEC. If another registrar changed anything in between,
// EXEC applies nothing and the attempt starts over from fresh reads.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libverify/field.hpp"
#include "zkregistry/store.hpp"

namespace zkregistry {

constexpr std::string_view kDefaultPrefix = "zkcredit:";

// Every key the registry reads or writes.
struct Keys {
    explicit Keys(const std::string& prefix);

    std::string roots;            // zset: root hex -> time it stopped being current, +inf
    std::string depth;            // string: tree depth, fixed at the first registration
    std::string leaves;           // list: leaf hex, in index order
    std::string nodes;            // hash: "h:j" -> hex of inner node (h, j), h = 1..depth
    std::string ids;              // hash: id hex -> leaf index
    std::string revoked;          // hash: id hex -> evidence entry id that revoked it
    std::string log;              // stream: what the registry did
    std::string evidence;         // stream: the gateway's double-spend evidence
    std::string evidence_cursor;  // string: id of the last evidence entry processed
    std::string chain_cursor;     // string: "<block number> <block hash>" the chain follower reached
    std::string slash_cursor;     // string: id of the last evidence entry the slasher settled

    // hash: the gateway's record of a spent ticket (x, y, ...), as the
    // module's spend script writes it.
    std::string nullifier(const libverify::Fr& nullifier) const;

private:
    std::string prefix_;
};

// One double-spend evidence entry and the verdict of docs/protocol.md §11 on it.
struct JudgedEvidence {
    std::string entry_id;
    bool valid = false;
    std::string reason;  // why not valid
    libverify::Fr id;    // H(k), when valid
    libverify::Fr k;     // the double spender's key, when valid
    // The two shares (x, y) of the ticket, when valid.
    std::pair<libverify::Fr, libverify::Fr> first, second;
};

struct Registration {
    uint64_t index = 0;
    libverify::Fr root;
};

// What the chain follower knows of a change before the registry makes it:
// the leaf's index and the contract's root after it. A change whose root
// would differ is refused, so only the contract's roots are ever published.
struct ChainCheck {
    uint64_t index = 0;
    libverify::Fr root;
};

struct PublishedRoot {
    std::string root_hex;
    std::optional<int64_t> retired_at;  // unix seconds; none for the current root
};

struct StatusReport {
    unsigned depth = 0;
    bool depth_stored = false;
    uint64_t leaves = 0;
    uint64_t revoked = 0;
    libverify::Fr root;
    std::vector<PublishedRoot> roots;  // oldest first, the current root last
    std::string evidence_cursor;
    uint64_t evidence_entries = 0;
};

struct Snapshot {
    unsigned depth = 0;
    libverify::Fr root;
    std::vector<libverify::Fr> leaves;
};

enum class EvidenceAction {
    revoked,          // the identity's leaf is now 0
    already_revoked,  // an earlier entry revoked it
    unknown_id,       // the evidence checks out but names no registered identity
    rejected,         // the evidence does not check out
};

const char* evidence_action_name(EvidenceAction action);

struct EvidenceOutcome {
    std::string entry_id;
    EvidenceAction action = EvidenceAction::rejected;
    std::string id_hex;                // empty when rejected
    std::optional<uint64_t> index;     // the identity's leaf, when registered
    std::string reason;                // why rejected
    std::optional<libverify::Fr> root;  // the new root, when revoked
};

struct RebuildReport {
    uint64_t leaves = 0;
    uint64_t nodes = 0;    // inner nodes the leaves determine
    uint64_t missing = 0;  // expected but not stored
    uint64_t wrong = 0;    // stored with another value
    uint64_t extra = 0;    // stored but covering no leaf
    bool root_unpublished = false;  // the root is not the one current root in the window
    bool repaired = false;
    libverify::Fr root;

    bool differed() const { return missing + wrong + extra != 0 || root_unpublished; }
};

class Registry {
public:
    // `depth` is what the operator asked for, or none to use the stored
    // depth (kDefaultDepth before the first registration). Throws
    // Error(refused) when it differs from the stored depth.
    Registry(Connection& connection, const std::string& prefix, std::optional<unsigned> depth);

    unsigned depth() const { return depth_; }
    const Keys& keys() const { return keys_; }

    // Appends H(id, deposit). Error(refused) for an id registered before
    // (revoked or not), a full tree, or a failed `check`.
    Registration register_deposit(const libverify::Fr& id, uint64_t deposit,
                                  const std::optional<ChainCheck>& check = std::nullopt);

    // The leaf index of a registered id, and whether it is revoked.
    struct IdentityState {
        uint64_t index = 0;
        bool revoked = false;
    };
    std::optional<IdentityState> identity(const libverify::Fr& id);

    // Sets the leaf of a registered, unrevoked id to 0, drops every older
    // root and publishes the new one; `cause` names why in the revoked hash
    // and the log (the chain follower: {"slash", transaction hash}).
    // Error(refused) for an unknown or revoked id, or a failed `check`.
    libverify::Fr revoke_identity(const libverify::Fr& id,
                                  const std::pair<std::string, std::string>& cause,
                                  const ChainCheck& check);

    // One leaf of a tree given whole: its value, and the identity it belongs
    // to with what revoked it (empty when active).
    struct LeafRecord {
        libverify::Fr id;
        libverify::Fr leaf;
        std::string revoked_by;
    };
    // Replaces the whole tree by `leaves` (in index order), drops every
    // published root and publishes the new one, and sets the chain cursor, in
    // one transaction: the chain follower's recovery from a reorg deeper than
    // its confirmations. Returns the new root.
    libverify::Fr replace_tree(const std::vector<LeafRecord>& leaves, const std::string& chain_cursor);

    // The authentication path of a registered id's leaf in the current tree
    // (what the contract's slash(k, siblings) takes). Error(refused) for an
    // unknown id.
    struct LeafPath {
        uint64_t index = 0;
        libverify::Fr root;
        std::vector<libverify::Fr> siblings;
    };
    LeafPath path_of(const libverify::Fr& id);

    std::optional<std::string> chain_cursor();
    void set_chain_cursor(const std::string& cursor);

    // The slasher's place in the evidence stream (its start until set).
    std::string slash_cursor();
    void set_slash_cursor(const std::string& entry_id);

    // Spends a withdrawal's ticket in the gateway's store with the
    // withdrawal's share (x, y), as a request's spend would; idempotent.
    // Returns the share a request stored first under another x, if any.
    std::optional<std::pair<libverify::Fr, libverify::Fr>> spend_withdrawal_ticket(
        const libverify::Fr& nullifier, const libverify::Fr& x, const libverify::Fr& y);
    // Appends a double-spend entry (docs/protocol.md §11) for two shares of
    // one ticket, in the gateway's format; k is recovered from them. False
    // (nothing written) when the shares do not reveal the k of `id`.
    bool append_double_spend(const libverify::Fr& id, const libverify::Fr& nullifier,
                             const std::pair<libverify::Fr, libverify::Fr>& first,
                             const std::pair<libverify::Fr, libverify::Fr>& second);

    // Up to `max_entries` evidence entries after entry `after`, in order,
    // each judged. When none is waiting, waits up to `block` (zero: not at
    // all) for one.
    std::vector<JudgedEvidence> read_evidence(const std::string& after, size_t max_entries,
                                              std::chrono::milliseconds block);

    libverify::Fr root();
    StatusReport status();

    // All leaves and the root they give, read consistently.
    Snapshot snapshot();

    // Processes up to `max_entries` double-spend evidence entries after the
    // stored cursor, each in a transaction that also advances the cursor, so
    // an entry is acted on exactly once even with several consumers. When
    // none is waiting, waits up to `block` (zero: not at all) for one.
    std::vector<EvidenceOutcome> process_evidence(size_t max_entries,
                                                  std::chrono::milliseconds block);

    // Recomputes every inner node and the root from the leaves and compares
    // them with what is stored; with `repair`, rewrites what differs and
    // republishes the root.
    RebuildReport rebuild(bool repair);

    // Drops roots that stopped being current more than `older_than` seconds
    // ago; returns how many.
    uint64_t prune_roots(uint64_t older_than);

private:
    static JudgedEvidence judge_evidence(std::string entry_id, const redisReply* fields);

    std::vector<libverify::Fr> read_siblings(uint64_t index, uint64_t count);
    std::vector<Command> path_commands(const libverify::Fr& leaf, uint64_t index,
                                       const std::vector<libverify::Fr>& siblings,
                                       libverify::Fr& root) const;
    void check_stored_depth(const redisReply* reply);
    std::vector<libverify::Fr> read_leaves(uint64_t count);
    int64_t server_time();
    std::optional<EvidenceOutcome> settle_evidence(const JudgedEvidence& verdict,
                                                   const std::string& cursor);
    void pause_before_retry(unsigned attempt);
    static void require_check(const ChainCheck& check, uint64_t index, const libverify::Fr& root);
    libverify::Fr revocation_commands(uint64_t index, uint64_t count, const std::string& id_hex,
                                      const std::pair<std::string, std::string>& cause,
                                      int64_t now, std::vector<Command>& writes);

    Connection& connection_;
    Keys keys_;
    unsigned depth_;
    std::vector<libverify::Fr> zeros_;
};

}  // namespace zkregistry
