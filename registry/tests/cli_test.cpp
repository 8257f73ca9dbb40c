// The command line: exit codes, JSON output, the published leaves file.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "libverify/poseidon.hpp"
#include "redis_server.hpp"
#include "zkregistry/encoding.hpp"
#include "zkregistry/registry.hpp"
#include "zkregistry/tree.hpp"

namespace zkregistry {
namespace {

using libverify::Fr;
using nlohmann::json;
using testing::CommandResult;
using testing::RedisServer;
using testing::run_command;

class Cli : public ::testing::Test {
protected:
    CommandResult tool(const std::string& arguments) {
        return run_command(std::string(ZKC_REGISTRY_TOOL) + " --redis " + server_.address() +
                           " " + arguments + " 2>/dev/null");
    }
    json tool_json(const std::string& arguments, int expected_status = 0) {
        const CommandResult result = tool("--json " + arguments);
        EXPECT_EQ(result.status, expected_status) << arguments << "\n" << result.output;
        return json::parse(result.output);
    }
    std::string registry_keys() {
        Connection connection = server_.connect();
        const Reply reply = connection.run({"DUMP", "zkcredit:registry:leaves"});
        return reply_is_nil(reply.get()) ? std::string() : std::string(reply->str, reply->len);
    }

    RedisServer server_;
};

TEST_F(Cli, RegisterRootStatus) {
    const json first = tool_json("register --id 12345 --deposit 1000");
    EXPECT_EQ(first["index"], 0);
    EXPECT_EQ(first["id"], fr_to_hex(Fr::from_u64(12345)));
    const json second = tool_json("register --deposit 5 --id 777");
    EXPECT_EQ(second["index"], 1);

    const std::vector<Fr> leaves = {hash_pair(Fr::from_u64(12345), Fr::from_u64(1000)),
                                    hash_pair(Fr::from_u64(777), Fr::from_u64(5))};
    const std::string root = fr_to_hex(tree_root(leaves, kDefaultDepth));
    EXPECT_EQ(second["root"], root);
    EXPECT_EQ(tool_json("root")["root"], root);
    const CommandResult plain = tool("root");
    EXPECT_EQ(plain.status, 0);
    EXPECT_EQ(plain.output, root + "\n");

    const json status = tool_json("status");
    EXPECT_EQ(status["depth"], 20);
    EXPECT_EQ(status["depth_stored"], true);
    EXPECT_EQ(status["leaves"], 2);
    EXPECT_EQ(status["revoked"], 0);
    EXPECT_EQ(status["root"], root);
    ASSERT_EQ(status["roots"].size(), 2u);
    EXPECT_TRUE(status["roots"][1]["retired_at"].is_null());
    EXPECT_EQ(status["roots"][1]["root"], root);
    EXPECT_TRUE(status["roots"][0]["retired_at"].is_number_integer());
    EXPECT_EQ(tool("status").status, 0);
}

TEST_F(Cli, ExitCodes) {
    EXPECT_EQ(run_command(std::string(ZKC_REGISTRY_TOOL) + " >/dev/null").status, 2);
    EXPECT_EQ(run_command(std::string(ZKC_REGISTRY_TOOL) + " --help >/dev/null").status, 0);
    EXPECT_EQ(tool("frobnicate").status, 2);
    EXPECT_EQ(tool("register --id 1").status, 2);
    EXPECT_EQ(tool("register --id 1 --deposit 2 --out x").status, 2);
    EXPECT_EQ(tool("revoke").status, 2);
    EXPECT_EQ(tool("root --depth 0").status, 2);
    EXPECT_EQ(tool("root --depth 33").status, 2);
    EXPECT_EQ(tool("prune-roots").status, 2);
    EXPECT_EQ(tool("prune-roots --older-than -5").status, 2);
    const std::string burn = "burn --rpc http://127.0.0.1:1 --contract 0x" + std::string(40, 'a');
    EXPECT_EQ(tool(burn).status, 2);                                  // no --chain-key
    EXPECT_EQ(tool(burn + " --chain-key /nonexistent/key").status, 6);  // the key is read first
    EXPECT_EQ(tool(burn + " --chain-key k --from-block 1").status, 2);  // slash's option
    EXPECT_EQ(tool(burn + " --chain-key k --batch x").status, 2);

    // Malformed registrations are refused before anything is stored.
    for (const char* bad :
         {"--id 01 --deposit 5", "--id -1 --deposit 5", "--id 1 --deposit 0",
          "--id 1 --deposit 18446744073709551616", "--id 1 --deposit 1e3",
          "--id 21888242871839275222246405745257275088548364400416034343698204186575808495617 "
          "--deposit 5",
          "--id '' --deposit 5"}) {
        EXPECT_EQ(tool(std::string("register ") + bad).status, 2) << bad;
    }
    EXPECT_EQ(registry_keys(), "");

    EXPECT_EQ(tool("register --id 1 --deposit 5").status, 0);
    const std::string after_first = registry_keys();
    const json duplicate = tool_json("register --id 1 --deposit 6", 3);
    EXPECT_EQ(duplicate["error"], "refused");
    EXPECT_EQ(tool("--depth 21 register --id 2 --deposit 5").status, 3);
    EXPECT_EQ(registry_keys(), after_first);
    EXPECT_EQ(tool("--depth 20 register --id 2 --deposit 5").status, 0);

    EXPECT_EQ(run_command(std::string(ZKC_REGISTRY_TOOL) +
                          " --redis 127.0.0.1:1 root 2>/dev/null").status,
              4);
    EXPECT_EQ(tool("leaves --out /nonexistent-dir/leaves.json").status, 5);
}

TEST_F(Cli, LeavesFileIsPublishedWhole) {
    for (int i = 1; i <= 5; ++i) {
        ASSERT_EQ(tool("register --id " + std::to_string(i * 1000) + " --deposit " +
                       std::to_string(i)).status,
                  0);
    }
    const std::string path = server_.dir() + "/leaves.json";
    const json written = tool_json("leaves --out " + path);
    EXPECT_EQ(written["leaves"], 5);

    std::ifstream file(path);
    std::stringstream content;
    content << file.rdbuf();
    const json document = json::parse(content.str());
    EXPECT_EQ(document["depth"], 20);
    ASSERT_EQ(document["leaves"].size(), 5u);
    std::vector<Fr> leaves;
    for (int i = 1; i <= 5; ++i) {
        const Fr leaf = hash_pair(Fr::from_u64(static_cast<uint64_t>(i) * 1000),
                                  Fr::from_u64(static_cast<uint64_t>(i)));
        EXPECT_EQ(document["leaves"][i - 1], fr_to_hex(leaf));
        leaves.push_back(leaf);
    }
    EXPECT_EQ(document["root"], fr_to_hex(tree_root(leaves, 20)));
    EXPECT_EQ(document["root"], written["root"]);

    struct stat info {};
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0644u);
    // No temporary file is left behind.
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(server_.dir())) {
        files += entry.path().filename().string().rfind("leaves.json", 0) == 0 ? 1 : 0;
    }
    EXPECT_EQ(files, 1u);

