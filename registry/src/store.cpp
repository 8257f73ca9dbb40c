#include "zkregistry/store.hpp"

#include <sys/time.h>

#include <cstdlib>

#include "zkregistry/error.hpp"

namespace zkregistry {

namespace {

timeval to_timeval(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
    return tv;
}

[[noreturn]] void bad_reply(std::string_view what, const char* expected) {
    throw Error(ErrorKind::store, "redis: unexpected reply for " + std::string(what) +
                                      " (expected " + expected + ")");
}

}  // namespace

Connection Connection::open(std::string_view address, std::chrono::milliseconds timeout) {
    const timeval tv = to_timeval(timeout);
    redisContext* context = nullptr;
    constexpr std::string_view kUnix = "unix:";
    if (address.substr(0, kUnix.size()) == kUnix) {
        const std::string path(address.substr(kUnix.size()));
        if (path.empty()) {
            throw Error(ErrorKind::invalid_input, "--redis unix: needs a socket path");
        }
        context = redisConnectUnixWithTimeout(path.c_str(), tv);
    } else {
        const size_t colon = address.rfind(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) {
            throw Error(ErrorKind::invalid_input,
                        "--redis must be host:port, [v6]:port or unix:/path");
        }
        std::string host(address.substr(0, colon));
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        const std::string port_text(address.substr(colon + 1));
        char* end = nullptr;
        const long port = std::strtol(port_text.c_str(), &end, 10);
        if (*end != '\0' || port < 1 || port > 65535 || port_text[0] == '+' ||
            port_text[0] == '-') {
            throw Error(ErrorKind::invalid_input, "--redis: bad port \"" + port_text + "\"");
        }
        context = redisConnectWithTimeout(host.c_str(), static_cast<int>(port), tv);
    }
    if (context == nullptr) {
        throw Error(ErrorKind::store, "redis: out of memory");
    }
    Connection connection(context);
    if (context->err != 0) {
        connection.fail("connect to " + std::string(address));
    }
    if (redisSetTimeout(context, tv) != REDIS_OK) {
        connection.fail("set timeout");
    }
    return connection;
}

Connection::Connection(Connection&& other) noexcept : context_(other.context_) {
    other.context_ = nullptr;
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        if (context_ != nullptr) {
            redisFree(context_);
        }
        context_ = other.context_;
        other.context_ = nullptr;
    }
    return *this;
}

Connection::~Connection() {
    if (context_ != nullptr) {
        redisFree(context_);
    }
}

void Connection::fail(const std::string& what) {
    throw Error(ErrorKind::store, "redis: " + what + ": " + context_->errstr);
}

void Connection::append(const Command& command) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    argv.reserve(command.size());
    lens.reserve(command.size());
    for (const std::string& arg : command) {
        argv.push_back(arg.data());
        lens.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lens.data()) != REDIS_OK) {
        fail("queue " + command.front());
    }
}

Reply Connection::receive(const Command& command) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK) {
        fail(command.front());
    }
    Reply reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) {
        throw Error(ErrorKind::store, "redis: " + command.front() + ": " +
                                          std::string(reply->str, reply->len));
    }
    return reply;
}

Reply Connection::run(const Command& command) {
    append(command);
    return receive(command);
}

std::vector<Reply> Connection::pipeline(const std::vector<Command>& commands) {
    for (const Command& command : commands) {
        append(command);
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (const Command& command : commands) {
        replies.push_back(receive(command));
    }
    return replies;
}

Reply Connection::transaction(const std::vector<Command>& commands) {
    static const Command multi{"MULTI"};
    static const Command exec{"EXEC"};
    append(multi);
    for (const Command& command : commands) {
        append(command);
    }
    append(exec);
    // Every reply must be read even after a failure, or the next command on
    // this connection would receive a stale one; so errors are collected.
    std::string failure;
    auto collect = [&](const Command& command) {
        try {
            return receive(command);
        } catch (const Error& e) {
            if (failure.empty()) {
                failure = e.what();
            }
            return Reply();
        }
    };
    collect(multi);
    for (const Command& command : commands) {
        collect(command);
    }
    Reply result = collect(exec);
    if (!failure.empty()) {
        throw Error(ErrorKind::store, failure);
    }
    if (result->type == REDIS_REPLY_NIL) {
        return nullptr;
    }
    if (result->type != REDIS_REPLY_ARRAY) {
        bad_reply("EXEC", "an array");
    }
    for (size_t i = 0; i < result->elements; ++i) {
        const redisReply* element = result->element[i];
        if (element->type == REDIS_REPLY_ERROR) {
            throw Error(ErrorKind::store, "redis: " + commands[i].front() +
                                              " in a transaction: " +
                                              std::string(element->str, element->len));
        }
    }
    return result;
}

std::string reply_string(const redisReply* reply, std::string_view what) {
    if (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS) {
        bad_reply(what, "a string");
    }
    return std::string(reply->str, reply->len);
}

long long reply_integer(const redisReply* reply, std::string_view what) {
    if (reply->type != REDIS_REPLY_INTEGER) {
        bad_reply(what, "an integer");
    }
    return reply->integer;
}

bool reply_is_nil(const redisReply* reply) { return reply->type == REDIS_REPLY_NIL; }

void require_array(const redisReply* reply, std::string_view what) {
    if (reply->type != REDIS_REPLY_ARRAY) {
        bad_reply(what, "an array");
    }
}

const redisReply* reply_element(const redisReply* reply, size_t i, std::string_view what) {
    if (reply->type != REDIS_REPLY_ARRAY || i >= reply->elements) {
        bad_reply(what, "a longer array");
    }
    return reply->element[i];
}

}  // namespace zkregistry
