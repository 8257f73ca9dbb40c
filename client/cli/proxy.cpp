// zkcredit proxy: a local HTTP endpoint that pays every request it forwards
// to one deployment (docs/client.md §6).
//
// Two threads. The event loop (libevent's evhttp: parsing, limits, time-outs
// and keep-alive are libevent's) accepts local requests, checks them and
// queues them; one worker pays for them in order with the identity's Wallet
// (one refund chain, docs/protocol.md §5.3) and hands the answer back piece
// by piece. The worker never touches an evhttp object: it posts deliveries
// to the loop, which writes them to the local client if it is still there.
// A client that leaves does not stop a paid request: its answer is read to
// the end (the voucher comes last) and dropped.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "cli.hpp"
#include "zkclient/openai_stream.hpp"
#include "zkclient/payment.hpp"
#include "zkclient/private_file.hpp"

namespace zkcredit_cli {

namespace {

using nlohmann::json;
using zkclient::ClientError;
using zkclient::ExitCode;

constexpr char kStatusPath[] = "/zkcredit/proxy/status";

// Request headers of the local client that reach the gateway. Everything
// else stays here: Authorization (the local token), cookies, and the
// per-installation headers SDKs add (X-Stainless-OS, runtime versions,
// User-Agent), which would let the provider link requests that the proofs
// keep apart. Nor Accept-Encoding: the SSE filters read plain text.
constexpr const char* kForwardedHeaders[] = {"Content-Type", "Accept", "OpenAI-Beta"};

// Response headers that describe the gateway's connection, not the answer;
// evhttp frames the local answer itself.
constexpr const char* kHopByHopHeaders[] = {"Connection", "Keep-Alive",     "Transfer-Encoding",
                                            "Content-Length", "TE",         "Trailer",
                                            "Upgrade",    "Proxy-Authenticate"};

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// Whether a gateway response header reaches the local client: not
// zkcredit's own (the voucher, the challenge) and not hop-by-hop.
bool passes_to_client(const std::string& name, const std::string& value) {
    if (istarts_with(name, "ZKCredit-")) return false;
    if (iequals(name, "WWW-Authenticate") && istarts_with(value, "ZKCredit")) return false;
    for (const char* h : kHopByHopHeaders) {
        if (iequals(name, h)) return false;
    }
    return true;
}

const char* method_name(evhttp_cmd_type command) {
    switch (command) {
        case EVHTTP_REQ_GET: return "GET";
        case EVHTTP_REQ_POST: return "POST";
        case EVHTTP_REQ_HEAD: return "HEAD";
        case EVHTTP_REQ_PUT: return "PUT";
        case EVHTTP_REQ_DELETE: return "DELETE";
        case EVHTTP_REQ_OPTIONS: return "OPTIONS";
        case EVHTTP_REQ_PATCH: return "PATCH";
        default: return nullptr;
    }
}

// One piece of an answer, from the worker to the loop.
struct Delivery {
    enum class Kind { head, body, end, reply, abort };
    explicit Delivery(Kind k) : kind(k) {}
    Kind kind;
    long status = 0;
    std::string code;  // reply: the error code
    std::vector<std::pair<std::string, std::string>> headers;
    std::string data;
};

struct Job {
    zkclient::HttpRequest request;
    // The loop thread's only: null once the local client is gone.
    evhttp_request* local = nullptr;
    // Set by the loop when the client goes; read by the worker, which then
    // skips a request not yet sent (nothing paid).
    std::atomic<bool> gone{false};
    // stream_options.include_usage was added: the usage chunk is removed
    // from the answer.
    bool usage_added = false;
};

[[noreturn]] void usage_error(const std::string& message) {
    throw ClientError(ExitCode::usage, message + " (see zkcredit --help)");
}

// An OpenAI-style error body, which SDKs show as the error's message.
std::string error_body(const std::string& code, const std::string& message) {
    return json{{"error", {{"message", message}, {"type", "zkcredit_proxy"}, {"code", code}}}}
        .dump();
}

struct ListenAddress {
    std::string host;  // as evhttp binds it
    uint16_t port = 0;
    bool loopback = false;
};

ListenAddress parse_listen(const std::string& text) {
    ListenAddress out;
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) {
        usage_error("--listen needs HOST:PORT");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string port = text.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
        std::stoul(port) > 65535) {
        usage_error("--listen: bad port " + port);
    }
    in_addr v4;
    in6_addr v6;
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        out.loopback = (ntohl(v4.s_addr) >> 24) == 127;
    } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        out.loopback = IN6_IS_ADDR_LOOPBACK(&v6);
    } else {
        usage_error("--listen needs a numeric address (127.0.0.1:8402, [::1]:8402)");
    }
    out.host = host;
    out.port = static_cast<uint16_t>(std::stoul(port));
    return out;
}

