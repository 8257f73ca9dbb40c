#include "zkregistry/registry.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include <sodium.h>

#include "libverify/field_helpers.hpp"
#include "libverify/poseidon.hpp"
#include "zkregistry/encoding.hpp"
#include "zkregistry/error.hpp"
#include "zkregistry/tree.hpp"

namespace zkregistry {

using libverify::Fr;

namespace {

// Conflicts only come from other registrars committing; each conflict means
// one of them made progress, so a bounded number of retries suffices unless
// the store is hammered far beyond what an operator tool does.
constexpr unsigned kMaxAttempts = 500;
constexpr size_t kChunk = 4096;
constexpr std::string_view kCursorStart = "0-0";

std::string node_field(unsigned height, uint64_t index) {
    return std::to_string(height) + ":" + std::to_string(index);
}

std::string minute_of(int64_t unix_seconds) { return std::to_string(unix_seconds / 60 * 60); }

[[noreturn]] void corrupt(const std::string& what) {
    throw Error(ErrorKind::store, "registry state is inconsistent: " + what +
                                      " (run `zkcredit-registry rebuild`, or restore a backup)");
}

Fr stored_fr(const redisReply* reply, const std::string& what) {
    Fr value;
    if (reply->type != REDIS_REPLY_STRING || !fr_from_hex(std::string_view(reply->str, reply->len),
                                                          value)) {
        corrupt(what + " is not 64 lower-case hex digits of a field element");
    }
    return value;
}

uint64_t stored_u64(const redisReply* reply, const std::string& what) {
    const std::string text = reply_string(reply, what);
    try {
        return parse_u64(text, what);
    } catch (const Error&) {
        corrupt(what + " is not a decimal number: \"" + text + "\"");
    }
}

// WATCHes keys for one optimistic attempt; unwatches on the way out unless
// EXEC already did.
class Watch {
public:
    Watch(Connection& connection, std::initializer_list<const std::string*> keys)
        : connection_(connection) {
        Command command{"WATCH"};
        for (const std::string* key : keys) {
            command.push_back(*key);
        }
        connection_.run(command);
    }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    ~Watch() {
        if (armed_) {
            try {
                connection_.run({"UNWATCH"});
            } catch (const Error&) {
                // The connection is gone, and its watches with it.
            }
        }
    }
    // After EXEC, which ends every watch whether or not it applied.
    void executed() { armed_ = false; }

private:
    Connection& connection_;
    bool armed_ = true;
};

Command log_entry(const Keys& keys, int64_t now, const char* action,
                  std::initializer_list<std::pair<const char*, std::string>> fields) {
    Command command{"XADD", keys.log, "*", "action", action, "minute", minute_of(now)};
    for (const auto& [name, value] : fields) {
        command.push_back(name);
        command.push_back(value);
    }
    return command;
}

int64_t parse_time(const redisReply* reply) {
    const std::string seconds = reply_string(reply_element(reply, 0, "TIME"), "TIME");
    return static_cast<int64_t>(std::strtoll(seconds.c_str(), nullptr, 10));
}

std::vector<std::string> string_elements(const redisReply* reply, const std::string& what) {
    require_array(reply, what);
    std::vector<std::string> out;
    out.reserve(reply->elements);
    for (size_t i = 0; i < reply->elements; ++i) {
        out.push_back(reply_string(reply->element[i], what));
    }
    return out;
}

}  // namespace

// The checks of docs/protocol.md §11 on one double-spend entry: the two
// shares determine the recorded k, and the recorded id is H(k). Evidence is
// self-authenticating: only someone who knows k can name an identity, so a
// writer to the stream cannot revoke anyone else.
JudgedEvidence Registry::judge_evidence(std::string entry_id, const redisReply* fields) {
    JudgedEvidence judgement;
    judgement.entry_id = std::move(entry_id);
    std::map<std::string, std::string, std::less<>> values;
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        if (fields->element[i]->type != REDIS_REPLY_STRING ||
            fields->element[i + 1]->type != REDIS_REPLY_STRING) {
            judgement.reason = "malformed entry";
            return judgement;
        }
        values.emplace(std::string(fields->element[i]->str, fields->element[i]->len),
                       std::string(fields->element[i + 1]->str, fields->element[i + 1]->len));
    }
    static const char* const kNames[] = {"k", "id", "x1", "y1", "x2", "y2"};
    Fr parsed[6];
    for (size_t i = 0; i < 6; ++i) {
        const auto it = values.find(kNames[i]);
        if (it == values.end()) {
            judgement.reason = std::string("field ") + kNames[i] + " is missing";
            return judgement;
        }
        if (!fr_from_hex(it->second, parsed[i])) {
            judgement.reason = std::string("field ") + kNames[i] + " is not a field element";
            return judgement;
        }
    }
    const Fr& k = parsed[0];
    Fr recovered;
    if (libverify::recover_rln_key(parsed[2], parsed[3], parsed[4], parsed[5], recovered) !=
        libverify::Status::ok) {
        judgement.reason = "both shares have the same x";
        return judgement;
    }
    if (recovered != k) {
        judgement.reason = "k does not follow from the shares";
        return judgement;
    }
    if (libverify::poseidon(&k, 1) != parsed[1]) {
        judgement.reason = "id is not H(k)";
        return judgement;
    }
    judgement.valid = true;
    judgement.id = parsed[1];
    judgement.k = k;
    judgement.first = {parsed[2], parsed[3]};
    judgement.second = {parsed[4], parsed[5]};
    return judgement;
}

