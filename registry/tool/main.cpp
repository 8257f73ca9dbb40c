// zkcredit-registry: the operator's tool for the deposit registry
// (docs/operations.md). Run without arguments for usage.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "zkregistry/burner.hpp"
#include "zkregistry/chain.hpp"
#include "zkregistry/encoding.hpp"
#include "zkregistry/error.hpp"
#include "zkregistry/registry.hpp"
#include "zkregistry/slasher.hpp"
#include "zkregistry/store.hpp"
#include "zkregistry/tree.hpp"

namespace {

using nlohmann::json;
using zkregistry::Error;
using zkregistry::ErrorKind;

constexpr char kUsage[] = R"(usage: zkcredit-registry [options] <command> [command options]

options:
  --redis host:port|[v6]:port|unix:/path   Redis of the gateway (default 127.0.0.1:6379)
  --prefix STRING    key prefix, as zkcredit_redis_prefix (default zkcredit:)
  --depth N          tree depth (default: the stored depth, else 20); fixed at
                     the first registration, a different value later is refused
  --json             machine-readable output on stdout

commands:
  register --id ID --deposit AMOUNT   append the leaf H(ID, AMOUNT); ID a decimal field
                                      element, AMOUNT in credit units, 1 to 2^64 - 1
  leaves [--out FILE]                 all leaves as JSON {"depth", "root", "leaves"};
                                      FILE is replaced atomically (- or none: stdout)
  root                                the current root
  status                              depth, leaves, revocations, the roots window
  revoke --from-evidence [--max N]    process double-spend evidence once (default 1000)
  watch                               process evidence as it arrives, until SIGINT/SIGTERM
  rebuild [--check]                   recompute the tree from the leaves and repair what
                                      differs (--check: only report)
  prune-roots --older-than SECONDS    drop roots retired more than SECONDS ago
  path --id ID                        the authentication path of ID's leaf in the current
                                      tree: {"index", "root", "siblings"}, decimal, as the
                                      contract's slash(k, siblings) takes them
  follow --rpc URL --contract ADDRESS --from-block N [--confirmations N] [--poll-ms MS] [--once]
                                      mirror the deposit contract's events into the tree
                                      (instead of register and revoke): JSON-RPC to an
                                      Ethereum node, blocks applied once N more are on top
                                      (default 0), resuming from the saved chain cursor;
                                      --once: stop when caught up, else run until SIGINT/SIGTERM

  slash --rpc URL --contract ADDRESS --from-block N --chain-key FILE [--poll-ms MS] [--once]
                                      claim on chain the deposit of every double spender in
                                      the evidence: slash(k, path) signed with the key in FILE
                                      (the provider's chain key: 64 hex digits, mode 0600);
                                      `follow` then applies the contract's Slashed event;
                                      --once: stop when the evidence is settled
  claim-expired --id ID --rpc URL --contract ADDRESS --from-block N --chain-key FILE
                                      give the treasury the deposit of ID (decimal H(k))
                                      once its lifetime is over: claimExpired(id, path);
                                      prints claimed, not-expired or not-active
  burn --rpc URL --contract ADDRESS --chain-key FILE [--batch N] [--poll-ms MS] [--once]
                                      burn on chain the C_max of every policy refusal: the
                                      receipts of the policy evidence, N to a
                                      burnPolicyReceipts transaction (default 32), those the
                                      contract has burned already left out; FILE is the
                                      treasury's chain key (only the treasury may burn a
                                      receipt before its burn delay); --once: stop when the
                                      evidence is settled

  --publish FILE   (register, revoke, watch, rebuild, follow) after a change to the tree,
                   rewrite FILE as `leaves --out FILE` does

exit status: 0 done, 1 rebuild found differences, 2 bad usage or input,
             3 refused (duplicate id, full tree, depth mismatch), 4 Redis error,
             5 file error, 6 chain error (the node, a revert, the chain key)
)";

enum ExitCode {
    kExitOk = 0,
    kExitDiffered = 1,
    kExitUsage = 2,
    kExitRefused = 3,
    kExitStore = 4,
    kExitIo = 5,
    kExitChain = 6,
};

constexpr auto kTimeout = std::chrono::seconds(10);
constexpr auto kWatchBlock = std::chrono::milliseconds(1000);

