// Split proving (split_prover.hpp) against the full prover, and the
// precomputed credit proof (precompute.hpp): binding, one use, the file.
#include "zkclient/split_prover.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "libverify/groth16.hpp"
#include "prover_fixture.hpp"
#include "test_support.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/error.hpp"
#include "zkclient/precompute.hpp"
#include "zkclient/prover.hpp"

namespace zkclient {
namespace {

using libverify::Proof;

std::string compact_of(const Proof& proof) {
    uint8_t bytes[libverify::kCompactProofSize];
    proof.to_compact(bytes);
    return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

Fr random_fr() { return prover_steps::random_scalar(); }

class SplitProver : public test::ProverFixture {
protected:
    static CreditInput statement_of(const test::InputCase& c) {
        CircuitInput signals;
        EXPECT_EQ(circuit_input_from_json(c.input_json, signals), Status::ok);
        CreditInput in;
        EXPECT_EQ(CreditInput::from_circuit_input(signals, in), Status::ok);
        return in;
    }
    // The case's statement for request x: signal_y = k + a x with the
    // case's own a = (y - k) / x.
    static std::vector<Fr> witness_at(const test::InputCase& c, const Fr& x) {
        CreditInput in = statement_of(c);
        const Fr a = (in.signal_y - in.k) * in.x.inverse();
        in.x = x;
        in.signal_y = in.k + a * x;
        std::vector<Fr> w;
        EXPECT_EQ(generator_->compute(in, w), Status::ok);
        return w;
    }
    static void split_of(const test::InputCase& c, SplitProof& split) {
        std::vector<Fr> base = witness_at(c, Fr::zero());
        std::vector<Fr> slope = witness_at(c, Fr::one());
        for (size_t i = 0; i < base.size(); ++i) slope[i] -= base[i];
        ASSERT_EQ(split_precompute(*key_, base, slope, split, 2), Status::ok);
    }
    static uint32_t ticket_of_case(const CreditInput& in) {
        return static_cast<uint32_t>(in.ticket.to_canonical()[0]);
    }

};

// Only x and signal_y change with the request, as the algebra in
// docs/prover.md assumes: enumerated from the witness, not assumed.
TEST_F(SplitProver, OnlyXAndSignalYDependOnTheRequest) {
    const auto& c = (*cases_)[0];
    std::vector<Fr> w0 = witness_at(c, Fr::zero());
    std::vector<Fr> w1 = witness_at(c, random_fr());
    std::vector<size_t> differing;
    for (size_t i = 0; i < w0.size(); ++i) {
        if (w0[i] != w1[i]) differing.push_back(i);
    }
    EXPECT_EQ(differing, (std::vector<size_t>{5, 7}));  // wires of x and signal_y
}

// h(x) = h0 + x h1 + x^2 h2 on the coset, against compute_h at w(x).
TEST_F(SplitProver, QuotientIsQuadraticInX) {
    const auto& c = (*cases_)[1];
    std::vector<Fr> base = witness_at(c, Fr::zero());
    std::vector<Fr> slope = witness_at(c, Fr::one());
    for (size_t i = 0; i < base.size(); ++i) slope[i] -= base[i];
    auto h = prover_steps::split_quotient(*key_, base, slope);
    const Fr x = random_fr();
    std::vector<Fr> a, b, cc;
    prover_steps::evaluate_abc(*key_, witness_at(c, x), a, b, cc);
    prover_steps::FftDomain domain(key_->domain_power());
    std::vector<Fr> direct = prover_steps::compute_h(domain, a, b, cc);
    ASSERT_EQ(direct.size(), h[0].size());
    for (size_t i = 0; i < direct.size(); ++i) {
        ASSERT_TRUE(direct[i] == h[0][i] + x * (h[1][i] + x * h[2][i])) << "point " << i;
    }
}

// With the same r, s the finish gives the full prover's very proof.
TEST_F(SplitProver, FinishEqualsFullProofWithTheSameBlinding) {
    for (const auto& c : *cases_) {
        SplitProof split;
        split_of(c, split);
        // A random x, and one of the ends 0, 1 per statement (full proofs
        // are slow under ASan).
        for (const Fr& x : {random_fr(), &c == &cases_->front() ? Fr::zero() : Fr::one()}) {
            const Fr r = random_fr(), s = random_fr();
            Proof full, finished;
            std::vector<Fr> full_inputs, finished_inputs;
            ASSERT_EQ(prover_steps::groth16_prove_blinded(*key_, witness_at(c, x), r, s, full,
                                                          full_inputs, 1),
                      Status::ok);
            ASSERT_EQ(prover_steps::split_finish_blinded(split, x, r, s, finished,
                                                         finished_inputs),
                      Status::ok);
            EXPECT_EQ(compact_of(full), compact_of(finished)) << c.name;
            ASSERT_EQ(full_inputs.size(), finished_inputs.size());
            for (size_t i = 0; i < full_inputs.size(); ++i) {
                EXPECT_TRUE(full_inputs[i] == finished_inputs[i]) << c.name << " input " << i;
            }
            EXPECT_EQ(libverify::groth16_verify(*vk_, finished, finished_inputs), Status::ok);
        }
    }
}

TEST_F(SplitProver, ManyRequestsFromOnePrecomputeAreValidAndDistinct) {
    SplitProof split;
    split_of((*cases_)[1], split);
    std::set<std::string> proofs;
    const Fr repeated = random_fr();
    for (int i = 0; i < 12; ++i) {
        const Fr x = i % 4 == 3 ? repeated : random_fr();
        Proof proof;
        std::vector<Fr> inputs;
        ASSERT_EQ(split_finish(split, x, proof, inputs), Status::ok);
        EXPECT_TRUE(inputs[4] == x);
        EXPECT_EQ(libverify::groth16_verify(*vk_, proof, inputs), Status::ok) << i;
        proofs.insert(compact_of(proof));
    }
    EXPECT_EQ(proofs.size(), 12u);  // fresh r, s even for a repeated x
}

TEST_F(SplitProver, WrongShapesAreRefused) {
    std::vector<Fr> base = witness_at((*cases_)[0], Fr::zero());
    std::vector<Fr> slope(base.size(), Fr::zero());
    SplitProof split;
    std::vector<Fr> short_base(base.begin(), base.end() - 1);
    EXPECT_EQ(split_precompute(*key_, short_base, slope, split), Status::bad_length);
    std::vector<Fr> bad_slope = slope;
    bad_slope[0] = Fr::one();
    EXPECT_EQ(split_precompute(*key_, base, bad_slope, split), Status::bad_encoding);
}

// --- the precomputed credit proof -------------------------------------------

class CreditPrecomputeTest : public SplitProver {
protected:
    void SetUp() override {
        SplitProver::SetUp();
        char dir[] = "/tmp/zkc_precompute_XXXXXX";
        ASSERT_NE(::mkdtemp(dir), nullptr);
        dir_ = dir;
        path_ = dir_ + "/state.json.precompute";
        fingerprint_ = key_fingerprint(*key_);
    }
    void TearDown() override {
        std::remove(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    // The case as the statement a client would precompute (x = 0).
    CreditInput statement(size_t i) {
        CreditInput in = statement_of((*cases_)[i]);
        in.x = Fr::zero();
        in.signal_y = Fr::zero();
        return in;
    }
    // The precompute of case i, made once per suite and decoded for every
    // further test (a precompute takes half a minute under ASan).
    void precompute(size_t i, LockedPrecompute& out) {
        static std::map<size_t, std::string> made;
        auto found = made.find(i);
        if (found != made.end()) {
            ASSERT_EQ(precompute_decode(found->second, out), Status::ok);
            return;
        }
        CreditInput in = statement(i);
        ASSERT_EQ(credit_precompute(*key_, *generator_, in, ticket_of_case(in), out, 2),
                  Status::ok);
        made[i] = precompute_encode(out.get());
    }
    Digest binding(size_t i) { return statement_binding(statement(i), fingerprint_); }

    std::string dir_, path_;
    Digest fingerprint_{};
};

TEST_F(CreditPrecomputeTest, KeyFingerprintsOfProvingAndVerifyingKeyAgree) {
    EXPECT_EQ(key_fingerprint(*key_), key_fingerprint(*vk_));
}

TEST_F(CreditPrecomputeTest, FinishedProofVerifiesAndIsUsedOnce) {
    LockedPrecompute pre;
    precompute(1, pre);
    ASSERT_TRUE(pre.ready());
    EXPECT_EQ(pre.get().binding, binding(1));
    const Fr salt = pre.get().salt_new;
    CreditInput in = statement(1);
    const Fr x = random_fr();
    Proof proof;
    ASSERT_EQ(pre.finish(x, in, proof, vk_), Status::ok);
    EXPECT_TRUE(in.x == x);
    EXPECT_TRUE(in.salt_new == salt);
    const Fr refund_total = in.refund_total_prev + in.refund;
    EXPECT_TRUE(in.c_new == commitment_of(in.k, refund_total.to_canonical()[0],
                                          uint64_t{ticket_of_case(in)} + 1, salt));
    const Ticket t = ticket_of(in.k, in.scope, ticket_of_case(in));
    EXPECT_TRUE(in.signal_y == signal_of(in.k, t.secret, x));
    // The very statement the full prover proves.
    std::vector<Fr> w;
    ASSERT_EQ(generator_->compute(in, w), Status::ok);
    std::vector<Fr> inputs(w.begin() + 1, w.begin() + 9);
    EXPECT_EQ(libverify::groth16_verify(*vk_, proof, inputs), Status::ok);

    EXPECT_FALSE(pre.ready());
    CreditInput again = statement(1);
    EXPECT_EQ(pre.finish(random_fr(), again, proof, vk_), Status::internal_error);
}

TEST_F(CreditPrecomputeTest, PrecomputeForAnotherStatementFailsClosed) {
    LockedPrecompute pre;
    precompute(0, pre);
    CreditInput other = statement(1);
    Proof proof;
    EXPECT_EQ(pre.finish(random_fr(), other, proof, vk_), Status::bad_encoding);
    EXPECT_FALSE(pre.ready());
    EXPECT_NE(binding(0), binding(1));
}

TEST_F(CreditPrecomputeTest, BindingCoversTheStateButNotTheRequest) {
    const Digest base = binding(1);
    CreditInput in = statement(1);
    in.x = random_fr();
    in.signal_y = random_fr();
    in.c_new = random_fr();
    in.salt_new = random_fr();
    EXPECT_EQ(statement_binding(in, fingerprint_), base);
    Fr CreditInput::*fields[] = {&CreditInput::root, &CreditInput::ticket,
                                 &CreditInput::refund_total_prev, &CreditInput::refund,
                                 &CreditInput::salt_prev, &CreditInput::key_hash,
                                 &CreditInput::nullifier, &CreditInput::k};
    for (Fr CreditInput::*f : fields) {
        CreditInput changed = statement(1);
        changed.*f += Fr::one();
        EXPECT_NE(statement_binding(changed, fingerprint_), base);
    }
    CreditInput moved = statement(1);
    moved.path_elements[3] += Fr::one();
    EXPECT_NE(statement_binding(moved, fingerprint_), base);
    Digest other_key = fingerprint_;
    other_key[0] ^= 1;
    EXPECT_NE(statement_binding(statement(1), other_key), base);
}

TEST_F(CreditPrecomputeTest, FileIsPrivateAndTakenOnce) {
    LockedPrecompute pre;
    precompute(1, pre);
    precompute_save(path_, pre.get());
    struct stat st;
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const uint32_t ticket = pre.get().ticket;
    EXPECT_EQ(precompute_check(path_, binding(1), ticket), PrecomputeFile::ready);

    LockedPrecompute taken;
    ASSERT_EQ(precompute_take(path_, binding(1), ticket, taken), PrecomputeFile::ready);
    EXPECT_NE(::access(path_.c_str(), F_OK), 0);  // gone before the proof exists
    EXPECT_EQ(precompute_encode(taken.get()), precompute_encode(pre.get()));
    CreditInput in = statement(1);
    Proof proof;
    ASSERT_EQ(taken.finish(random_fr(), in, proof, vk_), Status::ok);

    LockedPrecompute second;
    EXPECT_EQ(precompute_take(path_, binding(1), ticket, second), PrecomputeFile::absent);
    EXPECT_FALSE(second.ready());
}

TEST_F(CreditPrecomputeTest, StaleFileIsDiscarded) {
    LockedPrecompute pre;
    precompute(1, pre);
    precompute_save(path_, pre.get());
    const uint32_t ticket = pre.get().ticket;
    EXPECT_EQ(precompute_check(path_, binding(0), ticket), PrecomputeFile::stale);
    EXPECT_EQ(precompute_check(path_, binding(1), ticket + 1), PrecomputeFile::stale);
    LockedPrecompute taken;
    EXPECT_EQ(precompute_take(path_, binding(0), ticket, taken), PrecomputeFile::stale);
    EXPECT_FALSE(taken.ready());
    EXPECT_NE(::access(path_.c_str(), F_OK), 0);
}

TEST_F(CreditPrecomputeTest, DamagedFileIsNeverUsed) {
    LockedPrecompute pre;
    precompute(1, pre);
    const std::string good = precompute_encode(pre.get());
    const uint32_t ticket = pre.get().ticket;
    auto write = [&](const std::string& bytes) {
        std::remove(path_.c_str());
        std::ofstream(path_, std::ios::binary) << bytes;
        ::chmod(path_.c_str(), 0600);
    };
    std::vector<std::string> damaged;
    for (size_t len : {size_t{0}, size_t{7}, size_t{80}, good.size() / 2, good.size() - 1}) {
        damaged.push_back(good.substr(0, len));
    }
    for (size_t at : {size_t{0}, size_t{9}, size_t{100}, good.size() / 2, good.size() - 1}) {
        std::string flipped = good;
        flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
        damaged.push_back(flipped);
    }
    damaged.push_back(good + "x");
    for (const std::string& bytes : damaged) {
        write(bytes);
        LockedPrecompute taken;
        EXPECT_EQ(precompute_take(path_, binding(1), ticket, taken), PrecomputeFile::corrupt)
            << bytes.size();
        EXPECT_FALSE(taken.ready());
        EXPECT_NE(::access(path_.c_str(), F_OK), 0);
    }
    // A leftover temporary of an interrupted save is not the file.
    std::ofstream(path_ + ".tmp", std::ios::binary) << good.substr(0, good.size() / 2);
    EXPECT_EQ(precompute_check(path_, binding(1), ticket), PrecomputeFile::absent);
    std::remove((path_ + ".tmp").c_str());

    write(good);
    ::chmod(path_.c_str(), 0644);
    LockedPrecompute taken;
    EXPECT_THROW(precompute_take(path_, binding(1), ticket, taken), ClientError);
}

}  // namespace
}  // namespace zkclient