    // Without --out the same document goes to stdout.
    const CommandResult printed = tool("leaves");
    EXPECT_EQ(printed.status, 0);
    EXPECT_EQ(json::parse(printed.output), document);

    // A registration whose file cannot be written is still registered, and
    // says so before failing.
    const CommandResult unpublished =
        tool("--json register --id 6000 --deposit 6 --publish /nonexistent-dir/leaves.json");
    EXPECT_EQ(unpublished.status, 5);
    EXPECT_EQ(json::parse(unpublished.output.substr(0, unpublished.output.find('\n')))["index"],
              5);
    EXPECT_EQ(tool_json("status")["leaves"], 6);
    EXPECT_EQ(tool("register --id 7000 --deposit 7 --publish " + path).status, 0);
    std::ifstream republished(path);
    EXPECT_EQ(json::parse(republished)["leaves"].size(), 7u);
}

TEST_F(Cli, RevokeRebuildPrune) {
    const Fr k = Fr::from_u64(424242);
    const Fr id = libverify::poseidon(&k, 1);
    ASSERT_EQ(tool("register --id " + fr_to_decimal(id) + " --deposit 10").status, 0);
    ASSERT_EQ(tool("register --id 99 --deposit 10").status, 0);

    const Fr a = Fr::from_u64(7);
    const Fr x1 = Fr::from_u64(11);
    const Fr x2 = Fr::from_u64(13);
    Connection connection = server_.connect();
    connection.run({"XADD", "zkcredit:evidence:double-spend", "*", "k", fr_to_hex(k), "id",
                    fr_to_hex(id), "nullifier", fr_to_hex(a), "x1", fr_to_hex(x1), "y1",
                    fr_to_hex(k + a * x1), "x2", fr_to_hex(x2), "y2", fr_to_hex(k + a * x2),
                    "minute", "1700000040"});
    connection.run({"XADD", "zkcredit:evidence:double-spend", "*", "k", fr_to_hex(k)});

    const std::string published = server_.dir() + "/leaves.json";
    const json revoked = tool_json("revoke --from-evidence --publish " + published);
    ASSERT_EQ(revoked["processed"].size(), 2u);
    {
        std::ifstream file(published);
        const json document = json::parse(file);
        EXPECT_EQ(document["leaves"][0], fr_to_hex(Fr::zero()));
        EXPECT_EQ(document["root"], revoked["processed"][0]["root"]);
    }
    EXPECT_EQ(revoked["processed"][0]["action"], "revoked");
    EXPECT_EQ(revoked["processed"][0]["index"], 0);
    EXPECT_EQ(revoked["processed"][0]["id"], fr_to_hex(id));
    EXPECT_EQ(revoked["processed"][1]["action"], "rejected");
    EXPECT_EQ(tool_json("revoke --from-evidence")["processed"].size(), 0u);

    const json status = tool_json("status");
    EXPECT_EQ(status["revoked"], 1);
    EXPECT_EQ(status["roots"].size(), 1u);
    EXPECT_EQ(status["root"], revoked["processed"][0]["root"]);

    EXPECT_EQ(tool_json("rebuild")["differed"], false);
    connection.run({"HDEL", "zkcredit:registry:nodes", "1:0"});
    EXPECT_EQ(tool_json("rebuild --check", 1)["repaired"], false);
    const json repaired = tool_json("rebuild", 1);
    EXPECT_EQ(repaired["missing"], 1);
    EXPECT_EQ(repaired["repaired"], true);
    EXPECT_EQ(tool("rebuild").status, 0);

    EXPECT_EQ(tool_json("prune-roots --older-than 0")["removed"], 0);
}