volatile std::sig_atomic_t g_stop = 0;

extern "C" void request_stop(int) { g_stop = 1; }

struct Arguments {
    std::string command;
    std::map<std::string, std::string> values;
    std::set<std::string> flags;

    std::optional<std::string> value(const std::string& name) const {
        const auto it = values.find(name);
        return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    std::string required(const std::string& name) const {
        const auto found = value(name);
        if (!found) {
            throw Error(ErrorKind::invalid_input, command + " needs " + name);
        }
        return *found;
    }
};

Arguments parse_arguments(int argc, char** argv) {
    static const std::set<std::string> kValued = {"--redis", "--prefix", "--depth", "--id",
                                                  "--deposit", "--out", "--older-than", "--max",
                                                  "--publish", "--rpc", "--contract",
                                                  "--from-block", "--confirmations", "--poll-ms",
                                                  "--chain-key", "--batch"};
    static const std::set<std::string> kFlags = {"--json", "--from-evidence", "--check", "--once"};
    static const std::map<std::string, std::set<std::string>> kCommandOptions = {
        {"register", {"--id", "--deposit", "--publish"}},
        {"leaves", {"--out"}},
        {"root", {}},
        {"status", {}},
        {"revoke", {"--from-evidence", "--max", "--publish"}},
        {"watch", {"--publish"}},
        {"rebuild", {"--check", "--publish"}},
        {"prune-roots", {"--older-than"}},
        {"path", {"--id"}},
        {"follow",
         {"--rpc", "--contract", "--from-block", "--confirmations", "--poll-ms", "--once",
          "--publish"}},
        {"slash", {"--rpc", "--contract", "--from-block", "--chain-key", "--poll-ms", "--once"}},
        {"burn", {"--rpc", "--contract", "--chain-key", "--batch", "--poll-ms", "--once"}},
        {"claim-expired", {"--id", "--rpc", "--contract", "--from-block", "--chain-key"}},
    };
    static const std::set<std::string> kGlobal = {"--redis", "--prefix", "--depth", "--json"};

    Arguments args;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (kValued.count(arg) != 0) {
            if (i + 1 >= argc) {
                throw Error(ErrorKind::invalid_input, arg + " needs a value");
            }
            if (!args.values.emplace(arg, argv[++i]).second) {
                throw Error(ErrorKind::invalid_input, arg + " given twice");
            }
        } else if (kFlags.count(arg) != 0) {
            args.flags.insert(arg);
        } else if (arg.rfind("--", 0) == 0 || !args.command.empty()) {
            throw Error(ErrorKind::invalid_input, "unexpected argument \"" + arg + "\"");
        } else {
            args.command = arg;
        }
    }
    const auto options = kCommandOptions.find(args.command);
    if (options == kCommandOptions.end()) {
        throw Error(ErrorKind::invalid_input,
                    args.command.empty() ? "no command" : "unknown command \"" + args.command + "\"");
    }
    auto check = [&](const std::string& name) {
        if (kGlobal.count(name) == 0 && options->second.count(name) == 0) {
            throw Error(ErrorKind::invalid_input, name + " does not apply to " + args.command);
        }
    };
    for (const auto& entry : args.values) {
        check(entry.first);
    }
    for (const std::string& flag : args.flags) {
        check(flag);
    }
    if (args.command == "revoke" && args.flags.count("--from-evidence") == 0) {
        throw Error(ErrorKind::invalid_input, "revoke needs --from-evidence");
    }
    return args;
}

json outcome_json(const zkregistry::EvidenceOutcome& outcome) {
    json out = {{"evidence", outcome.entry_id},
                {"action", zkregistry::evidence_action_name(outcome.action)}};
    if (!outcome.id_hex.empty()) {
        out["id"] = outcome.id_hex;
    }
    if (outcome.index) {
        out["index"] = *outcome.index;
    }
    if (!outcome.reason.empty()) {
        out["reason"] = outcome.reason;
    }
    if (outcome.root) {
        out["root"] = zkregistry::fr_to_hex(*outcome.root);
    }
    return out;
}

