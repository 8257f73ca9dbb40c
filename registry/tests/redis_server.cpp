#include "redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "zkregistry/error.hpp"

namespace zkregistry::testing {

namespace {

int free_loopback_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        throw std::runtime_error("socket failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

RedisServer::RedisServer(bool persistent) : persistent_(persistent) {
    char pattern[] = "/tmp/zkregistry-redis-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    // Another process may take the port between the probe and redis-server's
    // bind (ctest runs tests in parallel): try a few.
    for (int attempt = 0;; ++attempt) {
        port_ = free_loopback_port();
        try {
            start();
            return;
        } catch (const std::runtime_error&) {
            if (attempt == 4) {
                std::error_code ignored;
                std::filesystem::remove_all(dir_, ignored);
                throw;
            }
        }
    }
}

RedisServer::~RedisServer() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void RedisServer::start() {
    const std::string port = std::to_string(port_);
    const std::string socket_path = dir_ + "/redis.sock";
    const std::string log = dir_ + "/redis.log";
    std::vector<std::string> args = {"redis-server", "--port", port, "--bind", "127.0.0.1",
                                     "--dir", dir_, "--unixsocket", socket_path,
                                     "--daemonize", "no", "--logfile", log};
    if (persistent_) {
        args.insert(args.end(), {"--save", "3600 1", "--appendonly", "yes", "--appendfsync",
                                 "always"});
    } else {
        args.insert(args.end(), {"--save", "", "--appendonly", "no"});
    }
    std::vector<char*> argv;
    for (std::string& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);

    pid_ = fork();
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
        const int null = open("/dev/null", O_RDWR);
        dup2(null, STDOUT_FILENO);
        execvp("redis-server", argv.data());
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            // The socket in our own directory: only our server answers there,
            // and it listens there only after its TCP bind succeeded.
            Connection connection = Connection::open(unix_address(), std::chrono::seconds(1));
            const Reply pong = connection.run({"PING"});
            if (reply_string(pong.get(), "PING") == "PONG") {
                return;
            }
        } catch (const Error&) {
            // Loading or not listening yet.
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("redis-server exited; see " + log);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    throw std::runtime_error("redis-server did not answer within 10 s");
}

void RedisServer::stop() {
    if (pid_ <= 0) {
        return;
    }
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

Connection RedisServer::connect() const {
    return Connection::open(address(), std::chrono::seconds(10));
}

CommandResult run_command(const std::string& command) {
    CommandResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        throw std::runtime_error("popen failed: " + command);
    }
    char buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
        result.output.append(buffer, n);
    }
    const int status = pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace zkregistry::testing
