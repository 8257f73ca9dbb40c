// Groth16 on a trapdoor setup: valid proofs through every entry point,
// rejections in the documented order, key validation and batch verification.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "groth16_fixture.hpp"
#include "libverify/groth16.hpp"

namespace libverify {
namespace {

using testing_util::compact;
using testing_util::inputs_bytes;
using testing_util::inputs_json;
using testing_util::proof_json;
using testing_util::RawProof;
using testing_util::TrapdoorSetup;

class Groth16 : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        setup_ = new TrapdoorSetup(3, 42);
        vk_ = new VerifyingKey;
        ASSERT_EQ(VerifyingKey::from_json(setup_->vk_json(), *vk_), Status::ok);
    }
    static void TearDownTestSuite() {
        delete vk_;
        delete setup_;
    }

    static Status verify_compact(const RawProof& p, const std::vector<Fr>& xs) {
        std::vector<uint8_t> proof = compact(p);
        std::vector<uint8_t> in = inputs_bytes(xs);
        return groth16_verify_compact(*vk_, proof.data(), proof.size(), in.data(), in.size());
    }
    static Status verify_json(const RawProof& p, const std::vector<Fr>& xs) {
        return groth16_verify_json(*vk_, proof_json(p), inputs_json(xs));
    }

    static TrapdoorSetup* setup_;
    static VerifyingKey* vk_;
};

TrapdoorSetup* Groth16::setup_ = nullptr;
VerifyingKey* Groth16::vk_ = nullptr;

TEST_F(Groth16, ValidProofVerifiesThroughEveryEntryPoint) {
    for (int i = 0; i < 3; ++i) {
        std::vector<Fr> xs = setup_->random_inputs();
        RawProof p = setup_->prove(xs);
        EXPECT_EQ(verify_compact(p, xs), Status::ok);
        EXPECT_EQ(verify_json(p, xs), Status::ok);

        Proof from_json, from_compact;
        ASSERT_EQ(Proof::from_json(proof_json(p), from_json), Status::ok);
        std::vector<uint8_t> bytes = compact(p);
        ASSERT_EQ(Proof::from_compact(bytes.data(), bytes.size(), from_compact), Status::ok);
        uint8_t round_trip[128];
        from_json.to_compact(round_trip);
        EXPECT_EQ(std::vector<uint8_t>(round_trip, round_trip + 128), bytes);
        std::vector<Fr> parsed;
        ASSERT_EQ(public_inputs_from_json(inputs_json(xs), parsed), Status::ok);
        EXPECT_EQ(parsed, xs);
        EXPECT_EQ(groth16_verify(*vk_, from_json, parsed), Status::ok);
        EXPECT_EQ(groth16_verify(*vk_, from_compact, xs), Status::ok);
    }
}

TEST_F(Groth16, WrongStatementOrProofIsInvalid) {
    std::vector<Fr> xs = setup_->random_inputs();
    RawProof p = setup_->prove(xs);
    std::vector<Fr> other = xs;
    other[1] += Fr::one();
    EXPECT_EQ(verify_compact(p, other), Status::invalid_proof);
    EXPECT_EQ(verify_json(p, other), Status::invalid_proof);
    RawProof swapped{p.c, p.b, p.a};
    EXPECT_EQ(verify_compact(swapped, xs), Status::invalid_proof);
    RawProof negated{p.a.neg(), p.b, p.c};
    EXPECT_EQ(verify_compact(negated, xs), Status::invalid_proof);
    RawProof other_proof = setup_->prove(other);
    EXPECT_EQ(verify_compact(other_proof, other), Status::ok);
    EXPECT_EQ(verify_compact(RawProof{p.a, p.b, other_proof.c}, xs), Status::invalid_proof);
}

TEST_F(Groth16, CountsAndLengths) {
    std::vector<Fr> xs = setup_->random_inputs();
    RawProof p = setup_->prove(xs);
    std::vector<uint8_t> proof = compact(p);
    std::vector<uint8_t> in = inputs_bytes(xs);
    EXPECT_EQ(groth16_verify_compact(*vk_, proof.data(), 127, in.data(), in.size()),
              Status::bad_length);
    EXPECT_EQ(groth16_verify_compact(*vk_, proof.data(), 128, in.data(), in.size() - 1),
              Status::bad_length);
    EXPECT_EQ(groth16_verify_compact(*vk_, proof.data(), 128, in.data(), in.size() - 32),
              Status::wrong_input_count);
    std::vector<Fr> fewer(xs.begin(), xs.end() - 1);
    EXPECT_EQ(verify_json(p, fewer), Status::wrong_input_count);
    Proof parsed;
    ASSERT_EQ(Proof::from_compact(proof.data(), proof.size(), parsed), Status::ok);
    EXPECT_EQ(groth16_verify(*vk_, parsed, fewer), Status::wrong_input_count);
    EXPECT_EQ(Proof::from_compact(proof.data(), 129, parsed), Status::bad_length);
    std::vector<Fr> out;
    EXPECT_EQ(public_inputs_from_bytes(in.data(), 33, out), Status::bad_length);
}

