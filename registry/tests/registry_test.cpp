// The registry against a real redis-server: appends and revocations give the
// roots of the JS reference tree, the roots window, persistence across a
// restart, rebuild, refusals, evidence, and concurrent registrars.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "libverify/poseidon.hpp"
#include "redis_server.hpp"
#include "zkregistry/encoding.hpp"
#include "zkregistry/error.hpp"
#include "zkregistry/registry.hpp"
#include "zkregistry/tree.hpp"

namespace zkregistry {
namespace {

using libverify::Fr;
using nlohmann::json;
using testing::RedisServer;

const std::string kPrefix = "test:";

Fr random_fr(std::mt19937_64& rng) {
    uint8_t bytes[64];
    for (uint8_t& b : bytes) {
        b = static_cast<uint8_t>(rng());
    }
    return Fr::from_bytes_le_wide_reduce(bytes);
}

Fr identity_of(const Fr& k) { return libverify::poseidon(&k, 1); }

std::vector<std::string> strings(Connection& connection, const Command& command) {
    const Reply reply = connection.run(command);
    std::vector<std::string> out;
    for (size_t i = 0; i < reply->elements; ++i) {
        out.emplace_back(reply->element[i]->str, reply->element[i]->len);
    }
    return out;
}

std::map<std::string, std::string> hash_of(Connection& connection, const std::string& key) {
    const std::vector<std::string> flat = strings(connection, {"HGETALL", key});
    std::map<std::string, std::string> out;
    for (size_t i = 0; i + 1 < flat.size(); i += 2) {
        out[flat[i]] = flat[i + 1];
    }
    return out;
}

// Everything the registry keeps, to show that a refused command changed
// nothing.
struct State {
    std::string depth;
    std::vector<std::string> leaves;
    std::map<std::string, std::string> nodes;
    std::map<std::string, std::string> ids;
    std::map<std::string, std::string> revoked;
    std::vector<std::string> roots;
    long long log_length = 0;
    std::string cursor;