std::string outcome_text(const zkregistry::EvidenceOutcome& outcome) {
    std::string line =
        "evidence " + outcome.entry_id + ": " + zkregistry::evidence_action_name(outcome.action);
    if (!outcome.id_hex.empty()) {
        line += " id " + outcome.id_hex;
    }
    if (outcome.index) {
        line += " leaf " + std::to_string(*outcome.index);
    }
    if (!outcome.reason.empty()) {
        line += " (" + outcome.reason + ")";
    }
    if (outcome.root) {
        line += ", new root " + zkregistry::fr_to_hex(*outcome.root);
    }
    return line;
}

std::string step_text(const zkregistry::FollowStep& step) {
    return std::string(step.reorg ? "reorg: tree rebuilt from the chain up to block "
                                  : "applied blocks up to ") +
           std::to_string(*step.reached) + ": " + std::to_string(step.deposits) + " deposits, " +
           std::to_string(step.slashes) + " slashes, " + std::to_string(step.withdrawals) +
           " withdrawals (" + std::to_string(step.withdrawal_conflicts) +
           " with a spent ticket), " + std::to_string(step.expiries) + " expiries, " +
           std::to_string(step.already_applied) + " already applied";
}

json step_json(const zkregistry::FollowStep& step) {
    return json{{"block", *step.reached},      {"reorg", step.reorg},
                {"deposits", step.deposits},   {"slashes", step.slashes},
                {"withdrawals", step.withdrawals},
                {"withdrawal_conflicts", step.withdrawal_conflicts},
                {"expiries", step.expiries},
                {"already_applied", step.already_applied}};
}

// A 0x-prefixed 20-byte address, returned in lower case.
zkchain::Address parse_address(const std::string& text) {
    const std::optional<zkchain::Address> address = zkchain::Address::parse(text);
    if (!address) {
        throw Error(ErrorKind::invalid_input, "--contract must be 0x and 40 hex digits");
    }
    return *address;
}

json slash_json(const zkregistry::SlashOutcome& outcome) {
    json out = {{"evidence", outcome.entry_id},
                {"action", zkregistry::slash_action_name(outcome.action)}};
    if (!outcome.id_hex.empty()) {
        out["id"] = outcome.id_hex;
    }
    if (outcome.action == zkregistry::SlashAction::rejected) {
        out["reason"] = outcome.reason;
    } else if (outcome.action != zkregistry::SlashAction::unknown_id) {
        out["index"] = outcome.leaf_index;
    }
    if (!outcome.transaction.empty()) {
        out["transaction"] = outcome.transaction;
    }
    return out;
}

std::string slash_text(const zkregistry::SlashOutcome& outcome) {
    std::string text =
        "evidence " + outcome.entry_id + ": " + zkregistry::slash_action_name(outcome.action);
    if (!outcome.id_hex.empty()) {
        text += " id " + outcome.id_hex;
    }
    if (outcome.action == zkregistry::SlashAction::rejected) {
        text += " (" + outcome.reason + ")";
    }
    if (!outcome.transaction.empty()) {
        text += " in transaction " + outcome.transaction;
    }
    return text;
}

json burn_json(const zkregistry::BurnOutcome& outcome) {
    json out = {{"evidence", outcome.entry_id},
                {"action", zkregistry::burn_action_name(outcome.action)}};
    if (!outcome.nullifier_hex.empty()) {
        out["nullifier"] = outcome.nullifier_hex;
        out["credits"] = std::to_string(outcome.credits);
    }
    if (outcome.action == zkregistry::BurnAction::rejected) {
        out["reason"] = outcome.reason;
    }
    if (!outcome.transaction.empty()) {
        out["transaction"] = outcome.transaction;
    }
    return out;
}

std::string burn_text(const zkregistry::BurnOutcome& outcome) {
    std::string text =
        "policy " + outcome.entry_id + ": " + zkregistry::burn_action_name(outcome.action);
    if (!outcome.nullifier_hex.empty()) {
        text += " nullifier " + outcome.nullifier_hex + ", " + std::to_string(outcome.credits) +
                " credits";
    }
    if (outcome.action == zkregistry::BurnAction::rejected) {
        text += " (" + outcome.reason + ")";
    }
    if (!outcome.transaction.empty()) {
        text += " in transaction " + outcome.transaction;
    }
    return text;
}

void stop_on_signals() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