TEST_F(Groth16, OrderOfChecks) {
    std::vector<Fr> xs = setup_->random_inputs();
    RawProof p = setup_->prove(xs);
    std::vector<uint8_t> good = compact(p);
    std::vector<uint8_t> in = inputs_bytes(xs);
    auto run = [&](std::vector<uint8_t> proof, std::vector<uint8_t> inputs) {
        return groth16_verify_compact(*vk_, proof.data(), proof.size(), inputs.data(),
                                      inputs.size());
    };
    std::vector<uint8_t> identity_a = good;
    std::fill(identity_a.begin(), identity_a.begin() + 32, 0);
    identity_a[0] = 0x40;
    EXPECT_EQ(run(identity_a, in), Status::identity_point);

    std::vector<uint8_t> bad_c = good;
    bad_c[96] = 0xC0;
    EXPECT_EQ(run(bad_c, in), Status::bad_encoding);
    // encoding before identity, even when the identity comes first in the bytes
    std::vector<uint8_t> both = identity_a;
    both[96] = 0xC0;
    EXPECT_EQ(run(both, in), Status::bad_encoding);

    // A with an x that has no point: not_on_curve; with identity C: identity first.
    std::vector<uint8_t> off_curve = good;
    std::fill(off_curve.begin(), off_curve.begin() + 32, 0);
    uint64_t x = 2;
    Fq root;
    while (fq_sqrt_vartime(Fq::from_u64(x * x * x + 3), root)) {
        ++x;
    }
    off_curve[31] = static_cast<uint8_t>(x);
    EXPECT_EQ(run(off_curve, in), Status::not_on_curve);
    std::vector<uint8_t> off_and_identity = off_curve;
    std::fill(off_and_identity.begin() + 96, off_and_identity.end(), 0);
    off_and_identity[96] = 0x40;
    EXPECT_EQ(run(off_and_identity, in), Status::identity_point);

    // B outside G2.
    RawProof twisted{p.a, setup_->rng().twist_point(), p.c};
    EXPECT_EQ(verify_compact(twisted, xs), Status::not_in_subgroup);
    EXPECT_EQ(verify_json(twisted, xs), Status::not_in_subgroup);

    // Input out of range comes after every proof check, before the pairing.
    std::vector<uint8_t> big_input = in;
    std::fill(big_input.begin(), big_input.begin() + 32, 0xff);
    EXPECT_EQ(run(good, big_input), Status::input_out_of_range);
    EXPECT_EQ(run(off_curve, big_input), Status::not_on_curve);
    std::vector<uint8_t> r_input = in;
    for (int i = 0; i < 32; ++i) {
        r_input[i] = static_cast<uint8_t>(Fr::kModulus[3 - i / 8] >> (8 * (7 - i % 8)));
    }
    EXPECT_EQ(run(good, r_input), Status::input_out_of_range);
    // ...and bad_length/wrong_input_count before everything.
    EXPECT_EQ(run(both, std::vector<uint8_t>(in.begin(), in.end() - 32)),
              Status::wrong_input_count);
}