Keys::Keys(const std::string& prefix)
    : roots(prefix + "roots"),
      depth(prefix + "registry:depth"),
      leaves(prefix + "registry:leaves"),
      nodes(prefix + "registry:nodes"),
      ids(prefix + "registry:ids"),
      revoked(prefix + "registry:revoked"),
      log(prefix + "registry:log"),
      evidence(prefix + "evidence:double-spend"),
      evidence_cursor(prefix + "registry:evidence-cursor"),
      chain_cursor(prefix + "registry:chain-cursor"),
      slash_cursor(prefix + "registry:slash-cursor"),
      prefix_(prefix) {}

std::string Keys::nullifier(const Fr& value) const { return prefix_ + "n:" + fr_to_hex(value); }

const char* evidence_action_name(EvidenceAction action) {
    switch (action) {
    case EvidenceAction::revoked:
        return "revoked";
    case EvidenceAction::already_revoked:
        return "already-revoked";
    case EvidenceAction::unknown_id:
        return "unknown-id";
    case EvidenceAction::rejected:
        return "rejected";
    }
    return "rejected";
}

Registry::Registry(Connection& connection, const std::string& prefix,
                   std::optional<unsigned> depth)
    : connection_(connection), keys_(prefix), depth_(depth.value_or(kDefaultDepth)) {
    if (depth_ < kMinDepth || depth_ > kMaxDepth) {
        throw Error(ErrorKind::invalid_input, "--depth must be between " +
                                                  std::to_string(kMinDepth) + " and " +
                                                  std::to_string(kMaxDepth));
    }
    const Reply stored = connection_.run({"GET", keys_.depth});
    if (!reply_is_nil(stored.get())) {
        const uint64_t stored_depth = stored_u64(stored.get(), keys_.depth);
        if (stored_depth < kMinDepth || stored_depth > kMaxDepth) {
            corrupt(keys_.depth + " is out of range");
        }
        if (depth && *depth != stored_depth) {
            throw Error(ErrorKind::refused, "the registry's tree has depth " +
                                                std::to_string(stored_depth) + ", not " +
                                                std::to_string(*depth));
        }
        depth_ = static_cast<unsigned>(stored_depth);
    }
    zeros_ = zero_hashes(depth_);
}

void Registry::check_stored_depth(const redisReply* reply) {
    if (reply_is_nil(reply)) {
        return;
    }
    const uint64_t stored = stored_u64(reply, keys_.depth);
    if (stored != depth_) {
        throw Error(ErrorKind::refused, "the registry's tree has depth " + std::to_string(stored) +
                                            ", not " + std::to_string(depth_));
    }
}

int64_t Registry::server_time() {
    const Reply now = connection_.run({"TIME"});
    return parse_time(now.get());
}

void Registry::pause_before_retry(unsigned attempt) {
    thread_local std::minstd_rand jitter{std::random_device{}()};
    const unsigned ceiling = 1u << std::min(attempt, 5u);
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter() % (ceiling + 1)));
}

// The siblings of the path from leaf `index` in a tree of `count` leaves.
// Siblings that cover no leaf are empty subtrees and are not stored.
std::vector<Fr> Registry::read_siblings(uint64_t index, uint64_t count) {
    std::vector<Fr> siblings(zeros_.begin(), zeros_.begin() + depth_);
    std::vector<Command> commands;
    Command fetch_nodes{"HMGET", keys_.nodes};
    std::vector<unsigned> heights;
    bool leaf_sibling = false;
    for (unsigned h = 0; h < depth_; ++h) {
        const uint64_t j = (index >> h) ^ 1;
        if ((j << h) >= count) {
            continue;
        }
        if (h == 0) {
            commands.push_back({"LINDEX", keys_.leaves, std::to_string(j)});
            leaf_sibling = true;
        } else {
            fetch_nodes.push_back(node_field(h, j));
            heights.push_back(h);
        }
    }
    if (!heights.empty()) {
        commands.push_back(fetch_nodes);
    }
    if (commands.empty()) {
        return siblings;
    }
    const std::vector<Reply> replies = connection_.pipeline(commands);
    size_t next = 0;
    if (leaf_sibling) {
        if (reply_is_nil(replies[0].get())) {
            corrupt("leaf " + std::to_string(index ^ 1) + " is missing");
        }
        siblings[0] = stored_fr(replies[0].get(), "leaf " + std::to_string(index ^ 1));
        next = 1;
    }
    if (!heights.empty()) {
        const redisReply* values = replies[next].get();
        for (size_t i = 0; i < heights.size(); ++i) {
            const std::string field = node_field(heights[i], (index >> heights[i]) ^ 1);
            const redisReply* value = reply_element(values, i, "HMGET");
            if (reply_is_nil(value)) {
                corrupt("node " + field + " is missing");
            }
            siblings[heights[i]] = stored_fr(value, "node " + field);
        }
    }
    return siblings;
}