// Runs `step` until SIGINT/SIGTERM, printing each outcome on its own line;
// with `once`, stops at the first step that settles nothing.
template <typename Step, typename Line>
void run_steps(Step step, Line line, bool once) {
    stop_on_signals();
    while (g_stop == 0) {
        const auto outcomes = step();
        for (const auto& outcome : outcomes) {
            std::cout << line(outcome) << std::endl;
        }
        if (once && outcomes.empty()) {
            break;
        }
    }
}

bool changed_tree(const std::vector<zkregistry::EvidenceOutcome>& outcomes) {
    for (const auto& outcome : outcomes) {
        if (outcome.action == zkregistry::EvidenceAction::revoked) {
            return true;
        }
    }
    return false;
}

[[noreturn]] void io_failure(const std::string& what) {
    throw Error(ErrorKind::io, what + ": " + std::strerror(errno));
}

// Temp file in the same directory, fsync, rename: a reader (nginx serving
// the file) sees the old list or the new one, never a torn one.
void write_file_atomically(const std::string& path, const std::string& content) {
    std::string temp = path + ".tmp.XXXXXX";
    const int fd = mkstemp(temp.data());
    if (fd < 0) {
        io_failure("cannot create a temporary file next to " + path);
    }
    size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = write(fd, content.data() + written, content.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int saved = errno;
            close(fd);
            unlink(temp.c_str());
            errno = saved;
            io_failure("cannot write " + temp);
        }
        written += static_cast<size_t>(n);
    }
    // The list is public; nginx's workers must be able to read it.
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        const int saved = errno;
        close(fd);
        unlink(temp.c_str());
        errno = saved;
        io_failure("cannot finish " + temp);
    }
    if (close(fd) != 0) {
        unlink(temp.c_str());
        io_failure("cannot close " + temp);
    }
    if (rename(temp.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        unlink(temp.c_str());
        errno = saved;
        io_failure("cannot rename " + temp + " to " + path);
    }
}

zkregistry::Snapshot publish_leaves(zkregistry::Registry& registry, const std::string& path) {
    zkregistry::Snapshot snapshot = registry.snapshot();
    json leaves = json::array();
    for (const libverify::Fr& leaf : snapshot.leaves) {
        leaves.push_back(zkregistry::fr_to_hex(leaf));
    }
    const std::string document = json{{"depth", snapshot.depth},
                                      {"root", zkregistry::fr_to_hex(snapshot.root)},
                                      {"leaves", std::move(leaves)}}
                                     .dump() +
                                 "\n";
    if (path == "-") {
        std::cout << document;
    } else {
        write_file_atomically(path, document);
    }
    return snapshot;
}