TEST_F(Groth16, JsonRejections) {
    std::vector<Fr> xs = setup_->random_inputs();
    RawProof p = setup_->prove(xs);
    std::string good = proof_json(p);
    std::string inputs = inputs_json(xs);
    auto with = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        size_t at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return s.replace(at, from.size(), to);
    };
    Proof out;
    EXPECT_EQ(Proof::from_json(good, out), Status::ok);
    EXPECT_EQ(Proof::from_json("", out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json("{", out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json("[]", out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with("\"groth16\"", "\"plonk\""), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with("\"bn128\"", "\"bls12381\""), out), Status::bad_encoding);
    const std::string ax = testing_util::dec(p.a.x);
    EXPECT_EQ(Proof::from_json(with(ax, "\"0" + ax.substr(1)), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(ax, "\"-" + ax.substr(1)), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(ax, "\"+" + ax.substr(1)), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(ax, "\" " + ax.substr(1)), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(ax, "1"), out), Status::bad_encoding);  // a number
    EXPECT_EQ(Proof::from_json(with(ax, "\"\""), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(ax, "\"0x1\""), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(ax, testing_util::dec(p.a.x + Fq::one())), out),
              Status::not_on_curve);
    // x = p is not canonical; x = p - 1 is.
    std::string p_dec = "\"" + testing_util::to_decimal(Fq::kModulus) + "\"";
    EXPECT_EQ(Proof::from_json(with(ax, p_dec), out), Status::bad_encoding);
    // z other than 1, and the infinity forms.
    std::string a_json = testing_util::g1_json(p.a);
    std::string a_z2 = a_json.substr(0, a_json.size() - 4) + "\"2\"]";
    EXPECT_EQ(Proof::from_json(with(a_json, a_z2), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(a_json, "[\"0\",\"1\",\"0\"]"), out), Status::identity_point);
    EXPECT_EQ(Proof::from_json(with(a_json, "[\"0\",\"2\",\"0\"]"), out), Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with(a_json, "[\"0\",\"1\"]"), out), Status::bad_encoding);
    std::string b_json = testing_util::g2_json(p.b);
    EXPECT_EQ(Proof::from_json(with(b_json, "[[\"0\",\"0\"],[\"1\",\"0\"],[\"0\",\"0\"]]"), out),
              Status::identity_point);
    EXPECT_EQ(Proof::from_json(with(b_json, "[[\"0\",\"0\"],[\"1\",\"0\"],[\"0\",\"1\"]]"), out),
              Status::bad_encoding);
    EXPECT_EQ(Proof::from_json(with("\"pi_c\"", "\"pi_d\""), out), Status::bad_encoding);

    std::vector<Fr> parsed;
    EXPECT_EQ(public_inputs_from_json("[\"1\",\"01\"]", parsed), Status::bad_encoding);
    EXPECT_EQ(public_inputs_from_json("[1]", parsed), Status::bad_encoding);
    EXPECT_EQ(public_inputs_from_json("{}", parsed), Status::bad_encoding);
    EXPECT_EQ(public_inputs_from_json("[\"0\"]", parsed), Status::ok);
    std::string r_dec = "\"" + testing_util::to_decimal(Fr::kModulus) + "\"";
    EXPECT_EQ(public_inputs_from_json("[" + r_dec + "]", parsed), Status::input_out_of_range);
    EXPECT_EQ(public_inputs_from_json("[\"" + std::string(100, '9') + "\"]", parsed),
              Status::input_out_of_range);
    EXPECT_EQ(public_inputs_from_json("[\"" + std::string(100, '9') + "\", \"x\"]", parsed),
              Status::bad_encoding);
    EXPECT_EQ(parsed.size(), 1u);  // untouched by the failures above
}

TEST_F(Groth16, KeyValidation) {
    TrapdoorSetup other(2, 7);
    std::string good = other.vk_json();
    VerifyingKey vk;
    ASSERT_EQ(VerifyingKey::from_json(good, vk), Status::ok);
    EXPECT_EQ(vk.n_public(), 2u);
    auto with = [&](const std::string& from, const std::string& to) {
        std::string s = good;
        size_t at = s.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return s.replace(at, from.size(), to);
    };
    EXPECT_EQ(VerifyingKey::from_json(with("\"nPublic\":2", "\"nPublic\":3"), vk),
              Status::bad_length);
    EXPECT_EQ(VerifyingKey::from_json(with("\"nPublic\":2", "\"nPublic\":-1"), vk),
              Status::bad_encoding);
    EXPECT_EQ(VerifyingKey::from_json(with("\"nPublic\":2", "\"nPublic\":\"2\""), vk),
              Status::bad_encoding);
    EXPECT_EQ(VerifyingKey::from_json("not json", vk), Status::bad_encoding);
    size_t alpha_at = good.find("\"vk_alpha_1\":") + 13;
    size_t alpha_end = good.find(']', alpha_at) + 1;
    std::string alpha = good.substr(alpha_at, alpha_end - alpha_at);
    EXPECT_EQ(VerifyingKey::from_json(with(alpha, "[\"0\",\"1\",\"0\"]"), vk),
              Status::identity_point);
    EXPECT_EQ(VerifyingKey::from_json(with(alpha, "[\"1\",\"3\",\"1\"]"), vk),
              Status::not_on_curve);
    G2Affine bad = other.rng().twist_point();
    size_t gamma_at = good.find("\"vk_gamma_2\":") + 13;
    size_t gamma_end = good.find("]]", gamma_at) + 2;
    std::string gamma = good.substr(gamma_at, gamma_end - gamma_at);
    EXPECT_EQ(VerifyingKey::from_json(with(gamma, testing_util::g2_json(bad)), vk),
              Status::not_in_subgroup);
    EXPECT_EQ(vk.n_public(), 2u);  // untouched by the failures
}