    bool operator==(const State& o) const {
        return depth == o.depth && leaves == o.leaves && nodes == o.nodes && ids == o.ids &&
               revoked == o.revoked && roots == o.roots && log_length == o.log_length &&
               cursor == o.cursor;
    }
};

std::string string_or_empty(Connection& connection, const std::string& key) {
    const Reply reply = connection.run({"GET", key});
    return reply_is_nil(reply.get()) ? std::string() : reply_string(reply.get(), key);
}

State state_of(Connection& connection, const Keys& keys) {
    State state;
    state.depth = string_or_empty(connection, keys.depth);
    state.leaves = strings(connection, {"LRANGE", keys.leaves, "0", "-1"});
    state.nodes = hash_of(connection, keys.nodes);
    state.ids = hash_of(connection, keys.ids);
    state.revoked = hash_of(connection, keys.revoked);
    state.roots = strings(connection, {"ZRANGE", keys.roots, "0", "-1", "WITHSCORES"});
    state.log_length = connection.run({"XLEN", keys.log})->integer;
    state.cursor = string_or_empty(connection, keys.evidence_cursor);
    return state;
}

std::vector<std::map<std::string, std::string>> log_of(Connection& connection, const Keys& keys) {
    const Reply reply = connection.run({"XRANGE", keys.log, "-", "+"});
    std::vector<std::map<std::string, std::string>> entries;
    for (size_t i = 0; i < reply->elements; ++i) {
        const redisReply* fields = reply->element[i]->element[1];
        std::map<std::string, std::string> entry;
        entry["_id"] = std::string(reply->element[i]->element[0]->str);
        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            entry[fields->element[f]->str] = fields->element[f + 1]->str;
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

// The roots of the JS reference tree after each step.
std::vector<std::string> oracle_roots(unsigned depth, const json& steps) {
    char path[] = "/tmp/zkregistry-oracle-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) {
        throw std::runtime_error("mkstemp failed");
    }
    close(fd);
    {
        std::ofstream input(path);
        input << json{{"depth", depth}, {"steps", steps}}.dump();
    }
    const testing::CommandResult result = testing::run_command(
        std::string(ZKC_NODE) + " " + ZKC_TREE_ORACLE + " < " + path);
    std::remove(path);
    if (result.status != 0) {
        throw std::runtime_error("the JS oracle failed");
    }
    return json::parse(result.output).get<std::vector<std::string>>();
}

bool is_current(const std::string& score) { return score == "inf"; }

// Two shares y = k + a x of one ticket, as the gateway records them.
struct Evidence {
    std::map<std::string, std::string> fields;
};

Evidence double_spend(const Fr& k, std::mt19937_64& rng) {
    const Fr a = random_fr(rng);
    const Fr x1 = random_fr(rng);
    const Fr x2 = random_fr(rng);
    Evidence evidence;
    evidence.fields = {{"k", fr_to_hex(k)},
                       {"id", fr_to_hex(identity_of(k))},
                       {"nullifier", fr_to_hex(identity_of(a))},
                       {"x1", fr_to_hex(x1)},
                       {"y1", fr_to_hex(k + a * x1)},
                       {"x2", fr_to_hex(x2)},
                       {"y2", fr_to_hex(k + a * x2)},
                       {"minute", "1700000040"}};
    return evidence;
}

std::string add_evidence(Connection& connection, const Keys& keys, const Evidence& evidence) {
    Command command{"XADD", keys.evidence, "*"};
    for (const auto& [name, value] : evidence.fields) {
        command.push_back(name);
        command.push_back(value);
    }
    return reply_string(connection.run(command).get(), "XADD");
}

void expect_refused(const std::function<void()>& action, ErrorKind kind) {
    try {
        action();
        ADD_FAILURE() << "not refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
    }
}

TEST(Registry, AppendsAndRevocationMatchReferenceTree) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    ASSERT_EQ(registry.depth(), kDefaultDepth);
    std::mt19937_64 rng(10);

    json steps = json::array();
    std::vector<std::string> roots;
    std::vector<Fr> ids;
    for (uint64_t i = 0; i < 37; ++i) {
        const Fr id = random_fr(rng);
        const uint64_t deposit = i == 5 ? UINT64_MAX : 1000 + i;
        const Registration done = registry.register_deposit(id, deposit);
        EXPECT_EQ(done.index, i);
        EXPECT_EQ(done.root, registry.root());
        steps.push_back({{"append", fr_to_hex(hash_pair(id, Fr::from_u64(deposit)))}});
        roots.push_back(fr_to_hex(done.root));
        ids.push_back(id);
    }

    // Revoke identity 17 through evidence: its leaf becomes 0.
    const Fr k = random_fr(rng);
    const Registration target = registry.register_deposit(identity_of(k), 50);
    steps.push_back({{"append", fr_to_hex(hash_pair(identity_of(k), Fr::from_u64(50)))}});
    roots.push_back(fr_to_hex(target.root));
    add_evidence(connection, registry.keys(), double_spend(k, rng));
    const auto outcomes = registry.process_evidence(10, std::chrono::milliseconds(0));
    ASSERT_EQ(outcomes.size(), 1u);
    ASSERT_TRUE(outcomes[0].root);
    steps.push_back({{"set", {target.index, fr_to_hex(Fr::zero())}}});
    roots.push_back(fr_to_hex(*outcomes[0].root));

    EXPECT_EQ(oracle_roots(kDefaultDepth, steps), roots);
}

TEST(Registry, SmallTreeFillsUpLikeTheReference) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, 3u);
    std::mt19937_64 rng(11);
    json steps = json::array();
    std::vector<std::string> roots;
    for (uint64_t i = 0; i < 8; ++i) {
        const Fr id = random_fr(rng);
        roots.push_back(fr_to_hex(registry.register_deposit(id, i + 1).root));
        steps.push_back({{"append", fr_to_hex(hash_pair(id, Fr::from_u64(i + 1)))}});
    }
    EXPECT_EQ(oracle_roots(3, steps), roots);

