#pragma once
// The GoogleTest fixture of the prover tests: the credit circuit's proving
// and verifying keys, witness generator and make_inputs.mjs cases, loaded
// once per test suite.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "libverify/groth16.hpp"
#include "test_support.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient::test {

class ProverFixture : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        cases_ = new std::vector<InputCase>(load_cases());
        key_ = new ProvingKey;
        generator_ = new CreditWitnessGenerator;
        vk_ = new libverify::VerifyingKey;
        ASSERT_EQ(ProvingKey::from_file(ZKC_CIRCUIT_ZKEY, *key_), Status::ok);
        ASSERT_EQ(CreditWitnessGenerator::load(ZKC_WITNESS_DAT, *generator_), Status::ok);
        ASSERT_EQ(libverify::VerifyingKey::from_json(read_file(ZKC_CIRCUIT_VK), *vk_),
                  Status::ok);
    }
    static void TearDownTestSuite() {
        delete cases_;
        delete key_;
        delete generator_;
        delete vk_;
    }
    void SetUp() override {
        ASSERT_GE(cases_->size(), 2u) << "ZKC_CLIENT_INPUTS must name make_inputs.mjs output";
    }

    static std::vector<Fr> witness_of(const InputCase& c) {
        CircuitInput input;
        EXPECT_EQ(circuit_input_from_json(c.input_json, input), Status::ok);
        std::vector<Fr> witness;
        EXPECT_EQ(generator_->compute(input, witness), Status::ok);
        return witness;
    }

    inline static std::vector<InputCase>* cases_ = nullptr;
    inline static ProvingKey* key_ = nullptr;
    inline static CreditWitnessGenerator* generator_ = nullptr;
    inline static libverify::VerifyingKey* vk_ = nullptr;
};

}  // namespace zkclient::test
