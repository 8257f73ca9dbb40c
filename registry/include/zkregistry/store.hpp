#pragma once
// A small synchronous Redis client over hiredis for the operator tool. The
// gateway has its own asynchronous client on nginx's event loop; this one
// may block.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

namespace zkregistry {

struct ReplyDeleter {
    void operator()(redisReply* reply) const noexcept { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
using Command = std::vector<std::string>;

class Connection {
public:
    // "host:port", "[v6]:port" or "unix:/path". Every command, including a
    // blocking XREAD, must answer within `timeout`.
    static Connection open(std::string_view address, std::chrono::milliseconds timeout);

    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    // One command. Throws Error(store) when the connection fails or Redis
    // answers an error.
    Reply run(const Command& command);

    // Several commands in one round trip; replies in order, with the same
    // error handling as run().
    std::vector<Reply> pipeline(const std::vector<Command>& commands);

    // MULTI, the commands, EXEC in one round trip. Returns the EXEC reply (an
    // array of the commands' replies), or nullptr when a WATCHed key changed
    // and nothing was applied. Throws when any queued command fails.
    Reply transaction(const std::vector<Command>& commands);

private:
    explicit Connection(redisContext* context) : context_(context) {}
    void append(const Command& command);
    Reply receive(const Command& command);
    [[noreturn]] void fail(const std::string& what);

    redisContext* context_ = nullptr;
};

// Accessors that throw Error(store) when a reply does not have the expected
// shape: a store holding something else than the registry wrote is an error,
// never silently read as empty.
std::string reply_string(const redisReply* reply, std::string_view what);
long long reply_integer(const redisReply* reply, std::string_view what);
bool reply_is_nil(const redisReply* reply);
void require_array(const redisReply* reply, std::string_view what);
const redisReply* reply_element(const redisReply* reply, size_t i, std::string_view what);

}  // namespace zkregistry
