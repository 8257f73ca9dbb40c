// Proves every case of make_inputs.mjs's output with our prover and prints a
// JSON array for check_proofs.mjs: [{"proof", "public", "expect"}], each
// honest proof once, plus one from a tampered witness that must fail.
//   prove_emit DAT ZKEY INPUTS.json
#include <cstdio>
#include <string>

#include "test_support.hpp"
#include "zkclient/prover.hpp"

int main(int argc, char** argv) {
    using namespace zkclient;
    if (argc != 4) {
        std::fprintf(stderr, "usage: prove_emit DAT ZKEY INPUTS.json\n");
        return 2;
    }
    setenv("ZKC_CLIENT_INPUTS", argv[3], 1);
    std::vector<test::InputCase> cases = test::load_cases();
    CreditWitnessGenerator generator;
    ProvingKey key;
    if (cases.empty() || CreditWitnessGenerator::load(argv[1], generator) != Status::ok ||
        ProvingKey::from_file(argv[2], key) != Status::ok) {
        std::fprintf(stderr, "prove_emit: cannot load the inputs, .dat or .zkey\n");
        return 1;
    }
    std::string out = "[";
    for (size_t i = 0; i <= cases.size(); ++i) {
        bool tampered = i == cases.size();
        CircuitInput input;
        std::vector<Fr> witness;
        if (circuit_input_from_json(cases[tampered ? 0 : i].input_json, input) != Status::ok ||
            generator.compute(input, witness) != Status::ok) {
            std::fprintf(stderr, "prove_emit: witness generation failed\n");
            return 1;
        }
        if (tampered) {
            witness[witness.size() / 2] += Fr::one();
        }
        libverify::Proof proof;
        std::vector<Fr> inputs;
        if (groth16_prove(key, witness, proof, inputs) != Status::ok) {
            std::fprintf(stderr, "prove_emit: proving failed\n");
            return 1;
        }
        out += (i == 0 ? "" : ",");
        out += "{\"proof\":" + proof_to_json(proof) + ",\"public\":" +
               public_inputs_to_json(inputs) + ",\"expect\":" + (tampered ? "false" : "true") +
               "}";
    }
    std::printf("%s]\n", out.c_str());
    return 0;
}