    const State before = state_of(connection, registry.keys());
    expect_refused([&] { registry.register_deposit(random_fr(rng), 1); }, ErrorKind::refused);
    EXPECT_TRUE(state_of(connection, registry.keys()) == before);
}

TEST(Registry, RootsWindowScores) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    std::mt19937_64 rng(12);
    const long long t0 = std::stoll(strings(connection, {"TIME"})[0]);
    std::vector<std::string> published;
    for (int i = 0; i < 4; ++i) {
        published.push_back(fr_to_hex(registry.register_deposit(random_fr(rng), 10).root));
    }
    const long long t1 = std::stoll(strings(connection, {"TIME"})[0]);

    const std::vector<std::string> roots =
        strings(connection, {"ZRANGE", registry.keys().roots, "0", "-1", "WITHSCORES"});
    ASSERT_EQ(roots.size(), 8u);
    std::map<std::string, std::string> score_of;
    for (size_t i = 0; i + 1 < roots.size(); i += 2) {
        score_of[roots[i]] = roots[i + 1];
    }
    // Roots retired within one second tie, so publication order is checked
    // through the scores, not the zset's order.
    double previous = 0;
    for (size_t i = 0; i < published.size(); ++i) {
        ASSERT_EQ(score_of.count(published[i]), 1u) << i;
        const std::string& score = score_of[published[i]];
        if (i + 1 == published.size()) {
            EXPECT_TRUE(is_current(score)) << score;
        } else {
            const double retired = std::stod(score);
            EXPECT_GE(retired, static_cast<double>(t0));
            EXPECT_LE(retired, static_cast<double>(t1));
            EXPECT_GE(retired, previous);
            EXPECT_EQ(retired, std::floor(retired));  // whole seconds, as the gateway compares
            previous = retired;
        }
    }

    const StatusReport report = registry.status();
    EXPECT_EQ(report.leaves, 4u);
    ASSERT_EQ(report.roots.size(), 4u);
    EXPECT_FALSE(report.roots.back().retired_at);
    EXPECT_EQ(report.roots.back().root_hex, fr_to_hex(report.root));
    EXPECT_TRUE(report.roots.front().retired_at);
}

TEST(Registry, PruneRootsKeepsTheCurrentAndRecentOnes) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    std::mt19937_64 rng(13);
    for (int i = 0; i < 3; ++i) {
        registry.register_deposit(random_fr(rng), 10);
    }
    const long long now = std::stoll(strings(connection, {"TIME"})[0]);
    const std::vector<std::string> roots =
        strings(connection, {"ZRANGE", registry.keys().roots, "0", "-1"});
    // Age the two retired roots: one long ago, one recently.
    connection.run({"ZADD", registry.keys().roots, "XX", std::to_string(now - 10000), roots[0]});
    connection.run({"ZADD", registry.keys().roots, "XX", std::to_string(now - 100), roots[1]});

    EXPECT_EQ(registry.prune_roots(1000), 1u);
    EXPECT_EQ(strings(connection, {"ZRANGE", registry.keys().roots, "0", "-1"}),
              (std::vector<std::string>{roots[1], roots[2]}));
    EXPECT_EQ(registry.prune_roots(0), 1u);
    EXPECT_EQ(strings(connection, {"ZRANGE", registry.keys().roots, "0", "-1"}),
              (std::vector<std::string>{roots[2]}));
    EXPECT_EQ(log_of(connection, registry.keys()).back().at("action"), "prune");
}