class Proxy {
public:
    Proxy(const Options& options, zkclient::Wallet& wallet, const zkclient::Url& deployment)
        : options_(options), wallet_(wallet), deployment_(deployment) {}

    int run();

private:
    static void on_request(evhttp_request* req, void* self) {
        static_cast<Proxy*>(self)->handle(req);
    }
    static void on_close(evhttp_connection* connection, void* self) {
        static_cast<Proxy*>(self)->closed(connection);
    }
    static void on_wake(evutil_socket_t, short, void* self) {
        static_cast<Proxy*>(self)->drain();
    }
    static void on_signal(evutil_socket_t, short, void* self) {
        event_base_loopbreak(static_cast<Proxy*>(self)->base_);
    }

    void handle(evhttp_request* req);
    void closed(evhttp_connection* connection);
    void drain();
    void reply(evhttp_request* req, int status, const std::string& code,
               const std::string& message);
    bool host_allowed(const char* host) const;
    bool authorized(evhttp_request* req) const;
    bool in_deployment(const std::string& target) const;
    void serve_status(evhttp_request* req);
    void work();
    void pay(const std::shared_ptr<Job>& job);
    void post(const std::shared_ptr<Job>& job, Delivery delivery);
    void snapshot_state();

    const Options& options_;
    zkclient::Wallet& wallet_;  // the worker's only, after run() starts it
    const zkclient::Url deployment_;
    ListenAddress listen_;
    std::string token_digest_;  // BLAKE2b of the local token; empty: none
    event_base* base_ = nullptr;
    event* wake_ = nullptr;

    // The loop thread's: jobs by local connection, to mark them gone.
    std::unordered_map<evhttp_connection*, std::vector<std::weak_ptr<Job>>> connections_;
    uint64_t refused_full_ = 0;

    std::mutex mutex_;  // guards everything below
    std::condition_variable work_ready_;
    std::deque<std::shared_ptr<Job>> queue_;
    bool working_ = false;  // the worker is paying for a request
    bool stopping_ = false;
    std::deque<std::pair<std::shared_ptr<Job>, Delivery>> outbox_;
    json state_snapshot_;  // the wallet's state as the status endpoint shows it
    json last_payment_;    // how the last answered request was paid
    uint64_t served_ = 0, failed_ = 0;
};

void Proxy::reply(evhttp_request* req, int status, const std::string& code,
                  const std::string& message) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", "application/json");
    evhttp_add_header(headers, "Cache-Control", "no-store");
    if (status == 503) evhttp_add_header(headers, "Retry-After", "1");
    evbuffer* body = evbuffer_new();
    const std::string text = error_body(code, message);
    evbuffer_add(body, text.data(), text.size());
    evhttp_send_reply(req, status, nullptr, body);
    evbuffer_free(body);
}

// The Host a browser page on another origin cannot forge into ours: only
// the listen address (and localhost for loopback) is served, which stops
// DNS-rebinding pages from spending the credit.
bool Proxy::host_allowed(const char* host) const {
    if (host == nullptr) return true;  // HTTP/1.0 without Host: no browser sends that
    const std::string port = ":" + std::to_string(listen_.port);
    const std::string_view h(host);
    if (listen_.loopback) {
        for (const char* name : {"127.0.0.1", "localhost", "[::1]"}) {
            if (iequals(h, std::string(name) + port)) return true;
        }
    }
    const std::string self =
        listen_.host.find(':') != std::string::npos ? "[" + listen_.host + "]" : listen_.host;
    return iequals(h, self + port);
}

