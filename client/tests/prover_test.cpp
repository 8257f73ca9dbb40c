#include "zkclient/prover.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "libverify/groth16.hpp"
#include "prover_fixture.hpp"
#include "test_support.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient {
namespace {

using libverify::G1Affine;
using libverify::G2Affine;

using CreditProver = test::ProverFixture;

TEST_F(CreditProver, KeyShapeMatchesTheCircuit) {
    EXPECT_EQ(key_->n_public(), 8u);
    EXPECT_EQ(key_->n_vars(), generator_->witness_size());
    EXPECT_EQ(key_->domain_size(), 1u << 14);
    EXPECT_EQ(key_->h().size(), key_->domain_size());
    EXPECT_EQ(key_->ic().size(), vk_->ic().size());
    for (size_t i = 0; i < key_->ic().size(); ++i) {
        EXPECT_EQ(key_->ic()[i], vk_->ic()[i]);
    }
    EXPECT_EQ(key_->alpha1(), vk_->alpha());
    EXPECT_EQ(key_->beta2(), vk_->beta());
    EXPECT_EQ(key_->gamma2(), vk_->gamma());
    EXPECT_EQ(key_->delta2(), vk_->delta());
}

TEST_F(CreditProver, WitnessEqualsSnarkjsWasmWitness) {
    for (const auto& c : *cases_) {
        std::vector<Fr> witness = witness_of(c);
        ASSERT_EQ(witness.size(), c.snarkjs_witness.size()) << c.name;
        for (size_t i = 0; i < witness.size(); ++i) {
            ASSERT_TRUE(witness[i] == c.snarkjs_witness[i]) << c.name << " wire " << i;
        }
    }
}

TEST_F(CreditProver, CreditInputStructGivesTheSameWitness) {
    const auto& c = (*cases_)[1];
    CircuitInput signals;
    ASSERT_EQ(circuit_input_from_json(c.input_json, signals), Status::ok);
    CreditInput in;
    ASSERT_EQ(CreditInput::from_circuit_input(signals, in), Status::ok);
    std::vector<Fr> witness;
    ASSERT_EQ(generator_->compute(in, witness), Status::ok);
    ASSERT_EQ(witness.size(), c.snarkjs_witness.size());
    for (size_t i = 0; i < witness.size(); ++i) {
        ASSERT_TRUE(witness[i] == c.snarkjs_witness[i]) << "wire " << i;
    }
    in.wipe();
    EXPECT_TRUE(in.k.is_zero());
}

TEST_F(CreditProver, BadInputsAreRefused) {
    const auto& c = (*cases_)[0];
    CircuitInput input;
    ASSERT_EQ(circuit_input_from_json(c.input_json, input), Status::ok);
    std::vector<Fr> witness{Fr::one()};

    CircuitInput unknown = input;
    unknown[0].name = "no_such_signal";
    EXPECT_EQ(generator_->compute(unknown, witness), Status::bad_encoding);
    CircuitInput missing = input;
    missing.pop_back();
    EXPECT_EQ(generator_->compute(missing, witness), Status::bad_length);
    CircuitInput repeated = input;
    repeated.push_back(repeated[0]);
    EXPECT_EQ(generator_->compute(repeated, witness), Status::bad_encoding);
    CircuitInput short_array = input;
    for (auto& s : short_array) {
        if (s.name == "path_elements") {
            s.values.pop_back();
        }
    }
    EXPECT_EQ(generator_->compute(short_array, witness), Status::bad_length);
    CircuitInput wrong_nullifier = input;
    for (auto& s : wrong_nullifier) {
        if (s.name == "nullifier") {
            s.values[0] += Fr::one();
        }
    }
    EXPECT_EQ(generator_->compute(wrong_nullifier, witness), Status::unsatisfied_constraint);
    EXPECT_EQ(witness.size(), 1u) << "outputs are written only on success";
    // The generator stays usable after a failure.
    EXPECT_EQ(generator_->compute(input, witness), Status::ok);

    CircuitInput parsed;
    EXPECT_EQ(circuit_input_from_json("[1]", parsed), Status::bad_encoding);
    EXPECT_EQ(circuit_input_from_json("{\"a\": \"12x\"}", parsed), Status::bad_encoding);
    EXPECT_EQ(circuit_input_from_json("{\"a\": -1}", parsed), Status::bad_encoding);
    EXPECT_EQ(circuit_input_from_json("{\"a\": 1.5}", parsed), Status::bad_encoding);
    EXPECT_EQ(circuit_input_from_json(
                  "{\"a\": \"21888242871839275222246405745257275088548364400416034343698204186575808495617\"}",
                  parsed),
              Status::input_out_of_range);
    ASSERT_EQ(circuit_input_from_json("{\"a\": [[1, \"0x10\"], [\"3\"]]}", parsed), Status::ok);
    ASSERT_EQ(parsed.size(), 1u);
    ASSERT_EQ(parsed[0].values.size(), 3u);
    EXPECT_TRUE(parsed[0].values[1] == Fr::from_u64(16));
}

TEST_F(CreditProver, DatFileErrors) {
    CreditWitnessGenerator g;
    EXPECT_EQ(CreditWitnessGenerator::load("/nonexistent/credit_main.dat", g), Status::io_error);
    std::string dat = test::read_file(ZKC_WITNESS_DAT);
    std::string truncated_path = ::testing::TempDir() + "zkclient_truncated.dat";
    for (size_t cut : {size_t{0}, size_t{100}, dat.size() / 2, dat.size() - 4}) {
        std::ofstream(truncated_path, std::ios::binary).write(dat.data(),
                                                               static_cast<std::streamsize>(cut));
        EXPECT_EQ(CreditWitnessGenerator::load(truncated_path, g), Status::bad_length) << cut;
    }
    EXPECT_FALSE(g.loaded());
    std::vector<Fr> witness;
    EXPECT_EQ(g.compute(CircuitInput{}, witness), Status::internal_error);
}

TEST_F(CreditProver, ProofsVerifyUnderLibverify) {
    // One thread, one per task and more threads than tasks.
    for (unsigned threads : {1u, 5u, 8u}) {
        for (const auto& c : *cases_) {
            std::vector<Fr> witness = witness_of(c);
            libverify::Proof proof;
            std::vector<Fr> inputs;
            ASSERT_EQ(groth16_prove(*key_, witness, proof, inputs, threads), Status::ok)
                << c.name << " " << threads;
            ASSERT_EQ(inputs.size(), 8u);
            for (size_t i = 0; i < inputs.size(); ++i) {
                EXPECT_TRUE(inputs[i] == witness[i + 1]);
            }
            EXPECT_EQ(libverify::groth16_verify(*vk_, proof, inputs), Status::ok)
                << c.name << " " << threads;
            EXPECT_EQ(libverify::groth16_verify_json(*vk_, proof_to_json(proof),
                                                     public_inputs_to_json(inputs)),
                      Status::ok);
        }
    }
}

TEST_F(CreditProver, ProofsOfOneWitnessDiffer) {
    std::vector<Fr> witness = witness_of((*cases_)[0]);
    libverify::Proof p1, p2;
    std::vector<Fr> in1, in2;
    ASSERT_EQ(groth16_prove(*key_, witness, p1, in1), Status::ok);
    ASSERT_EQ(groth16_prove(*key_, witness, p2, in2), Status::ok);
    uint8_t c1[libverify::kCompactProofSize], c2[libverify::kCompactProofSize];
    p1.to_compact(c1);
    p2.to_compact(c2);
    EXPECT_NE(std::memcmp(c1, c2, sizeof c1), 0);
    EXPECT_NE(p1.a(), p2.a());
    EXPECT_NE(p1.b(), p2.b());
    EXPECT_NE(p1.c(), p2.c());
    EXPECT_EQ(libverify::groth16_verify(*vk_, p2, in2), Status::ok);
}

TEST_F(CreditProver, TamperedWitnessGivesAnInvalidProof) {
    std::vector<Fr> witness = witness_of((*cases_)[1]);
    {
        std::vector<Fr> tampered = witness;
        tampered[witness.size() / 2] += Fr::one();
        libverify::Proof proof;
        std::vector<Fr> inputs;
        ASSERT_EQ(groth16_prove(*key_, tampered, proof, inputs), Status::ok);
        EXPECT_EQ(libverify::groth16_verify(*vk_, proof, inputs), Status::invalid_proof);
    }
    // A changed public input: the proof is for other inputs.
    std::vector<Fr> tampered = witness;
    tampered[3] += Fr::one();
    libverify::Proof proof;
    std::vector<Fr> inputs;
    ASSERT_EQ(groth16_prove(*key_, tampered, proof, inputs), Status::ok);
    EXPECT_EQ(libverify::groth16_verify(*vk_, proof, inputs), Status::invalid_proof);
}

TEST_F(CreditProver, WrongWitnessShapeIsRefused) {
    std::vector<Fr> witness = witness_of((*cases_)[0]);
    libverify::Proof proof;
    std::vector<Fr> inputs{Fr::one()};
    std::vector<Fr> short_witness(witness.begin(), witness.end() - 1);
    EXPECT_EQ(groth16_prove(*key_, short_witness, proof, inputs), Status::bad_length);
    std::vector<Fr> no_one = witness;
    no_one[0] = Fr::zero();
    EXPECT_EQ(groth16_prove(*key_, no_one, proof, inputs), Status::bad_encoding);
    EXPECT_EQ(inputs.size(), 1u);
}

}  // namespace
}  // namespace zkclient