TEST(Registry, StateSurvivesARestart) {
    RedisServer server(true);
    std::mt19937_64 rng(14);
    State before;
    Fr root;
    {
        Connection connection = server.connect();
        Registry registry(connection, kPrefix, 5u);
        for (int i = 0; i < 6; ++i) {
            registry.register_deposit(random_fr(rng), 10);
        }
        root = registry.root();
        before = state_of(connection, registry.keys());
    }
    server.stop();
    server.start();

    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    EXPECT_EQ(registry.depth(), 5u);
    EXPECT_TRUE(state_of(connection, registry.keys()) == before);
    EXPECT_EQ(registry.root(), root);
    EXPECT_FALSE(registry.rebuild(false).differed());
    EXPECT_EQ(registry.register_deposit(random_fr(rng), 10).index, 6u);
    EXPECT_FALSE(registry.rebuild(false).differed());
}

TEST(Registry, RebuildFindsAndRepairsDamage) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, 8u);
    std::mt19937_64 rng(15);
    for (int i = 0; i < 21; ++i) {
        registry.register_deposit(random_fr(rng), 10);
    }
    const Snapshot snapshot = registry.snapshot();
    EXPECT_EQ(snapshot.leaves.size(), 21u);
    EXPECT_EQ(tree_root(snapshot.leaves, 8), snapshot.root);

    const State intact = state_of(connection, registry.keys());
    RebuildReport report = registry.rebuild(true);
    EXPECT_FALSE(report.differed());
    EXPECT_FALSE(report.repaired);
    EXPECT_EQ(report.root, snapshot.root);
    // 21 leaves at depth 8: 11 + 6 + 3 + 2 + 1 + 1 + 1 + 1 inner nodes.
    EXPECT_EQ(report.nodes, 26u);
    EXPECT_TRUE(state_of(connection, registry.keys()) == intact);

    const Keys& keys = registry.keys();
    connection.run({"HDEL", keys.nodes, "1:3"});
    connection.run({"HSET", keys.nodes, "2:1", fr_to_hex(Fr::from_u64(99))});
    connection.run({"HSET", keys.nodes, "8:0", fr_to_hex(Fr::from_u64(98))});
    connection.run({"HSET", keys.nodes, "1:200", fr_to_hex(Fr::from_u64(97))});
    connection.run({"ZADD", keys.roots, "+inf", fr_to_hex(Fr::from_u64(98))});

    report = registry.rebuild(false);
    EXPECT_EQ(report.missing, 1u);
    EXPECT_EQ(report.wrong, 2u);
    EXPECT_EQ(report.extra, 1u);
    EXPECT_TRUE(report.root_unpublished);
    EXPECT_FALSE(report.repaired);

    report = registry.rebuild(true);
    EXPECT_TRUE(report.differed());
    EXPECT_TRUE(report.repaired);
    EXPECT_EQ(report.root, snapshot.root);
    EXPECT_FALSE(registry.rebuild(false).differed());
    const State repaired = state_of(connection, keys);
    EXPECT_EQ(repaired.nodes, intact.nodes);
    EXPECT_EQ(registry.root(), snapshot.root);
    const auto current = strings(connection, {"ZRANGEBYSCORE", keys.roots, "+inf", "+inf"});
    EXPECT_EQ(current, std::vector<std::string>{fr_to_hex(snapshot.root)});
    EXPECT_EQ(log_of(connection, keys).back().at("action"), "rebuild");
}

TEST(Registry, RefusalsChangeNothing) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, 6u);
    std::mt19937_64 rng(16);
    const Fr id = random_fr(rng);
    registry.register_deposit(id, 10);
    registry.register_deposit(random_fr(rng), 20);
    const State before = state_of(connection, registry.keys());

    expect_refused([&] { registry.register_deposit(id, 10); }, ErrorKind::refused);
    expect_refused([&] { registry.register_deposit(id, 11); }, ErrorKind::refused);
    expect_refused([&] { Registry other(connection, kPrefix, 7u); }, ErrorKind::refused);
    expect_refused([&] { Registry other(connection, kPrefix, 0u); }, ErrorKind::invalid_input);
    expect_refused([&] { Registry other(connection, kPrefix, 33u); }, ErrorKind::invalid_input);
    EXPECT_TRUE(state_of(connection, registry.keys()) == before);

    // Another prefix is another registry.
    Registry other(connection, "other:", std::nullopt);
    EXPECT_EQ(other.register_deposit(id, 10).index, 0u);
    EXPECT_TRUE(state_of(connection, registry.keys()) == before);
}