bool Proxy::authorized(evhttp_request* req) const {
    if (token_digest_.empty()) return true;
    const char* value =
        evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (value == nullptr || !istarts_with(value, "Bearer ")) return false;
    const std::string_view token = std::string_view(value).substr(7);
    unsigned char digest[crypto_generichash_BYTES];
    crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(token.data()),
                       token.size(), nullptr, 0);
    const bool same = sodium_memcmp(digest, token_digest_.data(), sizeof digest) == 0;
    sodium_memzero(digest, sizeof digest);
    return same;
}

// Only targets below the deployment's path are forwarded.
bool Proxy::in_deployment(const std::string& target) const {
    std::string base = deployment_.target;
    const size_t query = base.find('?');
    if (query != std::string::npos) base.resize(query);
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.empty()) return true;
    if (target.compare(0, base.size(), base) != 0) return false;
    return target.size() == base.size() || target[base.size()] == '/' ||
           target[base.size()] == '?';
}

void Proxy::serve_status(evhttp_request* req) {
    json status;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        status = state_snapshot_;
        status["queue"] = {{"waiting", queue_.size()},
                           {"running", working_},
                           {"limit", options_.queue_limit},
                           {"refused_full", refused_full_}};
        status["requests"] = {{"answered", served_}, {"failed", failed_}};
        status["last_payment"] = last_payment_;
    }
    status["deployment"] = deployment_.origin + deployment_.target;
    const std::string text = status.dump(2) + "\n";
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", "application/json");
    evhttp_add_header(headers, "Cache-Control", "no-store");
    evbuffer* body = evbuffer_new();
    evbuffer_add(body, text.data(), text.size());
    evhttp_send_reply(req, 200, nullptr, body);
    evbuffer_free(body);
}

void Proxy::handle(evhttp_request* req) {
    if (!host_allowed(evhttp_find_header(evhttp_request_get_input_headers(req), "Host"))) {
        reply(req, 421, "wrong_host", "this proxy serves only its own address");
        return;
    }
    const char* uri = evhttp_request_get_uri(req);
    const std::string target = uri != nullptr ? uri : "";
    // Origin form only: an absolute target would ask for another host.
    bool clean = !target.empty() && target[0] == '/';
    for (unsigned char c : target) clean = clean && c > 0x20 && c != 0x7f;
    if (!clean) {
        reply(req, 400, "bad_target", "the request target must be a path (origin form)");
        return;
    }
    if (!authorized(req)) {
        reply(req, 401, "bad_token", "this proxy needs its local token as the bearer API key");
        return;
    }
    if (target == kStatusPath) {
        serve_status(req);
        return;
    }
    const char* method = method_name(evhttp_request_get_command(req));
    if (method == nullptr) {
        reply(req, 405, "bad_method", "method not supported");
        return;
    }
    if (!in_deployment(target)) {
        reply(req, 404, "outside_deployment",
              "this proxy forwards only below " + deployment_.origin + deployment_.target);
        return;
    }

    auto job = std::make_shared<Job>();
    zkclient::HttpRequest& request = job->request;
    request.method = method;
    request.url.origin = deployment_.origin;
    request.url.target = target;
    request.timeout_seconds = options_.timeout_seconds;
    evbuffer* input = evhttp_request_get_input_buffer(req);
    const size_t length = evbuffer_get_length(input);
    request.has_body = length != 0 || evhttp_find_header(evhttp_request_get_input_headers(req),
                                                         "Content-Length") != nullptr;
    request.body.resize(length);
    if (length != 0) evbuffer_copyout(input, request.body.data(), length);
    const std::string path = target.substr(0, target.find('?'));
    const std::string chat = "/chat/completions";
    if (request.method == "POST" && path.size() >= chat.size() &&
        path.compare(path.size() - chat.size(), chat.size(), chat) == 0) {
        job->usage_added = zkclient::request_stream_usage(request.body);
    }
    const evkeyvalq* in_headers = evhttp_request_get_input_headers(req);
    for (const evkeyval* h = in_headers->tqh_first; h != nullptr; h = h->next.tqe_next) {
        for (const char* allowed : kForwardedHeaders) {
            if (iequals(h->key, allowed)) {
                request.headers.push_back(std::string(allowed) + ": " + h->value);
            }
        }
    }

    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (queue_.size() >= options_.queue_limit) {
            ++refused_full_;
            reply(req, 503, "queue_full",
                  "too many requests are waiting for this identity (" +
                      std::to_string(options_.queue_limit) +
                      "); requests of one identity are paid one after another");
            return;
        }
        job->local = req;
        queue_.push_back(job);
    }
    evhttp_connection* connection = evhttp_request_get_connection(req);
    auto& jobs = connections_[connection];
    if (jobs.empty()) {
        evhttp_connection_set_closecb(connection, on_close, this);
        // The answer leaves in pieces (head, chunks, end): without this,
        // Nagle's algorithm holds each small piece for the client's delayed
        // ACK, tens of milliseconds each.
        const int on = 1;
        setsockopt(bufferevent_getfd(evhttp_connection_get_bufferevent(connection)), IPPROTO_TCP,
                   TCP_NODELAY, &on, sizeof on);
    }
    jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                              [](const std::weak_ptr<Job>& j) { return j.expired(); }),
               jobs.end());
    jobs.push_back(job);
    work_ready_.notify_one();
}

