// Proves every case of make_inputs.mjs's output with our prover and prints a
// JSON array for check_proofs.mjs: [{"proof", "public", "expect"}], each
// honest proof once, plus one from a tampered witness that must fail, plus
// for each case two proofs finished from one precompute for random requests x.
//   prove_emit DAT ZKEY INPUTS.json
#include <cstdio>
#include <string>

#include "test_support.hpp"
#include "zkclient/precompute.hpp"
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
    for (const test::InputCase& c : cases) {
        CircuitInput signals;
        CreditInput statement;
        if (circuit_input_from_json(c.input_json, signals) != Status::ok ||
            CreditInput::from_circuit_input(signals, statement) != Status::ok) {
            std::fprintf(stderr, "prove_emit: bad input\n");
            return 1;
        }
        const auto ticket = static_cast<uint32_t>(statement.ticket.to_canonical()[0]);
        for (int request = 0; request < 2; ++request) {
            LockedPrecompute precomputed;
            CreditInput finished = statement;
            libverify::Proof proof;
            std::vector<Fr> inputs;
            if (credit_precompute(key, generator, statement, ticket, precomputed) != Status::ok ||
                precomputed.finish(prover_steps::random_scalar(), finished, proof) !=
                    Status::ok ||
                generator.compute(finished, inputs) != Status::ok) {
                std::fprintf(stderr, "prove_emit: precompute or finish failed\n");
                return 1;
            }
            inputs.assign(inputs.begin() + 1, inputs.begin() + 1 + key.n_public());
            out += ",{\"proof\":" + proof_to_json(proof) + ",\"public\":" +
                   public_inputs_to_json(inputs) + ",\"expect\":true}";
        }
    }
    std::printf("%s]\n", out.c_str());
    return 0;
}