TEST(Registry, RevocationFromEvidence) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    const Keys& keys = registry.keys();
    std::mt19937_64 rng(17);
    const Fr k = random_fr(rng);
    uint64_t target = 0;
    for (uint64_t i = 0; i < 9; ++i) {
        const Fr id = i == 6 ? identity_of(k) : random_fr(rng);
        const Registration done = registry.register_deposit(id, 100 + i);
        if (i == 6) {
            target = done.index;
        }
    }
    const std::vector<std::string> leaves_before = strings(connection, {"LRANGE", keys.leaves, "0", "-1"});
    const Fr root_before = registry.root();

    const std::string entry = add_evidence(connection, keys, double_spend(k, rng));
    const auto outcomes = registry.process_evidence(100, std::chrono::milliseconds(0));
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].action, EvidenceAction::revoked);
    EXPECT_EQ(outcomes[0].entry_id, entry);
    EXPECT_EQ(outcomes[0].id_hex, fr_to_hex(identity_of(k)));
    ASSERT_TRUE(outcomes[0].index);
    EXPECT_EQ(*outcomes[0].index, target);

    // Exactly that leaf is 0 now.
    const std::vector<std::string> leaves_after = strings(connection, {"LRANGE", keys.leaves, "0", "-1"});
    ASSERT_EQ(leaves_after.size(), leaves_before.size());
    for (size_t i = 0; i < leaves_after.size(); ++i) {
        EXPECT_EQ(leaves_after[i], i == target ? fr_to_hex(Fr::zero()) : leaves_before[i]) << i;
    }
    const Fr root_after = registry.root();
    EXPECT_NE(root_after, root_before);
    EXPECT_EQ(*outcomes[0].root, root_after);
    EXPECT_EQ(tree_root(registry.snapshot().leaves, kDefaultDepth), root_after);
    EXPECT_FALSE(registry.rebuild(false).differed());

    // Every older root is gone: only the new one is accepted.
    EXPECT_EQ(strings(connection, {"ZRANGE", keys.roots, "0", "-1", "WITHSCORES"}),
              (std::vector<std::string>{fr_to_hex(root_after), "inf"}));

    const auto entry_log = log_of(connection, keys).back();
    EXPECT_EQ(entry_log.at("action"), "revoke");
    EXPECT_EQ(entry_log.at("evidence"), entry);
    EXPECT_EQ(entry_log.at("id"), fr_to_hex(identity_of(k)));
    EXPECT_EQ(entry_log.at("index"), std::to_string(target));
    EXPECT_EQ(entry_log.count("k"), 0u);
    EXPECT_EQ(std::stoll(entry_log.at("minute")) % 60, 0);
    EXPECT_EQ(hash_of(connection, keys.revoked).at(fr_to_hex(identity_of(k))), entry);
    EXPECT_EQ(string_or_empty(connection, keys.evidence_cursor), entry);

    // Nothing new: nothing to do. The same k caught again: noted, no change.
    EXPECT_TRUE(registry.process_evidence(100, std::chrono::milliseconds(0)).empty());
    const State settled = state_of(connection, keys);
    const std::string again = add_evidence(connection, keys, double_spend(k, rng));
    const auto repeat = registry.process_evidence(100, std::chrono::milliseconds(0));
    ASSERT_EQ(repeat.size(), 1u);
    EXPECT_EQ(repeat[0].action, EvidenceAction::already_revoked);
    const State after_repeat = state_of(connection, keys);
    EXPECT_EQ(after_repeat.leaves, settled.leaves);
    EXPECT_EQ(after_repeat.nodes, settled.nodes);
    EXPECT_EQ(after_repeat.roots, settled.roots);
    EXPECT_EQ(after_repeat.cursor, again);
    EXPECT_EQ(log_of(connection, keys).back().at("action"), "already-revoked");

    // A revoked identity cannot register again: its k is public now.
    expect_refused([&] { registry.register_deposit(identity_of(k), 100); }, ErrorKind::refused);

    // Registration continues after a revocation, on top of the new root.
    registry.register_deposit(random_fr(rng), 5);
    EXPECT_FALSE(registry.rebuild(false).differed());
}