int run(const Arguments& args) {
    const bool as_json = args.flags.count("--json") != 0;
    std::optional<unsigned> depth;
    if (const auto text = args.value("--depth")) {
        const uint64_t value = zkregistry::parse_u64(*text, "--depth");
        if (value < zkregistry::kMinDepth || value > zkregistry::kMaxDepth) {
            throw Error(ErrorKind::invalid_input,
                        "--depth must be between " + std::to_string(zkregistry::kMinDepth) +
                            " and " + std::to_string(zkregistry::kMaxDepth));
        }
        depth = static_cast<unsigned>(value);
    }
    // Inputs are checked before any connection is made.
    std::optional<libverify::Fr> id;
    uint64_t deposit = 0;
    uint64_t older_than = 0;
    uint64_t max_entries = 1000;
    if (args.command == "register") {
        id = zkregistry::parse_field_decimal(args.required("--id"), "--id");
        deposit = zkregistry::parse_deposit(args.required("--deposit"));
    } else if (args.command == "path") {
        id = zkregistry::parse_field_decimal(args.required("--id"), "--id");
    } else if (args.command == "claim-expired") {
        id = zkregistry::parse_field_decimal(args.required("--id"), "--id");
    } else if (args.command == "prune-roots") {
        older_than = zkregistry::parse_u64(args.required("--older-than"), "--older-than");
    } else if (args.command == "revoke" && args.value("--max")) {
        max_entries = zkregistry::parse_u64(*args.value("--max"), "--max");
    }
    zkregistry::FollowOptions follow;
    auto poll = std::chrono::milliseconds(1000);
    if (args.command == "follow") {
        args.required("--rpc");
        follow.contract = parse_address(args.required("--contract")).hex();
        follow.from_block = zkregistry::parse_u64(args.required("--from-block"), "--from-block");
        follow.confirmations =
            zkregistry::parse_u64(args.value("--confirmations").value_or("0"), "--confirmations");
        poll = std::chrono::milliseconds(
            zkregistry::parse_u64(args.value("--poll-ms").value_or("1000"), "--poll-ms"));
    }

    zkregistry::SlashOptions slashing;
    zkregistry::BurnOptions burning;
    std::optional<zkchain::Signer> chain_key;
    if (args.command == "slash" || args.command == "burn" || args.command == "claim-expired") {
        args.required("--rpc");
        const zkchain::Address contract = parse_address(args.required("--contract"));
        poll = std::chrono::milliseconds(
            zkregistry::parse_u64(args.value("--poll-ms").value_or("1000"), "--poll-ms"));
        if (args.command != "burn") {
            slashing.contract = contract;
            slashing.from_block =
                zkregistry::parse_u64(args.required("--from-block"), "--from-block");
        } else {
            burning.contract = contract;
            burning.batch = static_cast<size_t>(
                zkregistry::parse_u64(args.value("--batch").value_or("32"), "--batch"));
        }
        chain_key.emplace(zkchain::Signer::from_file(args.required("--chain-key")));
    }

    // A chain call alone: no Redis.
    if (args.command == "claim-expired") {
        zkchain::Node node(args.required("--rpc"),
                           std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout));
        std::string transaction;
        const zkregistry::ExpiryClaim claim =
            zkregistry::claim_expired(node, *chain_key, slashing, *id, transaction);
        const std::string action = zkregistry::expiry_claim_name(claim);
        if (as_json) {
            json out = {{"id", zkregistry::fr_to_hex(*id)}, {"action", action}};
            if (!transaction.empty()) out["transaction"] = transaction;
            std::cout << out.dump() << std::endl;
        } else {
            std::cout << action << (transaction.empty() ? "" : " in transaction " + transaction)
                      << std::endl;
        }
        return kExitOk;
    }

    const std::optional<std::string> publish = args.value("--publish");

    zkregistry::Connection connection = zkregistry::Connection::open(
        args.value("--redis").value_or("127.0.0.1:6379"),
        std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout));
    zkregistry::Registry registry(
        connection, args.value("--prefix").value_or(std::string(zkregistry::kDefaultPrefix)),
        depth);

    if (args.command == "register") {
        const zkregistry::Registration done = registry.register_deposit(*id, deposit);
        const std::string root = zkregistry::fr_to_hex(done.root);
        if (as_json) {
            std::cout << json{{"id", zkregistry::fr_to_hex(*id)},
                              {"index", done.index},
                              {"root", root}}
                      << std::endl;
        } else {
            std::cout << "registered leaf " << done.index << "; root " << root << std::endl;
        }
        // After the report: if the file cannot be written, the operator still
        // learns that the deposit is registered.
        if (publish) {
            publish_leaves(registry, *publish);
        }
        return kExitOk;
    }
    if (args.command == "leaves") {
        const auto out = args.value("--out");
        if (!out || *out == "-") {
            publish_leaves(registry, "-");
            return kExitOk;
        }
        const zkregistry::Snapshot snapshot = publish_leaves(registry, *out);
        const std::string root = zkregistry::fr_to_hex(snapshot.root);
        if (as_json) {
            std::cout << json{{"file", *out}, {"leaves", snapshot.leaves.size()}, {"root", root}}
                      << "\n";
        } else {
            std::cout << "wrote " << snapshot.leaves.size() << " leaves to " << *out << "; root "
                      << root << "\n";
        }
        return kExitOk;
    }
    if (args.command == "root") {
        const std::string root = zkregistry::fr_to_hex(registry.root());
        std::cout << (as_json ? json{{"root", root}}.dump() : root) << "\n";
        return kExitOk;
    }
    if (args.command == "status") {
        const zkregistry::StatusReport report = registry.status();
        if (as_json) {
            json roots = json::array();
            for (const zkregistry::PublishedRoot& published : report.roots) {
                roots.push_back({{"root", published.root_hex},
                                 {"retired_at", published.retired_at
                                                    ? json(*published.retired_at)
                                                    : json(nullptr)}});
            }
            std::cout << json{{"depth", report.depth},
                              {"depth_stored", report.depth_stored},
                              {"leaves", report.leaves},
                              {"revoked", report.revoked},
                              {"root", zkregistry::fr_to_hex(report.root)},
                              {"roots", std::move(roots)},
                              {"evidence_cursor", report.evidence_cursor},
                              {"evidence_entries", report.evidence_entries}}
                      << "\n";
        } else {
            std::cout << "depth      " << report.depth
                      << (report.depth_stored ? "" : " (not stored yet)") << "\n"
                      << "leaves     " << report.leaves << " (" << report.revoked << " revoked)\n"
                      << "root       " << zkregistry::fr_to_hex(report.root) << "\n"
                      << "evidence   " << report.evidence_entries << " entries, processed up to "
                      << report.evidence_cursor << "\n"
                      << "roots      " << report.roots.size() << " published\n";
            for (const zkregistry::PublishedRoot& published : report.roots) {
                std::cout << "  " << published.root_hex << "  "
                          << (published.retired_at
                                  ? "retired at " + std::to_string(*published.retired_at)
                                  : std::string("current"))
                          << "\n";
            }
        }
        return kExitOk;
    }
    if (args.command == "revoke") {
        const std::vector<zkregistry::EvidenceOutcome> outcomes =
            registry.process_evidence(max_entries, std::chrono::milliseconds(0));
        if (as_json) {
            json processed = json::array();
            for (const auto& outcome : outcomes) {
                processed.push_back(outcome_json(outcome));
            }
            std::cout << json{{"processed", std::move(processed)}} << "\n";
        } else {
            for (const auto& outcome : outcomes) {
                std::cout << outcome_text(outcome) << "\n";
            }
            std::cout << outcomes.size() << " evidence entries processed\n";
        }
        std::cout.flush();
        if (publish && changed_tree(outcomes)) {
            publish_leaves(registry, *publish);
        }
        return kExitOk;
    }
    if (args.command == "path") {
        const zkregistry::Registry::LeafPath path = registry.path_of(*id);
        json siblings = json::array();
        for (const libverify::Fr& sibling : path.siblings) {
            siblings.push_back(zkregistry::fr_to_decimal(sibling));
        }
        std::cout << json{{"index", path.index},
                          {"root", zkregistry::fr_to_decimal(path.root)},
                          {"siblings", std::move(siblings)}}
                  << "\n";
        return kExitOk;
    }
    if (args.command == "follow") {
        zkchain::Node node(args.required("--rpc"),
                           std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout));
        zkregistry::Follower follower(registry, node, follow);
        const bool once = args.flags.count("--once") != 0;
        stop_on_signals();
        if (publish) {
            publish_leaves(registry, *publish);
        }
        while (g_stop == 0) {
            const zkregistry::FollowStep step = follower.step();
            if (!step.reached) {
                if (once) {
                    break;
                }
                std::this_thread::sleep_for(poll);
                continue;
            }
            std::cout << (as_json ? step_json(step).dump() : step_text(step)) << std::endl;
            if (publish && (step.reorg || step.deposits + step.slashes + step.withdrawals +
                                              step.expiries != 0)) {
                publish_leaves(registry, *publish);
            }
        }
        return kExitOk;
    }
    if (args.command == "slash") {
        zkchain::Node node(args.required("--rpc"),
                           std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout));
        zkregistry::Slasher slasher(registry, node, *chain_key, slashing);
        const bool once = args.flags.count("--once") != 0;
        std::cerr << "zkcredit-registry: slashing from " << chain_key->address().hex()
                  << std::endl;
        run_steps(
            [&] { return slasher.step(64, once ? std::chrono::milliseconds(0) : poll); },
            [&](const auto& outcome) {
                return as_json ? slash_json(outcome).dump() : slash_text(outcome);
            },
            once);
        return kExitOk;
    }
    if (args.command == "burn") {
        zkchain::Node node(args.required("--rpc"),
                           std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout));
        zkregistry::Burner burner(registry, node, *chain_key, burning);
        const bool once = args.flags.count("--once") != 0;
        std::cerr << "zkcredit-registry: burning from " << chain_key->address().hex()
                  << std::endl;
        run_steps([&] { return burner.step(once ? std::chrono::milliseconds(0) : poll); },
                  [&](const auto& outcome) {
                      return as_json ? burn_json(outcome).dump() : burn_text(outcome);
                  },
                  once);
        return kExitOk;
    }
    if (args.command == "watch") {
        stop_on_signals();
        if (publish) {
            publish_leaves(registry, *publish);
        }
        while (g_stop == 0) {
            const auto outcomes = registry.process_evidence(64, kWatchBlock);
            for (const auto& outcome : outcomes) {
                std::cout << (as_json ? outcome_json(outcome).dump() : outcome_text(outcome))
                          << std::endl;
            }
            if (publish && changed_tree(outcomes)) {
                publish_leaves(registry, *publish);
            }
        }
        return kExitOk;
    }
    if (args.command == "rebuild") {
        const bool repair = args.flags.count("--check") == 0;
        const zkregistry::RebuildReport report = registry.rebuild(repair);
        const std::string root = zkregistry::fr_to_hex(report.root);
        if (as_json) {
            std::cout << json{{"leaves", report.leaves},
                              {"nodes", report.nodes},
                              {"missing", report.missing},
                              {"wrong", report.wrong},
                              {"extra", report.extra},
                              {"root_unpublished", report.root_unpublished},
                              {"differed", report.differed()},
                              {"repaired", report.repaired},
                              {"root", root}}
                      << "\n";
        } else if (!report.differed()) {
            std::cout << "consistent: " << report.leaves << " leaves, " << report.nodes
                      << " nodes; root " << root << "\n";
        } else {
            std::cout << "differed: " << report.missing << " nodes missing, " << report.wrong
                      << " wrong, " << report.extra << " extra"
                      << (report.root_unpublished ? ", root not published" : "") << "; "
                      << (report.repaired ? "repaired" : "not repaired") << "; root " << root
                      << "\n";
        }
        std::cout.flush();
        if (publish && report.repaired) {
            publish_leaves(registry, *publish);
        }
        return report.differed() ? kExitDiffered : kExitOk;
    }
    const uint64_t removed = registry.prune_roots(older_than);
    if (as_json) {
        std::cout << json{{"removed", removed}} << "\n";
    } else {
        std::cout << "removed " << removed << " roots\n";
    }
    return kExitOk;
}