TEST_F(Cli, WatchRevokesAsEvidenceArrivesAndStopsOnSigterm) {
    const Fr k = Fr::from_u64(5150);
    const Fr id = libverify::poseidon(&k, 1);
    ASSERT_EQ(tool("register --id " + fr_to_decimal(id) + " --deposit 10").status, 0);

    const std::string out_path = server_.dir() + "/watch.out";
    const std::string address = server_.address();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDOUT_FILENO);
        execl(ZKC_REGISTRY_TOOL, ZKC_REGISTRY_TOOL, "--redis", address.c_str(), "--json", "watch",
              static_cast<char*>(nullptr));
        _exit(127);
    }

    const Fr a = Fr::from_u64(3);
    Connection connection = server_.connect();
    connection.run({"XADD", "zkcredit:evidence:double-spend", "*", "k", fr_to_hex(k), "id",
                    fr_to_hex(id), "nullifier", fr_to_hex(a), "x1", fr_to_hex(Fr::from_u64(1)),
                    "y1", fr_to_hex(k + a), "x2", fr_to_hex(Fr::from_u64(2)), "y2",
                    fr_to_hex(k + a + a), "minute", "0"});

    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::ifstream file(out_path);
        std::getline(file, line);
    }
    kill(pid, SIGTERM);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ASSERT_FALSE(line.empty());
    const json outcome = json::parse(line);
    EXPECT_EQ(outcome["action"], "revoked");
    EXPECT_EQ(outcome["id"], fr_to_hex(id));
}

}  // namespace
}  // namespace zkregistry