std::vector<Command> Registry::path_commands(const Fr& leaf, uint64_t index,
                                             const std::vector<Fr>& siblings, Fr& root) const {
    const std::vector<Fr> nodes = path_nodes(leaf, index, siblings);
    Command store{"HSET", keys_.nodes};
    for (unsigned h = 1; h <= depth_; ++h) {
        store.push_back(node_field(h, index >> h));
        store.push_back(fr_to_hex(nodes[h]));
    }
    root = nodes[depth_];
    return {store};
}

std::vector<Fr> Registry::read_leaves(uint64_t count) {
    std::vector<Command> commands;
    for (uint64_t start = 0; start < count; start += kChunk) {
        const uint64_t stop = std::min<uint64_t>(start + kChunk, count) - 1;
        commands.push_back(
            {"LRANGE", keys_.leaves, std::to_string(start), std::to_string(stop)});
    }
    std::vector<Fr> leaves;
    leaves.reserve(count);
    for (const Reply& chunk : connection_.pipeline(commands)) {
        require_array(chunk.get(), "LRANGE");
        for (size_t i = 0; i < chunk->elements; ++i) {
            leaves.push_back(stored_fr(chunk->element[i], "leaf " + std::to_string(leaves.size())));
        }
    }
    if (leaves.size() != count) {
        corrupt("the leaves list changed length while being read without a conflict");
    }
    return leaves;
}

void Registry::require_check(const ChainCheck& check, uint64_t index, const Fr& root) {
    if (check.index != index) {
        throw Error(ErrorKind::refused, "the contract has this at leaf " +
                                            std::to_string(check.index) + ", the registry at " +
                                            std::to_string(index));
    }
    if (check.root != root) {
        throw Error(ErrorKind::refused, "the registry's root " + fr_to_hex(root) +
                                            " would differ from the contract's " +
                                            fr_to_hex(check.root) +
                                            ": the registry's tree is not the contract's");
    }
}

Registration Registry::register_deposit(const Fr& id, uint64_t deposit,
                                       const std::optional<ChainCheck>& check) {
    const std::string id_hex = fr_to_hex(id);
    const Fr leaf = hash_pair(id, Fr::from_u64(deposit));
    const uint64_t capacity = uint64_t{1} << depth_;
    for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
        Watch watch(connection_, {&keys_.depth, &keys_.leaves, &keys_.nodes, &keys_.ids,
                                  &keys_.roots});
        const std::vector<Reply> reads = connection_.pipeline({
            {"GET", keys_.depth},
            {"LLEN", keys_.leaves},
            {"HEXISTS", keys_.ids, id_hex},
            {"ZRANGEBYSCORE", keys_.roots, "+inf", "+inf"},
            {"TIME"},
        });
        check_stored_depth(reads[0].get());
        const auto count = static_cast<uint64_t>(reply_integer(reads[1].get(), "LLEN"));
        if (reply_integer(reads[2].get(), "HEXISTS") != 0) {
            throw Error(ErrorKind::refused, "id " + fr_to_decimal(id) + " is already registered");
        }
        if (count >= capacity) {
            throw Error(ErrorKind::refused, "the tree is full (" + std::to_string(capacity) +
                                                " leaves at depth " + std::to_string(depth_) +
                                                ")");
        }
        const std::vector<std::string> current = string_elements(reads[3].get(), "ZRANGEBYSCORE");
        const int64_t now = parse_time(reads[4].get());
        const std::vector<Fr> siblings = read_siblings(count, count);

        std::vector<Command> writes;
        if (reply_is_nil(reads[0].get())) {
            writes.push_back({"SET", keys_.depth, std::to_string(depth_)});
        }
        writes.push_back({"RPUSH", keys_.leaves, fr_to_hex(leaf)});
        writes.push_back({"HSET", keys_.ids, id_hex, std::to_string(count)});
        Fr root;
        for (Command& command : path_commands(leaf, count, siblings, root)) {
            writes.push_back(std::move(command));
        }
        if (check) {
            require_check(*check, count, root);
        }
        const std::string root_hex = fr_to_hex(root);
        if (!current.empty()) {
            Command retire{"ZADD", keys_.roots, "XX"};
            for (const std::string& member : current) {
                retire.push_back(std::to_string(now));
                retire.push_back(member);
            }
            writes.push_back(std::move(retire));
        }
        writes.push_back({"ZADD", keys_.roots, "+inf", root_hex});
        writes.push_back(log_entry(keys_, now, "register",
                                   {{"id", id_hex},
                                    {"index", std::to_string(count)},
                                    {"root", root_hex}}));
        const Reply applied = connection_.transaction(writes);
        watch.executed();
        if (applied) {
            return Registration{count, root};
        }
        pause_before_retry(attempt);
    }
    throw Error(ErrorKind::store, "gave up after " + std::to_string(kMaxAttempts) +
                                      " attempts conflicting with other registrars");
}

