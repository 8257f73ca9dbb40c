// The state file: exact round trip, 0600 on creation whatever the umask,
// no overwrite on init, refusal of group/other access, atomic replacement
// under a concurrent reader, and the flock between two clients.

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "zkclient/error.hpp"
#include "zkclient/payment.hpp"
#include "zkclient/state.hpp"

namespace zkclient {
namespace {

class StateFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/zkc-state-test-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        path_ = dir_ + "/state.json";
    }
    void TearDown() override {
        for (const char* suffix : {"", ".lock", ".tmp"}) ::unlink((path_ + suffix).c_str());
        ::rmdir(dir_.c_str());
    }

    std::string dir_;
    std::string path_;
};

State sample_state() {
    State s;
    s.k = Fr::from_u64(123456789);
    s.has_deposit = true;
    s.deposit = UINT64_MAX;
    s.deployment.known = true;
    s.deployment.realm = "api \"example\"";
    s.deployment.scope = Fr::from_u64(77);
    s.deployment.c_max = 1000;
    s.deployment.key = std::string(64, 'a');
    s.deployment.keys = {std::string(64, 'a'), std::string(64, 'b')};
    s.deployment.origin = "http://127.0.0.1:1";
    s.deployment.refunds_url = "http://127.0.0.1:1/zkcredit/refunds/";
    s.tree.synced = true;
    s.tree.depth = 3;
    s.tree.root = Fr::from_u64(9);
    s.tree.leaf_index = 5;
    s.tree.leaf_count = 6;
    s.tree.path = {Fr::from_u64(1), Fr::from_u64(2), Fr::from_u64(3)};
    s.tree.source = "leaves.json";
    s.next_ticket = 3;
    for (uint32_t i = 0; i < 3; ++i) {
        TicketRecord t;
        t.index = i;
        t.nullifier = Fr::from_u64(100 + i);
        t.c_new = Fr::from_u64(200 + i);
        t.refund_total = 10 * i;
        t.salt = Fr::from_u64(300 + i);
        t.status = i == 0   ? TicketStatus::served
                   : i == 1 ? TicketStatus::sent
                            : TicketStatus::reserved;
        t.http_status = i == 0 ? 200 : 0;
        t.method = "POST";
        t.url = "http://127.0.0.1:1/v1/x?y=1";
        if (i == 0) {
            t.has_voucher = true;
            t.voucher = "AQ";
            t.refund = 750;
            t.voucher_key = std::string(64, 'a');
            t.policy_receipt = "AQID";
        }
        s.tickets.push_back(t);
    }
    return s;
}

TEST_F(StateFileTest, RoundTripsExactly) {
    const State s = sample_state();
    const std::string text = state_to_json(s);
    EXPECT_EQ(state_to_json(state_from_json(text)), text);
    EXPECT_EQ(state_from_json(text).tickets[0].policy_receipt, "AQID");
    EXPECT_EQ(state_from_json(text).tickets[1].policy_receipt, "");
    State empty;
    empty.k = Fr::from_u64(1);
    EXPECT_EQ(state_to_json(state_from_json(state_to_json(empty))), state_to_json(empty));
}

TEST_F(StateFileTest, MalformedFilesAreStateErrors) {
    std::string text = state_to_json(sample_state());
    for (const std::string& bad : {std::string("{"), std::string("[]"),
                                   std::string("{\"version\":2}"), text.substr(0, text.size() / 2),
                                   // a ticket at or above next_ticket would be reused
                                   [&] {
                                       std::string t = text;
                                       t.replace(t.find("\"next_ticket\": 3"), 16,
                                                 "\"next_ticket\": 2");
                                       return t;
                                   }()}) {
        try {
            state_from_json(bad);
            ADD_FAILURE() << bad.substr(0, 80);
        } catch (const ClientError& e) {
            EXPECT_EQ(e.code(), ExitCode::state);
        }
    }
}