void Proxy::closed(evhttp_connection* connection) {
    const auto it = connections_.find(connection);
    if (it == connections_.end()) return;
    for (const auto& weak : it->second) {
        if (const auto job = weak.lock()) {
            job->local = nullptr;  // evhttp frees it with the connection
            job->gone = true;
        }
    }
    connections_.erase(it);
}

void Proxy::post(const std::shared_ptr<Job>& job, Delivery delivery) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        outbox_.emplace_back(job, std::move(delivery));
    }
    event_active(wake_, EV_READ, 0);
}

void Proxy::drain() {
    std::deque<std::pair<std::shared_ptr<Job>, Delivery>> pending;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending.swap(outbox_);
    }
    for (auto& [job, d] : pending) {
        evhttp_request* req = job->local;
        if (req == nullptr) continue;
        switch (d.kind) {
            case Delivery::Kind::head: {
                evkeyvalq* headers = evhttp_request_get_output_headers(req);
                for (const auto& [name, value] : d.headers) {
                    evhttp_add_header(headers, name.c_str(), value.c_str());
                }
                evhttp_send_reply_start(req, static_cast<int>(d.status), nullptr);
                break;
            }
            case Delivery::Kind::body: {
                evbuffer* chunk = evbuffer_new();
                evbuffer_add(chunk, d.data.data(), d.data.size());
                evhttp_send_reply_chunk(req, chunk);
                evbuffer_free(chunk);
                break;
            }
            case Delivery::Kind::end:
                evhttp_send_reply_end(req);
                job->local = nullptr;
                break;
            case Delivery::Kind::reply:
                reply(req, static_cast<int>(d.status), d.code, d.data);
                job->local = nullptr;
                break;
            case Delivery::Kind::abort: {
                // A cut answer must not look complete: end the connection.
                evhttp_connection* connection = evhttp_request_get_connection(req);
                job->local = nullptr;
                evhttp_connection_free(connection);
                break;
            }
        }
    }
}