int exit_code(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::invalid_input:
        return kExitUsage;
    case ErrorKind::refused:
        return kExitRefused;
    case ErrorKind::store:
        return kExitStore;
    case ErrorKind::io:
        return kExitIo;
    }
    return kExitStore;
}

const char* kind_name(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::invalid_input:
        return "invalid_input";
    case ErrorKind::refused:
        return "refused";
    case ErrorKind::store:
        return "store";
    case ErrorKind::io:
        return "io";
    }
    return "store";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 1 || (argc == 2 && (std::strcmp(argv[1], "--help") == 0 ||
                                    std::strcmp(argv[1], "-h") == 0 ||
                                    std::strcmp(argv[1], "help") == 0))) {
        std::cout << kUsage;
        return argc == 1 ? kExitUsage : kExitOk;
    }
    bool as_json = false;
    for (int i = 1; i < argc; ++i) {
        as_json = as_json || std::strcmp(argv[i], "--json") == 0;
    }
    try {
        return run(parse_arguments(argc, argv));
    } catch (const Error& e) {
        std::cerr << "zkcredit-registry: " << e.what() << "\n";
        if (as_json) {
            std::cout << json{{"error", kind_name(e.kind())}, {"message", e.what()}} << "\n";
        }
        if (e.kind() == ErrorKind::invalid_input) {
            std::cerr << "run zkcredit-registry --help for usage\n";
        }
        return exit_code(e.kind());
    } catch (const zkchain::ChainError& e) {
        std::cerr << "zkcredit-registry: " << e.what() << "\n";
        if (as_json) {
            std::cout << json{{"error", "chain"}, {"message", e.what()}} << "\n";
        }
        return kExitChain;
    } catch (const std::exception& e) {
        std::cerr << "zkcredit-registry: " << e.what() << "\n";
        return kExitStore;
    }
}
