#include "zkclient/state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sodium.h>
#include <nlohmann/json.hpp>

#include "libverify/decimal.hpp"

#include "zkclient/credit.hpp"
#include "zkclient/error.hpp"
#include "zkclient/private_file.hpp"

namespace zkclient {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string& what) { throw ClientError(ExitCode::state, what); }

[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
    fail(what + " " + path + ": " + std::strerror(errno));
}

constexpr TicketStatus kStatuses[] = {TicketStatus::reserved, TicketStatus::sent,
                                      TicketStatus::served, TicketStatus::refused,
                                      TicketStatus::spent};

TicketStatus status_from_name(const std::string& name) {
    for (TicketStatus s : kStatuses) {
        if (name == ticket_status_name(s)) return s;
    }
    fail("unknown ticket status \"" + name + "\" in the state file");
}

Fr hex_field(const json& value, const char* what) {
    Fr out;
    if (!value.is_string() || fr_from_hex(value.get<std::string>(), out) != libverify::Status::ok) {
        fail(std::string("malformed ") + what + " in the state file");
    }
    return out;
}

Fr dec_field(const json& value, const char* what) {
    Fr out;
    if (!value.is_string() ||
        libverify::fr_from_decimal(value.get<std::string>(), out) != libverify::Status::ok) {
        fail(std::string("malformed ") + what + " in the state file");
    }
    return out;
}

}  // namespace

const char* ticket_status_name(TicketStatus status) noexcept {
    switch (status) {
        case TicketStatus::reserved:
            return "reserved";
        case TicketStatus::sent:
            return "sent";
        case TicketStatus::served:
            return "served";
        case TicketStatus::refused:
            return "refused";
        case TicketStatus::spent:
            return "spent";
    }
    return "reserved";
}

const TicketRecord* State::head() const noexcept {
    const TicketRecord* newest = nullptr;
    for (const TicketRecord& t : tickets) {
        if (t.has_voucher && (newest == nullptr || t.index > newest->index)) newest = &t;
    }
    return newest;
}

uint32_t State::chain_ticket() const noexcept {
    const TicketRecord* h = head();
    if (h == nullptr) return 0;
    return h->index == UINT32_MAX ? UINT32_MAX : h->index + 1;
}

uint64_t State::refund_total() const noexcept {
    const TicketRecord* h = head();
    return h == nullptr ? 0 : h->refund_total + h->refund;
}

const TicketRecord* State::ticket(uint32_t index) const noexcept {
    for (const TicketRecord& t : tickets) {
        if (t.index == index) return &t;
    }
    return nullptr;
}

TicketRecord* State::ticket(uint32_t index) noexcept {
    return const_cast<TicketRecord*>(std::as_const(*this).ticket(index));
}

std::string base64_encode(std::string_view bytes) {
    std::string text(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    text.pop_back();  // the terminator
    return text;
}

bool base64_decode(std::string_view text, std::string& out) {
    std::string bytes(text.size() / 4 * 3 + 3, '\0');
    size_t length = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(),
                          text.data(), text.size(), nullptr, &length, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size()) {
        return false;
    }
    bytes.resize(length);
    out = std::move(bytes);
    return true;
}

std::string state_to_json(const State& state) {
    json doc;
    doc["version"] = kStateVersion;
    doc["secret"] = fr_to_hex(state.k);
    doc["deposit"] = state.has_deposit ? json(state.deposit) : json(nullptr);
    const DeploymentInfo& d = state.deployment;
    if (d.known) {
        doc["deployment"] = {{"realm", d.realm},
                             {"scope", fr_to_dec(d.scope)},
                             {"c_max", d.c_max},
                             {"key", d.key},
                             {"keys", d.keys},
                             {"origin", d.origin},
                             {"refunds_url", d.refunds_url}};
    } else {
        doc["deployment"] = nullptr;
    }
    const TreeInfo& t = state.tree;
    if (t.synced) {
        json path = json::array();
        for (const Fr& e : t.path) path.push_back(fr_to_hex(e));
        doc["tree"] = {{"depth", t.depth},
                       {"root", fr_to_hex(t.root)},
                       {"leaf_index", t.leaf_index},
                       {"leaf_count", t.leaf_count},
                       {"path", path},
                       {"source", t.source}};
    } else {
        doc["tree"] = nullptr;
    }
    doc["next_ticket"] = state.next_ticket;
    json tickets = json::array();
    for (const TicketRecord& r : state.tickets) {
        json entry = {{"index", r.index},
                      {"nullifier", fr_to_hex(r.nullifier)},
                      {"c_new", fr_to_dec(r.c_new)},
                      {"refund_total", r.refund_total},
                      {"salt", fr_to_dec(r.salt)},
                      {"status", ticket_status_name(r.status)},
                      {"http_status", r.http_status},
                      {"method", r.method},
                      {"url", r.url}};
        if (r.has_voucher) {
            entry["voucher"] = {{"value", r.voucher}, {"refund", r.refund}, {"key", r.voucher_key}};
        } else {
            entry["voucher"] = nullptr;
        }
        if (r.has_pending_request) {
            entry["pending_request"] = {{"credential", r.credential},
                                        {"headers", r.request_headers},
                                        {"has_body", r.request_has_body},
                                        {"body_base64", base64_encode(r.request_body)}};
        }
        if (!r.policy_receipt.empty()) entry["policy_receipt"] = r.policy_receipt;
        tickets.push_back(std::move(entry));
    }
    doc["tickets"] = std::move(tickets);
    if (state.expires_at != 0) doc["expires_at"] = state.expires_at;
    const WithdrawalRecord& w = state.withdrawal;
    if (w.started) {
        doc["withdrawal"] = {{"recipient", w.recipient}, {"tickets", w.tickets},
                             {"transaction", w.transaction}, {"deadline", w.deadline},
                             {"finalized", w.finalized}};
    }
    return doc.dump(2) + "\n";
}