// What the status endpoint shows of the state: no secret, no voucher, no
// nullifier.
void Proxy::snapshot_state() {
    const zkclient::State& state = wallet_.state();
    const zkclient::Balance b = zkclient::balance_of(state);
    json tickets = json::array();
    for (const zkclient::TicketRecord& t : state.tickets) {
        tickets.push_back({{"index", t.index},
                           {"status", zkclient::ticket_status_name(t.status)},
                           {"http_status", t.http_status},
                           {"refund", t.has_voucher ? json(t.refund) : json(nullptr)}});
    }
    json snapshot = {{"balance", zkclient::balance_json(b)},
                     {"next_ticket", state.chain_ticket()},
                     {"pending_vouchers", b.missing_vouchers},
                     {"tickets", tickets}};
    std::lock_guard<std::mutex> lock(mutex_);
    state_snapshot_ = std::move(snapshot);
}

void Proxy::pay(const std::shared_ptr<Job>& job) {
    bool head_sent = false;
    zkclient::UsageChunkFilter usage_filter;
    bool filter_usage = false;
    zkclient::HttpStream stream;
    stream.on_head = [&](const zkclient::HttpResponse& head) {
        const auto types = head.header_values("Content-Type");
        filter_usage = job->usage_added && types.size() == 1 &&
                       istarts_with(types[0], "text/event-stream");
        Delivery d(Delivery::Kind::head);
        d.status = head.status;
        for (const auto& [name, value] : head.headers) {
            if (passes_to_client(name, value)) d.headers.emplace_back(name, value);
        }
        head_sent = true;
        post(job, std::move(d));
    };
    const auto pass_on = [&](std::string data) {
        if (data.empty()) return;
        Delivery d(Delivery::Kind::body);
        d.data = std::move(data);
        post(job, std::move(d));
    };
    stream.on_body = [&](std::string_view piece) {
        pass_on(filter_usage ? usage_filter.feed(piece) : std::string(piece));
    };
    stream.on_end = [&] {
        if (filter_usage) pass_on(usage_filter.finish());
        post(job, Delivery(Delivery::Kind::end));
    };
    int status = 500;
    std::string code = "internal_error", message;
    try {
        const zkclient::PaymentResult result = wallet_.pay(job->request, &stream);
        snapshot_state();  // before the count: who sees it answered sees its state
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++served_;
            last_payment_ = result.paid ? json{{"ticket", result.ticket},
                                               {"http_status", result.response.status},
                                               {"proof", result.proof_kind},
                                               {"proving_ms", result.proving_seconds * 1e3},
                                               {"resends", result.resends},
                                               {"proved_again", result.reproved}}
                                        : json(nullptr);
        }
        if (result.outcome != ExitCode::ok) note(result.message);
        return;
    } catch (const ClientError& e) {
        message = e.what();
        switch (e.code()) {
            case ExitCode::insufficient: status = 402, code = "insufficient_credit"; break;
            case ExitCode::network: status = 502, code = "gateway_unreachable"; break;
            case ExitCode::protocol: status = 502, code = "bad_gateway_answer"; break;
            case ExitCode::tree: status = 500, code = "not_synced"; break;
            default: break;
        }
    } catch (const std::exception& e) {
        message = std::string("internal error: ") + e.what();
    }
    note(message);
    snapshot_state();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++failed_;
    }
    if (head_sent) {
        post(job, Delivery(Delivery::Kind::abort));
    } else {
        Delivery d(Delivery::Kind::reply);
        d.status = status;
        d.code = code;
        d.data = message;
        post(job, std::move(d));
    }
}

void Proxy::work() {
    for (;;) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = queue_.front();
            queue_.pop_front();
            working_ = true;
        }
        // A client gone before its turn has cost nothing: skip it.
        const bool paying = !job->gone;
        if (paying) pay(job);
        bool idle;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            working_ = false;
            idle = queue_.empty();
        }
        // Precompute the next proof only when nobody waits: a waiting
        // request would prove in full against it for the two cores.
        if (idle && paying) start_background_precompute(options_);
    }
}