TEST(Registry, BadEvidenceIsSkippedAndLogged) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    const Keys& keys = registry.keys();
    std::mt19937_64 rng(18);
    const Fr k = random_fr(rng);
    registry.register_deposit(identity_of(k), 100);
    registry.register_deposit(random_fr(rng), 100);
    const State before = state_of(connection, keys);

    std::vector<std::pair<Evidence, std::string>> cases;
    Evidence evidence = double_spend(k, rng);
    evidence.fields["y2"] = fr_to_hex(Fr::from_u64(5));
    cases.push_back({evidence, "k does not follow from the shares"});
    evidence = double_spend(k, rng);
    evidence.fields["id"] = fr_to_hex(identity_of(k + Fr::one()));
    cases.push_back({evidence, "id is not H(k)"});
    evidence = double_spend(k, rng);
    evidence.fields["k"] = fr_to_hex(k + Fr::one());
    evidence.fields["id"] = fr_to_hex(identity_of(k + Fr::one()));
    cases.push_back({evidence, "k does not follow from the shares"});
    evidence = double_spend(k, rng);
    evidence.fields.erase("x1");
    cases.push_back({evidence, "field x1 is missing"});
    evidence = double_spend(k, rng);
    evidence.fields["y1"] = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
    cases.push_back({evidence, "field y1 is not a field element"});
    evidence = double_spend(k, rng);
    evidence.fields["x2"] = evidence.fields["x1"];
    evidence.fields["y2"] = evidence.fields["y1"];
    cases.push_back({evidence, "both shares have the same x"});

    std::vector<std::string> entries;
    for (const auto& c : cases) {
        entries.push_back(add_evidence(connection, keys, c.first));
    }
    const Fr stranger = random_fr(rng);
    const std::string unknown = add_evidence(connection, keys, double_spend(stranger, rng));

    const auto outcomes = registry.process_evidence(100, std::chrono::milliseconds(0));
    ASSERT_EQ(outcomes.size(), cases.size() + 1);
    const auto log = log_of(connection, keys);
    ASSERT_EQ(log.size(), 2 + cases.size() + 1);
    for (size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(outcomes[i].action, EvidenceAction::rejected) << i;
        EXPECT_EQ(outcomes[i].reason, cases[i].second) << i;
        EXPECT_EQ(outcomes[i].entry_id, entries[i]);
        const auto& entry = log[2 + i];
        EXPECT_EQ(entry.at("action"), "evidence-rejected");
        EXPECT_EQ(entry.at("evidence"), entries[i]);
        EXPECT_EQ(entry.at("reason"), cases[i].second);
    }
    EXPECT_EQ(outcomes.back().action, EvidenceAction::unknown_id);
    EXPECT_EQ(outcomes.back().id_hex, fr_to_hex(identity_of(stranger)));
    EXPECT_EQ(log.back().at("action"), "unknown-id");
    EXPECT_EQ(log.back().at("id"), fr_to_hex(identity_of(stranger)));

    // The tree and the roots are untouched; only the log and the cursor moved.
    State after = state_of(connection, keys);
    EXPECT_EQ(after.cursor, unknown);
    after.cursor = before.cursor;
    after.log_length = before.log_length;
    EXPECT_TRUE(after == before);
}