Fr Registry::root() {
    const Reply reads = connection_.transaction({
        {"LLEN", keys_.leaves},
        {"HGET", keys_.nodes, node_field(depth_, 0)},
    });
    const redisReply* stored = reply_element(reads.get(), 1, "HGET");
    if (reply_is_nil(stored)) {
        if (reply_integer(reply_element(reads.get(), 0, "LLEN"), "LLEN") != 0) {
            corrupt("the root node is missing");
        }
        return zeros_[depth_];
    }
    return stored_fr(stored, "the root node");
}

StatusReport Registry::status() {
    const Reply reads = connection_.transaction({
        {"GET", keys_.depth},
        {"LLEN", keys_.leaves},
        {"HLEN", keys_.revoked},
        {"HGET", keys_.nodes, node_field(depth_, 0)},
        {"ZRANGE", keys_.roots, "0", "-1", "WITHSCORES"},
        {"GET", keys_.evidence_cursor},
        {"XLEN", keys_.evidence},
    });
    auto element = [&](size_t i) { return reply_element(reads.get(), i, "status"); };
    StatusReport report;
    report.depth = depth_;
    report.depth_stored = !reply_is_nil(element(0));
    report.leaves = static_cast<uint64_t>(reply_integer(element(1), "LLEN"));
    report.revoked = static_cast<uint64_t>(reply_integer(element(2), "HLEN"));
    if (reply_is_nil(element(3))) {
        if (report.leaves != 0) {
            corrupt("the root node is missing");
        }
        report.root = zeros_[depth_];
    } else {
        report.root = stored_fr(element(3), "the root node");
    }
    const std::vector<std::string> roots = string_elements(element(4), "ZRANGE");
    for (size_t i = 0; i + 1 < roots.size(); i += 2) {
        PublishedRoot published{roots[i], std::nullopt};
        const double score = std::strtod(roots[i + 1].c_str(), nullptr);
        if (!std::isinf(score)) {
            published.retired_at = static_cast<int64_t>(score);
        }
        report.roots.push_back(std::move(published));
    }
    report.evidence_cursor = reply_is_nil(element(5))
                                 ? std::string(kCursorStart)
                                 : reply_string(element(5), keys_.evidence_cursor);
    report.evidence_entries = static_cast<uint64_t>(reply_integer(element(6), "XLEN"));
    return report;
}

Snapshot Registry::snapshot() {
    for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
        Watch watch(connection_, {&keys_.depth, &keys_.leaves, &keys_.nodes});
        const std::vector<Reply> reads = connection_.pipeline({
            {"GET", keys_.depth},
            {"LLEN", keys_.leaves},
            {"HGET", keys_.nodes, node_field(depth_, 0)},
        });
        check_stored_depth(reads[0].get());
        const auto count = static_cast<uint64_t>(reply_integer(reads[1].get(), "LLEN"));
        Snapshot snapshot;
        snapshot.depth = depth_;
        snapshot.leaves = read_leaves(count);
        if (reply_is_nil(reads[2].get())) {
            if (count != 0) {
                corrupt("the root node is missing");
            }
            snapshot.root = zeros_[depth_];
        } else {
            snapshot.root = stored_fr(reads[2].get(), "the root node");
        }
        // An empty transaction: EXEC fails exactly when a registrar changed
        // the tree while the leaves were read in chunks.
        const Reply unchanged = connection_.transaction({});
        watch.executed();
        if (unchanged) {
            return snapshot;
        }
        pause_before_retry(attempt);
    }
    throw Error(ErrorKind::store, "the tree kept changing while being read");
}

std::vector<EvidenceOutcome> Registry::process_evidence(size_t max_entries,
                                                        std::chrono::milliseconds block) {
    std::vector<EvidenceOutcome> outcomes;
    while (outcomes.size() < max_entries) {
        const Reply stored_cursor = connection_.run({"GET", keys_.evidence_cursor});
        std::string cursor = reply_is_nil(stored_cursor.get())
                                 ? std::string(kCursorStart)
                                 : reply_string(stored_cursor.get(), keys_.evidence_cursor);
        const size_t wanted = std::min(max_entries - outcomes.size(), kChunk);
        const std::vector<JudgedEvidence> entries = read_evidence(cursor, wanted, block);
        block = std::chrono::milliseconds(0);
        if (entries.empty()) {
            break;
        }
        bool overtaken = false;
        for (const JudgedEvidence& entry : entries) {
            std::optional<EvidenceOutcome> outcome = settle_evidence(entry, cursor);
            if (!outcome) {
                overtaken = true;
                break;
            }
            outcomes.push_back(std::move(*outcome));
            cursor = entry.entry_id;
        }
        if (!overtaken && entries.size() < wanted) {
            break;
        }
    }
    return outcomes;
}