TEST_F(Groth16, BatchMatchesIndividualVerdicts) {
    const uint8_t seed[32] = {1, 2, 3};
    std::vector<Proof> proofs;
    std::vector<std::vector<Fr>> inputs;
    std::vector<Status> expected;
    for (int i = 0; i < 9; ++i) {
        std::vector<Fr> xs = setup_->random_inputs();
        RawProof p = setup_->prove(xs);
        if (i % 4 == 1) {
            xs[0] += Fr::one();  // invalid statement
        }
        if (i == 6) {
            xs.pop_back();
        }
        std::vector<uint8_t> bytes = compact(p);
        Proof proof;
        ASSERT_EQ(Proof::from_compact(bytes.data(), bytes.size(), proof), Status::ok);
        expected.push_back(groth16_verify(*vk_, proof, xs));
        proofs.push_back(proof);
        inputs.push_back(xs);
    }
    ASSERT_EQ(expected[1], Status::invalid_proof);
    ASSERT_EQ(expected[6], Status::wrong_input_count);

    // All valid.
    std::vector<Proof> valid_proofs;
    std::vector<std::vector<Fr>> valid_inputs;
    for (size_t i = 0; i < proofs.size(); ++i) {
        if (expected[i] == Status::ok) {
            valid_proofs.push_back(proofs[i]);
            valid_inputs.push_back(inputs[i]);
        }
    }
    std::vector<Status> verdicts(valid_proofs.size(), Status::internal_error);
    EXPECT_EQ(groth16_verify_batch(*vk_, valid_proofs.data(), valid_inputs.data(),
                                   valid_proofs.size(), seed, verdicts.data()),
              Status::ok);
    for (Status s : verdicts) {
        EXPECT_EQ(s, Status::ok);
    }
    EXPECT_EQ(groth16_verify_batch(*vk_, valid_proofs.data(), valid_inputs.data(), 1, seed,
                                   nullptr),
              Status::ok);
    EXPECT_EQ(groth16_verify_batch(*vk_, nullptr, nullptr, 0, seed, nullptr), Status::ok);

    // Mixed.
    verdicts.assign(proofs.size(), Status::internal_error);
    EXPECT_EQ(groth16_verify_batch(*vk_, proofs.data(), inputs.data(), proofs.size(), seed,
                                   verdicts.data()),
              Status::invalid_proof);
    EXPECT_EQ(verdicts, expected);

    // A pair of invalid proofs whose errors cancel in an unweighted sum still
    // fails: C1 + d and C2 - d.
    std::vector<Fr> x1 = setup_->random_inputs(), x2 = setup_->random_inputs();
    RawProof p1 = setup_->prove(x1), p2 = setup_->prove(x2);
    G1 d = G1::from_affine(g1_generator());
    p1.c = G1::from_affine(p1.c).add_vartime(d).to_affine();
    p2.c = G1::from_affine(p2.c).add_vartime(d.neg()).to_affine();
    Proof q[2];
    std::vector<uint8_t> b1 = compact(p1), b2 = compact(p2);
    ASSERT_EQ(Proof::from_compact(b1.data(), 128, q[0]), Status::ok);
    ASSERT_EQ(Proof::from_compact(b2.data(), 128, q[1]), Status::ok);
    std::vector<Fr> qi[2] = {x1, x2};
    Status v[2];
    EXPECT_EQ(groth16_verify_batch(*vk_, q, qi, 2, seed, v), Status::invalid_proof);
    EXPECT_EQ(v[0], Status::invalid_proof);
    EXPECT_EQ(v[1], Status::invalid_proof);
}

TEST(Groth16NoInputs, KeyWithoutPublicInputs) {
    TrapdoorSetup setup(0, 9);
    VerifyingKey vk;
    ASSERT_EQ(VerifyingKey::from_json(setup.vk_json(), vk), Status::ok);
    RawProof p = setup.prove({});
    std::vector<uint8_t> bytes = compact(p);
    EXPECT_EQ(groth16_verify_compact(vk, bytes.data(), bytes.size(), nullptr, 0), Status::ok);
    EXPECT_EQ(groth16_verify_json(vk, proof_json(p), "[]"), Status::ok);
}

}  // namespace
}  // namespace libverify