State state_from_json(const std::string& text) {
    try {
        const json doc = json::parse(text);
        if (!doc.is_object() || doc.value("version", 0) != kStateVersion) {
            fail("not a version 1 zkcredit state file");
        }
        State state;
        state.k = hex_field(doc.at("secret"), "secret");
        if (!doc.at("deposit").is_null()) {
            state.has_deposit = true;
            state.deposit = doc.at("deposit").get<uint64_t>();
        }
        const json& d = doc.at("deployment");
        if (!d.is_null()) {
            DeploymentInfo& info = state.deployment;
            info.known = true;
            info.realm = d.at("realm").get<std::string>();
            info.scope = dec_field(d.at("scope"), "scope");
            info.c_max = d.at("c_max").get<uint64_t>();
            info.key = d.at("key").get<std::string>();
            info.keys = d.at("keys").get<std::vector<std::string>>();
            info.origin = d.at("origin").get<std::string>();
            info.refunds_url = d.at("refunds_url").get<std::string>();
        }
        const json& t = doc.at("tree");
        if (!t.is_null()) {
            TreeInfo& tree = state.tree;
            tree.synced = true;
            tree.depth = t.at("depth").get<uint32_t>();
            tree.root = hex_field(t.at("root"), "root");
            tree.leaf_index = t.at("leaf_index").get<uint64_t>();
            tree.leaf_count = t.at("leaf_count").get<uint64_t>();
            for (const json& e : t.at("path")) tree.path.push_back(hex_field(e, "path element"));
            tree.source = t.at("source").get<std::string>();
            if (tree.path.size() != tree.depth) fail("tree path length differs from its depth");
        }
        state.next_ticket = doc.at("next_ticket").get<uint32_t>();
        for (const json& e : doc.at("tickets")) {
            TicketRecord r;
            r.index = e.at("index").get<uint32_t>();
            r.nullifier = hex_field(e.at("nullifier"), "nullifier");
            r.c_new = dec_field(e.at("c_new"), "c_new");
            r.refund_total = e.at("refund_total").get<uint64_t>();
            r.salt = dec_field(e.at("salt"), "salt");
            r.status = status_from_name(e.at("status").get<std::string>());
            r.http_status = e.at("http_status").get<long>();
            r.method = e.at("method").get<std::string>();
            r.url = e.at("url").get<std::string>();
            if (const auto p = e.find("pending_request"); p != e.end()) {
                r.has_pending_request = true;
                r.credential = p->at("credential").get<std::string>();
                r.request_headers = p->at("headers").get<std::vector<std::string>>();
                r.request_has_body = p->at("has_body").get<bool>();
                if (!base64_decode(p->at("body_base64").get<std::string>(), r.request_body)) {
                    fail("a pending request's body is not base64");
                }
            }
            const json& v = e.at("voucher");
            if (!v.is_null()) {
                r.has_voucher = true;
                r.voucher = v.at("value").get<std::string>();
                r.refund = v.at("refund").get<uint64_t>();
                r.voucher_key = v.at("key").get<std::string>();
            }
            if (e.contains("policy_receipt")) {
                r.policy_receipt = e.at("policy_receipt").get<std::string>();
            }
            if (r.index >= state.next_ticket) fail("a ticket at or above next_ticket");
            state.tickets.push_back(std::move(r));
        }
        if (const auto e = doc.find("expires_at"); e != doc.end()) {
            state.expires_at = e->get<uint64_t>();
        }
        if (const auto w = doc.find("withdrawal"); w != doc.end()) {
            WithdrawalRecord& record = state.withdrawal;
            record.started = true;
            record.recipient = w->at("recipient").get<std::string>();
            record.tickets = w->at("tickets").get<uint32_t>();
            record.transaction = w->at("transaction").get<std::string>();
            record.deadline = w->at("deadline").get<uint64_t>();
            record.finalized = w->at("finalized").get<bool>();
        }
        return state;
    } catch (const json::exception& e) {
        fail(std::string("malformed state file: ") + e.what());
    }
}

StateLock::StateLock(const std::string& state_path, bool wait) {
    const std::string lock_path = state_path + ".lock";
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) fail_errno("cannot open lock file", lock_path);
    int rc;
    do {
        rc = ::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int saved = errno;
        ::close(fd_);
        fd_ = -1;
        if (saved == EWOULDBLOCK) {
            throw ClientError(ExitCode::locked, "another zkcredit process is using " + state_path);
        }
        errno = saved;
        fail_errno("cannot lock", lock_path);
    }
}

StateLock::~StateLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

bool state_exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

State state_load(const std::string& path) {
    std::string text;
    if (!private_file_read(path, text)) fail("no state file " + path + " (run zkcredit init)");
    State state = state_from_json(text);
    sodium_memzero(text.data(), text.size());
    return state;
}

void state_create(const std::string& path, const State& state) {
    private_file_create(path, state_to_json(state));
}

void state_save(const std::string& path, const State& state) {
    private_file_replace(path, state_to_json(state));
}

}  // namespace zkclient