std::vector<JudgedEvidence> Registry::read_evidence(const std::string& after, size_t max_entries,
                                                    std::chrono::milliseconds block) {
    Command read{"XREAD", "COUNT", std::to_string(max_entries)};
    if (block.count() > 0) {
        read.push_back("BLOCK");
        read.push_back(std::to_string(block.count()));
    }
    read.insert(read.end(), {"STREAMS", keys_.evidence, after});
    const Reply batch = connection_.run(read);
    std::vector<JudgedEvidence> judged;
    if (reply_is_nil(batch.get())) {
        return judged;
    }
    const redisReply* entries = reply_element(reply_element(batch.get(), 0, "XREAD"), 1, "XREAD");
    require_array(entries, "XREAD");
    for (size_t i = 0; i < entries->elements; ++i) {
        const redisReply* entry = entries->element[i];
        judged.push_back(judge_evidence(reply_string(reply_element(entry, 0, "XREAD"), "XREAD"),
                                        reply_element(entry, 1, "XREAD")));
    }
    return judged;
}

std::string Registry::slash_cursor() {
    const Reply stored = connection_.run({"GET", keys_.slash_cursor});
    return reply_is_nil(stored.get()) ? std::string(kCursorStart)
                                      : reply_string(stored.get(), keys_.slash_cursor);
}

void Registry::set_slash_cursor(const std::string& entry_id) {
    connection_.run({"SET", keys_.slash_cursor, entry_id});
}

namespace {

// KEYS[1] the ticket's record; ARGV x, y. The module's spend script without
// the root check (a withdrawal names no root): a record that exists is
// answered with its share, otherwise the withdrawal's share is stored with
// the time rounded up to the minute, as a request's would be.
constexpr const char* kSpendWithdrawalScript =
    "local seen = redis.call('HMGET', KEYS[1], 'x', 'y')\n"
    "if seen[1] then return {seen[1], seen[2]} end\n"
    "local now = tonumber(redis.call('TIME')[1])\n"
    "redis.call('HSET', KEYS[1], 'x', ARGV[1], 'y', ARGV[2], 'a', 'withdrawal',\n"
    "           't', math.ceil(now / 60) * 60)\n"
    "return {}\n";

}  // namespace

std::optional<std::pair<Fr, Fr>> Registry::spend_withdrawal_ticket(const Fr& nullifier,
                                                                   const Fr& x, const Fr& y) {
    const std::string key = keys_.nullifier(nullifier);
    const Reply seen = connection_.run(
        {"EVAL", kSpendWithdrawalScript, "1", key, fr_to_hex(x), fr_to_hex(y)});
    require_array(seen.get(), "the withdrawal spend");
    if (seen->elements == 0) {
        return std::nullopt;
    }
    if (seen->elements != 2) {
        corrupt("the record of " + key + " is not a share");
    }
    Fr stored_x;
    Fr stored_y;
    if (!fr_from_hex(reply_string(seen->element[0], key), stored_x) ||
        !fr_from_hex(reply_string(seen->element[1], key), stored_y)) {
        corrupt("the record of " + key + " holds no field elements");
    }
    if (stored_x == x) {
        return std::nullopt;  // this withdrawal's own share, stored by an earlier pass
    }
    return std::pair(stored_x, stored_y);
}

bool Registry::append_double_spend(const Fr& id, const Fr& nullifier,
                                   const std::pair<Fr, Fr>& first,
                                   const std::pair<Fr, Fr>& second) {
    Fr k;
    if (libverify::recover_rln_key(first.first, first.second, second.first, second.second, k) !=
            libverify::Status::ok ||
        libverify::poseidon(&k, 1) != id) {
        return false;
    }
    const Reply time = connection_.run({"TIME"});
    connection_.run({"XADD", keys_.evidence, "*", "k", fr_to_hex(k), "id", fr_to_hex(id),
                     "nullifier", fr_to_hex(nullifier), "x1", fr_to_hex(first.first), "y1",
                     fr_to_hex(first.second), "x2", fr_to_hex(second.first), "y2",
                     fr_to_hex(second.second), "minute", minute_of(parse_time(time.get()))});
    sodium_memzero(&k, sizeof k);
    return true;
}