int Proxy::run() {
    listen_ = parse_listen(options_.listen);
    if (!listen_.loopback && options_.token_file.empty() &&
        std::getenv("ZKCREDIT_PROXY_TOKEN") == nullptr) {
        usage_error("a proxy listening beyond loopback needs a local token (--token-file)");
    }
    std::string token;
    if (!options_.token_file.empty()) {
        if (!zkclient::private_file_read(options_.token_file, token)) {
            usage_error("cannot read " + options_.token_file);
        }
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    } else if (const char* env = std::getenv("ZKCREDIT_PROXY_TOKEN")) {
        token = env;
    }
    if (!token.empty()) {
        token_digest_.resize(crypto_generichash_BYTES);
        crypto_generichash(reinterpret_cast<unsigned char*>(token_digest_.data()),
                           token_digest_.size(), reinterpret_cast<const unsigned char*>(token.data()),
                           token.size(), nullptr, 0);
        sodium_memzero(token.data(), token.size());
    }

    if (evthread_use_pthreads() != 0) throw std::runtime_error("libevent: no thread support");
    std::unique_ptr<event_base, void (*)(event_base*)> base(event_base_new(), event_base_free);
    if (!base) throw std::runtime_error("libevent: cannot create an event base");
    base_ = base.get();
    std::unique_ptr<evhttp, void (*)(evhttp*)> http(evhttp_new(base_), evhttp_free);
    if (!http) throw std::runtime_error("libevent: cannot create the HTTP server");
    evhttp_set_max_headers_size(http.get(), options_.max_header_bytes);
    evhttp_set_max_body_size(http.get(), options_.max_body_bytes);
    evhttp_set_timeout(http.get(), options_.local_timeout_seconds);
    evhttp_set_allowed_methods(http.get(), EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                               EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http.get(), on_request, this);
    evhttp_bound_socket* bound =
        evhttp_bind_socket_with_handle(http.get(), listen_.host.c_str(), listen_.port);
    if (bound == nullptr) {
        throw ClientError(ExitCode::network, "cannot listen on " + options_.listen);
    }
    sockaddr_storage address{};
    socklen_t address_length = sizeof address;
    getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&address),
                &address_length);
    listen_.port = ntohs(address.ss_family == AF_INET6
                             ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                             : reinterpret_cast<sockaddr_in*>(&address)->sin_port);

    std::unique_ptr<event, void (*)(event*)> wake(event_new(base_, -1, 0, on_wake, this),
                                                  event_free);
    wake_ = wake.get();
    std::unique_ptr<event, void (*)(event*)> sigint(evsignal_new(base_, SIGINT, on_signal, this),
                                                    event_free);
    std::unique_ptr<event, void (*)(event*)> sigterm(
        evsignal_new(base_, SIGTERM, on_signal, this), event_free);
    event_add(sigint.get(), nullptr);
    event_add(sigterm.get(), nullptr);
    signal(SIGPIPE, SIG_IGN);

    snapshot_state();
    std::thread worker([this] { work(); });
    const std::string host =
        listen_.host.find(':') != std::string::npos ? "[" + listen_.host + "]" : listen_.host;
    std::string base_path = deployment_.target;
    if (base_path == "/") base_path.clear();
    // The one line a user needs (tests read it too).
    std::cerr << "zkcredit: proxy for " << deployment_.origin << deployment_.target
              << " ready; set base_url=http://" << host << ":" << listen_.port << base_path
              << std::endl;
    event_base_dispatch(base_);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    work_ready_.notify_one();
    worker.join();
    note("proxy stopped");
    return 0;
}

}  // namespace

int cmd_proxy(const Options& options) {
    const zkclient::Url deployment = zkclient::url_parse(options.url);
    zkclient::StateLock lock(options.state_path, options.wait_for_lock);
    zkclient::PaymentSettings settings = payment_settings(options);
    // What `zkcredit request` leaves to its user, the proxy does itself
    // (docs/protocol.md §10): resend the identical request after a 503, and
    // sync and prove again after a stale root.
    settings.resend_limit = 2;
    settings.resync_on_stale_root = true;
    zkclient::Wallet wallet(settings, cli_hooks());
    zkclient::require_synced(wallet.state());
    Proxy proxy(options, wallet, deployment);
    return proxy.run();
}

}  // namespace zkcredit_cli