TEST(Registry, WatchWaitsForEvidence) {
    RedisServer server;
    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    std::mt19937_64 rng(19);
    const Fr k = random_fr(rng);
    registry.register_deposit(identity_of(k), 100);
    const Evidence evidence = double_spend(k, rng);

    std::thread gateway([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        Connection writer = server.connect();
        add_evidence(writer, registry.keys(), evidence);
    });
    const auto outcomes = registry.process_evidence(10, std::chrono::milliseconds(5000));
    gateway.join();
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].action, EvidenceAction::revoked);
}

TEST(Registry, ConcurrentRegistrarsLoseNothing) {
    RedisServer server;
    constexpr int kRegistrars = 4;
    constexpr int kEach = 40;
    std::vector<std::vector<std::pair<Fr, uint64_t>>> deposits(kRegistrars);
    std::mt19937_64 rng(20);
    for (auto& mine : deposits) {
        for (int i = 0; i < kEach; ++i) {
            mine.emplace_back(random_fr(rng), 1 + rng() % 100000);
        }
    }
    // One identity offered by every registrar at once: exactly one wins.
    const Fr contested = random_fr(rng);
    std::atomic<int> contested_wins{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> registrars;
    for (int t = 0; t < kRegistrars; ++t) {
        registrars.emplace_back([&, t] {
            try {
                Connection connection = server.connect();
                Registry registry(connection, kPrefix, std::nullopt);
                for (int i = 0; i < kEach; ++i) {
                    if (i == kEach / 2) {
                        try {
                            registry.register_deposit(contested, 7);
                            ++contested_wins;
                        } catch (const Error& e) {
                            if (e.kind() != ErrorKind::refused) {
                                ++failures;
                            }
                        }
                    }
                    registry.register_deposit(deposits[t][i].first, deposits[t][i].second);
                }
            } catch (const std::exception&) {
                ++failures;
            }
        });
    }
    for (std::thread& registrar : registrars) {
        registrar.join();
    }
    ASSERT_EQ(failures.load(), 0);
    EXPECT_EQ(contested_wins.load(), 1);

    Connection connection = server.connect();
    Registry registry(connection, kPrefix, std::nullopt);
    const Keys& keys = registry.keys();
    const size_t total = kRegistrars * kEach + 1;
    const std::vector<std::string> leaves = strings(connection, {"LRANGE", keys.leaves, "0", "-1"});
    ASSERT_EQ(leaves.size(), total);
    const auto ids = hash_of(connection, keys.ids);
    ASSERT_EQ(ids.size(), total);
    std::set<uint64_t> indices;
    for (const auto& mine : deposits) {
        for (const auto& [id, deposit] : mine) {
            const uint64_t index = std::stoull(ids.at(fr_to_hex(id)));
            EXPECT_EQ(leaves.at(index), fr_to_hex(hash_pair(id, Fr::from_u64(deposit))));
            indices.insert(index);
        }
    }
    indices.insert(std::stoull(ids.at(fr_to_hex(contested))));
    EXPECT_EQ(indices.size(), total);
    EXPECT_EQ(*indices.rbegin(), total - 1);

    EXPECT_FALSE(registry.rebuild(false).differed());
    // Each registration published its own root and retired the one before.
    const std::vector<std::string> roots =
        strings(connection, {"ZRANGE", keys.roots, "0", "-1", "WITHSCORES"});
    ASSERT_EQ(roots.size(), 2 * total);
    EXPECT_EQ(std::count(roots.begin(), roots.end(), "inf"), 1);
    EXPECT_EQ(roots[2 * total - 2], fr_to_hex(registry.root()));
    EXPECT_EQ(connection.run({"XLEN", keys.log})->integer, static_cast<long long>(total));
}

TEST(Registry, ConnectsOverUnixSocket) {
    RedisServer server;
    Connection connection = Connection::open(server.unix_address(), std::chrono::seconds(5));
    Registry registry(connection, kPrefix, std::nullopt);
    EXPECT_EQ(registry.register_deposit(Fr::from_u64(1), 1).index, 0u);
}

}  // namespace
}  // namespace zkregistry