// Acts on one entry and moves the cursor from `cursor` to it, atomically.
// None when another consumer moved the cursor first.
std::optional<EvidenceOutcome> Registry::settle_evidence(const JudgedEvidence& verdict,
                                                         const std::string& cursor) {
    const std::string& entry_id = verdict.entry_id;
    const std::string id_hex = verdict.valid ? fr_to_hex(verdict.id) : std::string();
    for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
        Watch watch(connection_, {&keys_.evidence_cursor, &keys_.depth, &keys_.leaves,
                                  &keys_.nodes, &keys_.ids, &keys_.revoked, &keys_.roots});
        const std::vector<Reply> reads = connection_.pipeline({
            {"GET", keys_.evidence_cursor},
            {"GET", keys_.depth},
            {"LLEN", keys_.leaves},
            {"HGET", keys_.ids, verdict.valid ? id_hex : std::string()},
            {"HGET", keys_.revoked, verdict.valid ? id_hex : std::string()},
            {"TIME"},
        });
        const std::string stored_cursor =
            reply_is_nil(reads[0].get()) ? std::string(kCursorStart)
                                         : reply_string(reads[0].get(), keys_.evidence_cursor);
        if (stored_cursor != cursor) {
            return std::nullopt;
        }
        check_stored_depth(reads[1].get());
        const int64_t now = parse_time(reads[5].get());

        EvidenceOutcome outcome;
        outcome.entry_id = entry_id;
        outcome.id_hex = id_hex;
        std::vector<Command> writes;
        if (!verdict.valid) {
            outcome.action = EvidenceAction::rejected;
            outcome.reason = verdict.reason;
            writes.push_back(log_entry(keys_, now, "evidence-rejected",
                                       {{"evidence", entry_id}, {"reason", verdict.reason}}));
        } else if (reply_is_nil(reads[3].get())) {
            outcome.action = EvidenceAction::unknown_id;
            writes.push_back(
                log_entry(keys_, now, "unknown-id", {{"evidence", entry_id}, {"id", id_hex}}));
        } else {
            const uint64_t index = stored_u64(reads[3].get(), "index of id " + id_hex);
            outcome.index = index;
            if (!reply_is_nil(reads[4].get())) {
                outcome.action = EvidenceAction::already_revoked;
                writes.push_back(log_entry(
                    keys_, now, "already-revoked",
                    {{"evidence", entry_id}, {"id", id_hex}, {"index", std::to_string(index)}}));
            } else {
                const auto count = static_cast<uint64_t>(reply_integer(reads[2].get(), "LLEN"));
                if (index >= count) {
                    corrupt("id " + id_hex + " points past the last leaf");
                }
                outcome.root =
                    revocation_commands(index, count, id_hex, {"evidence", entry_id}, now, writes);
                outcome.action = EvidenceAction::revoked;
            }
        }
        writes.push_back({"SET", keys_.evidence_cursor, entry_id});
        const Reply applied = connection_.transaction(writes);
        watch.executed();
        if (applied) {
            return outcome;
        }
        pause_before_retry(attempt);
    }
    throw Error(ErrorKind::store, "gave up on evidence " + entry_id + " after " +
                                      std::to_string(kMaxAttempts) + " conflicting attempts");
}

Fr Registry::revocation_commands(uint64_t index, uint64_t count, const std::string& id_hex,
                                 const std::pair<std::string, std::string>& cause, int64_t now,
                                 std::vector<Command>& writes) {
    const std::vector<Fr> siblings = read_siblings(index, count);
    writes.push_back({"LSET", keys_.leaves, std::to_string(index), fr_to_hex(Fr::zero())});
    Fr root;
    for (Command& command : path_commands(Fr::zero(), index, siblings, root)) {
        writes.push_back(std::move(command));
    }
    const std::string root_hex = fr_to_hex(root);
    writes.push_back({"HSET", keys_.revoked, id_hex, cause.second});
    // Every older root still contains the leaf: dropping them makes the
    // revocation take effect now rather than when they leave the window.
    writes.push_back({"DEL", keys_.roots});
    writes.push_back({"ZADD", keys_.roots, "+inf", root_hex});
    writes.push_back(log_entry(keys_, now, "revoke",
                               {{cause.first.c_str(), cause.second},
                                {"id", id_hex},
                                {"index", std::to_string(index)},
                                {"root", root_hex}}));
    return root;
}

std::optional<Registry::IdentityState> Registry::identity(const Fr& id) {
    const std::string id_hex = fr_to_hex(id);
    const std::vector<Reply> reads = connection_.pipeline({
        {"HGET", keys_.ids, id_hex},
        {"HEXISTS", keys_.revoked, id_hex},
    });
    if (reply_is_nil(reads[0].get())) {
        return std::nullopt;
    }
    return IdentityState{stored_u64(reads[0].get(), "index of id " + id_hex),
                         reply_integer(reads[1].get(), "HEXISTS") != 0};
}

Fr Registry::revoke_identity(const Fr& id, const std::pair<std::string, std::string>& cause,
                             const ChainCheck& check) {
    const std::string id_hex = fr_to_hex(id);
    for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
        Watch watch(connection_, {&keys_.depth, &keys_.leaves, &keys_.nodes, &keys_.ids,
                                  &keys_.revoked, &keys_.roots});
        const std::vector<Reply> reads = connection_.pipeline({
            {"GET", keys_.depth},
            {"LLEN", keys_.leaves},
            {"HGET", keys_.ids, id_hex},
            {"HEXISTS", keys_.revoked, id_hex},
            {"TIME"},
        });
        check_stored_depth(reads[0].get());
        if (reply_is_nil(reads[2].get())) {
            throw Error(ErrorKind::refused, "id " + id_hex + " is not registered");
        }
        if (reply_integer(reads[3].get(), "HEXISTS") != 0) {
            throw Error(ErrorKind::refused, "id " + id_hex + " is already revoked");
        }
        const auto count = static_cast<uint64_t>(reply_integer(reads[1].get(), "LLEN"));
        const uint64_t index = stored_u64(reads[2].get(), "index of id " + id_hex);
        if (index >= count) {
            corrupt("id " + id_hex + " points past the last leaf");
        }
        std::vector<Command> writes;
        const Fr root =
            revocation_commands(index, count, id_hex, cause, parse_time(reads[4].get()), writes);
        require_check(check, index, root);
        const Reply applied = connection_.transaction(writes);
        watch.executed();
        if (applied) {
            return root;
        }
        pause_before_retry(attempt);
    }
    throw Error(ErrorKind::store, "gave up revoking " + id_hex + " after " +
                                      std::to_string(kMaxAttempts) + " conflicting attempts");
}

