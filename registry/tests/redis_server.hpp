#pragma once
// A private redis-server for one test: a free loopback port, its own
// directory, no persistence unless asked for.

#include <sys/types.h>

#include <string>

#include "zkregistry/store.hpp"

namespace zkregistry::testing {

class RedisServer {
public:
    // persistent: RDB snapshots and an fsync'd append-only file, so that a
    // stop() and start() keep the data.
    explicit RedisServer(bool persistent = false);
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;
    ~RedisServer();

    // SIGTERM: Redis saves (when persistent) and exits; waits for it.
    void stop();
    // Starts again on the same port and directory; waits until it answers.
    void start();

    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    std::string unix_address() const { return "unix:" + dir_ + "/redis.sock"; }
    const std::string& dir() const { return dir_; }
    Connection connect() const;

private:
    bool persistent_;
    int port_ = 0;
    std::string dir_;
    pid_t pid_ = -1;
};

// Runs a shell command; returns its exit status and what it wrote to stdout.
struct CommandResult {
    int status = -1;
    std::string output;
};
CommandResult run_command(const std::string& command);

}  // namespace zkregistry::testing