TEST_F(StateFileTest, CreatedPrivateAndNeverOverwritten) {
    const mode_t old_mask = ::umask(0);
    state_create(path_, sample_state());
    ::umask(old_mask);
    struct stat st;
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    State other = sample_state();
    other.k = Fr::from_u64(42);
    try {
        state_create(path_, other);
        ADD_FAILURE() << "overwrote an identity";
    } catch (const ClientError& e) {
        EXPECT_EQ(e.code(), ExitCode::state);
    }
    EXPECT_TRUE(state_load(path_).k == Fr::from_u64(123456789));
    EXPECT_NE(::access((path_ + ".tmp").c_str(), F_OK), 0);
}

TEST_F(StateFileTest, RefusesFilesOthersCanRead) {
    state_create(path_, sample_state());
    ASSERT_EQ(::chmod(path_.c_str(), 0640), 0);
    try {
        state_load(path_);
        ADD_FAILURE() << "loaded a group-readable state";
    } catch (const ClientError& e) {
        EXPECT_EQ(e.code(), ExitCode::state);
    }
}

TEST_F(StateFileTest, SaveReplacesAtomicallyAndKeeps0600) {
    state_create(path_, sample_state());
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, torn{0};
    // A reader never sees a partial file: every read parses.
    std::thread reader([&] {
        while (!done.load()) {
            std::ifstream in(path_);
            std::ostringstream text;
            text << in.rdbuf();
            try {
                state_from_json(text.str());
            } catch (const ClientError&) {
                ++torn;
            }
            ++reads;
        }
    });
    State s = sample_state();
    for (uint32_t i = 0; i < 200; ++i) {
        s.next_ticket = 3 + i;
        s.tree.source = std::string(i * 37 % 5000, 'x');  // vary the size
        state_save(path_, s);
    }
    done = true;
    reader.join();
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(torn.load(), 0);
    EXPECT_EQ(state_load(path_).next_ticket, 202u);
    struct stat st;
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(::access((path_ + ".tmp").c_str(), F_OK), 0);
}

TEST_F(StateFileTest, OneClientAtATime) {
    std::optional<StateLock> first;
    first.emplace(path_, false);
    try {
        StateLock second(path_, false);
        ADD_FAILURE() << "two locks at once";
    } catch (const ClientError& e) {
        EXPECT_EQ(e.code(), ExitCode::locked);
    }
    // A waiting client gets the lock once the first lets go.
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        StateLock third(path_, true);
        got = true;
    });
    ::usleep(100000);
    EXPECT_FALSE(got.load());
    first.reset();
    waiter.join();
    EXPECT_TRUE(got.load());
    StateLock again(path_, false);
}

TEST(Head, IsTheNewestVoucherAndNamesTheOnlyNextTicket) {
    State s;
    EXPECT_EQ(s.head(), nullptr);
    EXPECT_EQ(s.refund_total(), 0u);
    EXPECT_EQ(s.chain_ticket(), 0u);
    TicketRecord a, b, c;
    a.index = 0;
    a.has_voucher = true;
    a.refund_total = 0;
    a.refund = 750;
    b.index = 1;
    b.has_voucher = true;
    b.refund_total = 750;
    b.refund = 0;
    c.index = 2;
    c.has_voucher = false;
    c.refund_total = 750;
    c.status = TicketStatus::sent;
    s.tickets = {a, b, c};
    s.next_ticket = 3;
    ASSERT_NE(s.head(), nullptr);
    EXPECT_EQ(s.head()->index, 1u);
    EXPECT_EQ(s.refund_total(), 750u);
    // Ticket 2 went out and its voucher is missing: the chain allows only
    // ticket 2, and proving it again for another request is refused.
    EXPECT_EQ(s.chain_ticket(), 2u);
    EXPECT_THROW(require_reusable(s, 2), ClientError);
    s.tickets[2].status = TicketStatus::refused;
    EXPECT_NO_THROW(require_reusable(s, 2));
    s.tickets[2].status = TicketStatus::reserved;
    EXPECT_NO_THROW(require_reusable(s, 2));
    // An older voucher worth more does not take the head: its commitment
    // allows a ticket the chain has used.
    s.tickets[0].refund = 900;
    EXPECT_EQ(s.head()->index, 1u);
    s.withdrawal.started = true;
    EXPECT_THROW(require_reusable(s, 2), ClientError);
}

}  // namespace
}  // namespace zkclient