Fr Registry::replace_tree(const std::vector<LeafRecord>& records, const std::string& cursor) {
    if (records.size() > (uint64_t{1} << depth_)) {
        throw Error(ErrorKind::refused, "more leaves than the tree holds");
    }
    std::vector<Fr> leaves;
    leaves.reserve(records.size());
    for (const LeafRecord& record : records) {
        leaves.push_back(record.leaf);
    }
    const std::vector<std::vector<Fr>> levels = build_levels(leaves, depth_);
    const Fr root = leaves.empty() ? zeros_[depth_] : levels[depth_][0];
    const std::string root_hex = fr_to_hex(root);

    std::vector<Command> writes{{"DEL", keys_.leaves, keys_.nodes, keys_.ids, keys_.revoked,
                                 keys_.roots},
                                {"SET", keys_.depth, std::to_string(depth_)}};
    for (size_t start = 0; start < records.size(); start += kChunk) {
        const size_t end = std::min(records.size(), start + kChunk);
        Command push{"RPUSH", keys_.leaves};
        Command ids{"HSET", keys_.ids};
        Command revoked{"HSET", keys_.revoked};
        for (size_t i = start; i < end; ++i) {
            push.push_back(fr_to_hex(records[i].leaf));
            ids.push_back(fr_to_hex(records[i].id));
            ids.push_back(std::to_string(i));
            if (!records[i].revoked_by.empty()) {
                revoked.push_back(fr_to_hex(records[i].id));
                revoked.push_back(records[i].revoked_by);
            }
        }
        writes.push_back(std::move(push));
        writes.push_back(std::move(ids));
        if (revoked.size() > 2) {
            writes.push_back(std::move(revoked));
        }
    }
    Command nodes{"HSET", keys_.nodes};
    for (unsigned h = 1; h <= depth_; ++h) {
        for (uint64_t j = 0; j < levels[h].size(); ++j) {
            nodes.push_back(node_field(h, j));
            nodes.push_back(fr_to_hex(levels[h][j]));
            if (nodes.size() >= 2 + 2 * kChunk) {
                writes.push_back(std::exchange(nodes, Command{"HSET", keys_.nodes}));
            }
        }
    }
    if (nodes.size() > 2) {
        writes.push_back(std::move(nodes));
    }
    // As after the registrar's appends, an empty tree publishes no root.
    if (!records.empty()) {
        writes.push_back({"ZADD", keys_.roots, "+inf", root_hex});
    }
    writes.push_back({"SET", keys_.chain_cursor, cursor});
    writes.push_back(log_entry(keys_, server_time(), "replace-tree",
                               {{"leaves", std::to_string(records.size())},
                                {"root", root_hex},
                                {"chain_cursor", cursor}}));
    connection_.transaction(writes);
    return root;
}

Registry::LeafPath Registry::path_of(const Fr& id) {
    const std::string id_hex = fr_to_hex(id);
    for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
        Watch watch(connection_, {&keys_.leaves, &keys_.nodes, &keys_.ids});
        const std::vector<Reply> reads = connection_.pipeline({
            {"LLEN", keys_.leaves},
            {"HGET", keys_.ids, id_hex},
        });
        if (reply_is_nil(reads[1].get())) {
            throw Error(ErrorKind::refused, "id " + id_hex + " is not registered");
        }
        const auto count = static_cast<uint64_t>(reply_integer(reads[0].get(), "LLEN"));
        LeafPath path;
        path.index = stored_u64(reads[1].get(), "index of id " + id_hex);
        if (path.index >= count) {
            corrupt("id " + id_hex + " points past the last leaf");
        }
        path.siblings = read_siblings(path.index, count);
        const Reply leaf = connection_.run({"LINDEX", keys_.leaves, std::to_string(path.index)});
        path.root = path_nodes(stored_fr(leaf.get(), "leaf " + std::to_string(path.index)),
                               path.index, path.siblings)
                        .back();
        // A read-only transaction: EXEC fails if the tree changed meanwhile.
        const Reply unchanged = connection_.transaction({{"LLEN", keys_.leaves}});
        watch.executed();
        if (unchanged) {
            return path;
        }
        pause_before_retry(attempt);
    }
    throw Error(ErrorKind::store, "the tree kept changing while reading a path");
}

std::optional<std::string> Registry::chain_cursor() {
    const Reply stored = connection_.run({"GET", keys_.chain_cursor});
    if (reply_is_nil(stored.get())) {
        return std::nullopt;
    }
    return reply_string(stored.get(), keys_.chain_cursor);
}

void Registry::set_chain_cursor(const std::string& cursor) {
    connection_.run({"SET", keys_.chain_cursor, cursor});
}

RebuildReport Registry::rebuild(bool repair) {
    for (unsigned attempt = 0; attempt < kMaxAttempts; ++attempt) {
        Watch watch(connection_, {&keys_.depth, &keys_.leaves, &keys_.nodes, &keys_.roots});
        const std::vector<Reply> reads = connection_.pipeline({
            {"GET", keys_.depth},
            {"LLEN", keys_.leaves},
            {"ZRANGEBYSCORE", keys_.roots, "+inf", "+inf"},
        });
        check_stored_depth(reads[0].get());
        const auto count = static_cast<uint64_t>(reply_integer(reads[1].get(), "LLEN"));
        const std::vector<std::string> current = string_elements(reads[2].get(), "ZRANGEBYSCORE");
        const std::vector<Fr> leaves = read_leaves(count);

        // HSCAN rather than HGETALL: it never stalls the gateway's Redis on
        // a large tree; the watch catches changes between the pages.
        std::unordered_map<std::string, std::string> stored;
        std::string scan_cursor = "0";
        do {
            const Reply page = connection_.run(
                {"HSCAN", keys_.nodes, scan_cursor, "COUNT", std::to_string(kChunk)});
            scan_cursor = reply_string(reply_element(page.get(), 0, "HSCAN"), "HSCAN");
            const std::vector<std::string> pairs =
                string_elements(reply_element(page.get(), 1, "HSCAN"), "HSCAN");
            for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
                stored[pairs[i]] = pairs[i + 1];
            }
        } while (scan_cursor != "0");

        const std::vector<std::vector<Fr>> levels = build_levels(leaves, depth_);
        RebuildReport report;
        report.leaves = count;
        report.root = count == 0 ? zeros_[depth_] : levels[depth_][0];
        Command set_nodes{"HSET", keys_.nodes};
        for (unsigned h = 1; h <= depth_; ++h) {
            for (uint64_t j = 0; j < levels[h].size(); ++j) {
                ++report.nodes;
                const std::string field = node_field(h, j);
                const std::string value = fr_to_hex(levels[h][j]);
                const auto it = stored.find(field);
                bool differs = true;
                if (it == stored.end()) {
                    ++report.missing;
                } else {
                    differs = it->second != value;
                    report.wrong += differs ? 1 : 0;
                    stored.erase(it);
                }
                if (differs) {
                    set_nodes.push_back(field);
                    set_nodes.push_back(value);
                }
            }
        }
        report.extra = stored.size();
        const std::string root_hex = fr_to_hex(report.root);
        report.root_unpublished =
            count != 0 && (current.size() != 1 || current.front() != root_hex);

        if (!report.differed() || !repair) {
            return report;
        }
        const int64_t now = server_time();
        std::vector<Command> writes;
        if (!stored.empty()) {
            Command drop{"HDEL", keys_.nodes};
            for (const auto& entry : stored) {
                drop.push_back(entry.first);
            }
            writes.push_back(std::move(drop));
        }
        if (set_nodes.size() > 2) {
            writes.push_back(std::move(set_nodes));
        }
        if (report.root_unpublished) {
            Command retire{"ZADD", keys_.roots, "XX"};
            for (const std::string& member : current) {
                if (member != root_hex) {
                    retire.push_back(std::to_string(now));
                    retire.push_back(member);
                }
            }
            if (retire.size() > 3) {
                writes.push_back(std::move(retire));
            }
            writes.push_back({"ZADD", keys_.roots, "+inf", root_hex});
        }
        writes.push_back(log_entry(keys_, now, "rebuild",
                                   {{"missing", std::to_string(report.missing)},
                                    {"wrong", std::to_string(report.wrong)},
                                    {"extra", std::to_string(report.extra)},
                                    {"root", root_hex}}));
        const Reply applied = connection_.transaction(writes);
        watch.executed();
        if (applied) {
            report.repaired = true;
            return report;
        }
        pause_before_retry(attempt);
    }
    throw Error(ErrorKind::store, "the tree kept changing during the rebuild");
}

uint64_t Registry::prune_roots(uint64_t older_than) {
    const int64_t now = server_time();
    if (older_than >= static_cast<uint64_t>(now)) {
        return 0;
    }
    const int64_t cutoff = now - static_cast<int64_t>(older_than);
    // The current root's score is +inf, so it is never below the cutoff.
    const Reply removed = connection_.run(
        {"ZREMRANGEBYSCORE", keys_.roots, "-inf", "(" + std::to_string(cutoff)});
    const auto count = static_cast<uint64_t>(reply_integer(removed.get(), "ZREMRANGEBYSCORE"));
    if (count != 0) {
        connection_.run(log_entry(keys_, now, "prune",
                                  {{"removed", std::to_string(count)},
                                   {"older_than", std::to_string(older_than)}}));
    }
    return count;
}

}  // namespace zkregistry
