// The credit circuit's Groth16 prover: a full proof (witness included) and
// its parts; the split prover's precompute and its request-time finish, and
// the finish's parts. Needs the credit inputs made by client/tests/make_inputs.mjs:
//   node client/tests/make_inputs.mjs build/circuits/credit_main_js/credit_main.wasm IN.json
//   ZKC_CLIENT_INPUTS=IN.json build/bench/bench_prover
// (bench/prover_vs_snarkjs.sh does both.)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "libverify/groth16.hpp"
#include "zkclient/precompute.hpp"
#include "zkclient/prover.hpp"
#include "zkclient/split_prover.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace {

using namespace zkclient;
using namespace zkclient::prover_steps;

struct Fixture {
    ProvingKey key;
    CreditWitnessGenerator generator;
    CircuitInput input;
    std::vector<Fr> witness;
    std::vector<Limbs> witness_scalars;
    std::vector<Limbs> h_scalars;
    CreditInput statement;
    uint32_t ticket = 0;
    std::string precompute;  // precompute_encode of the statement's precompute
    libverify::VerifyingKey vk;
    bool ok = false;

    Fixture() {
        const char* inputs = std::getenv("ZKC_CLIENT_INPUTS");
        if (inputs == nullptr) {
            std::fprintf(stderr, "bench_prover: set ZKC_CLIENT_INPUTS (see the file header)\n");
            return;
        }
        std::ifstream in(inputs);
        std::stringstream ss;
        ss << in.rdbuf();
        nlohmann::json doc = nlohmann::json::parse(ss.str(), nullptr, false);
        if (doc.is_discarded() ||
            circuit_input_from_json(doc["cases"][1]["input"].dump(), input) != Status::ok ||
            ProvingKey::from_file(ZKC_CIRCUIT_ZKEY, key) != Status::ok ||
            CreditWitnessGenerator::load(ZKC_WITNESS_DAT, generator) != Status::ok ||
            generator.compute(input, witness) != Status::ok) {
            std::fprintf(stderr, "bench_prover: cannot load the fixture\n");
            return;
        }
        if (CreditInput::from_circuit_input(input, statement) != Status::ok) {
            std::fprintf(stderr, "bench_prover: not a credit circuit input\n");
            return;
        }
        ticket = static_cast<uint32_t>(statement.ticket.to_canonical()[0]);
        std::ifstream vk_file(ZKC_CIRCUIT_VK);
        std::stringstream vk_text;
        vk_text << vk_file.rdbuf();
        LockedPrecompute precomputed;
        if (credit_precompute(key, generator, statement, ticket, precomputed) != Status::ok ||
            libverify::VerifyingKey::from_json(vk_text.str(), vk) != Status::ok) {
            std::fprintf(stderr, "bench_prover: cannot precompute the fixture\n");
            return;
        }
        precompute = precompute_encode(precomputed.get());
        for (const Fr& w : witness) {
            witness_scalars.push_back(w.to_canonical());
        }
        std::vector<Fr> a, b, c;
        evaluate_abc(key, witness, a, b, c);
        FftDomain domain(key.domain_power());
        for (const Fr& h : compute_h(domain, a, b, c)) {
            h_scalars.push_back(h.to_canonical());
        }
        ok = true;
    }
};

const Fixture& fixture() {
    static Fixture f;
    return f;
}

#define REQUIRE_FIXTURE(state)                           \
    if (!fixture().ok) {                                 \
        (state).SkipWithError("fixture not available");  \
        return;                                          \
    }

// state.range(0) threads; 0 is every hardware thread.
void BM_FullProve(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    unsigned threads = static_cast<unsigned>(state.range(0));
    for (auto _ : state) {
        std::vector<Fr> witness;
        libverify::Proof proof;
        std::vector<Fr> inputs;
        if (f.generator.compute(f.input, witness) != Status::ok ||
            groth16_prove(f.key, witness, proof, inputs, threads) != Status::ok) {
            state.SkipWithError("prove failed");
            return;
        }
        benchmark::DoNotOptimize(proof);
    }
    state.counters["constraints"] = 11461;
    state.counters["wires"] = static_cast<double>(f.key.n_vars());
    state.counters["domain"] = f.key.domain_size();
}
BENCHMARK(BM_FullProve)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ProveFromWitness(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    for (auto _ : state) {
        libverify::Proof proof;
        std::vector<Fr> inputs;
        if (groth16_prove(f.key, f.witness, proof, inputs, 1) != Status::ok) {
            state.SkipWithError("prove failed");
            return;
        }
        benchmark::DoNotOptimize(proof);
    }
}
BENCHMARK(BM_ProveFromWitness)->Unit(benchmark::kMillisecond);

void BM_Witness(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    for (auto _ : state) {
        std::vector<Fr> witness;
        if (f.generator.compute(f.input, witness) != Status::ok) {
            state.SkipWithError("witness failed");
            return;
        }
        benchmark::DoNotOptimize(witness.data());
    }
}
BENCHMARK(BM_Witness)->Unit(benchmark::kMillisecond);

void BM_EvaluateAbc(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    for (auto _ : state) {
        std::vector<Fr> a, b, c;
        evaluate_abc(f.key, f.witness, a, b, c);
        benchmark::DoNotOptimize(c.data());
    }
}
BENCHMARK(BM_EvaluateAbc)->Unit(benchmark::kMillisecond);

void BM_FftsAndH(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    std::vector<Fr> a0, b0, c0;
    evaluate_abc(f.key, f.witness, a0, b0, c0);
    FftDomain domain(f.key.domain_power());
    for (auto _ : state) {
        std::vector<Fr> a = a0, b = b0, c = c0;
        std::vector<Fr> h = compute_h(domain, a, b, c);
        benchmark::DoNotOptimize(h.data());
    }
}
BENCHMARK(BM_FftsAndH)->Unit(benchmark::kMillisecond);

void BM_MsmA(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            g1_msm(f.key.a().data(), f.witness_scalars.data(), f.witness_scalars.size()));
    }
}
BENCHMARK(BM_MsmA)->Unit(benchmark::kMillisecond);

void BM_MsmB1(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            g1_msm(f.key.b1().data(), f.witness_scalars.data(), f.witness_scalars.size()));
    }
}
BENCHMARK(BM_MsmB1)->Unit(benchmark::kMillisecond);

void BM_MsmB2(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            g2_msm(f.key.b2().data(), f.witness_scalars.data(), f.witness_scalars.size()));
    }
}
BENCHMARK(BM_MsmB2)->Unit(benchmark::kMillisecond);

void BM_MsmC(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    size_t first = f.key.n_public() + 1;
    for (auto _ : state) {
        benchmark::DoNotOptimize(g1_msm(f.key.c().data(), f.witness_scalars.data() + first,
                                        f.witness_scalars.size() - first));
    }
}
BENCHMARK(BM_MsmC)->Unit(benchmark::kMillisecond);

void BM_MsmH(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            g1_msm(f.key.h().data(), f.h_scalars.data(), f.h_scalars.size()));
    }
}
BENCHMARK(BM_MsmH)->Unit(benchmark::kMillisecond);

// The precompute of the next ticket (three witnesses, the split's five
// witness MSMs and three H MSMs); state.range(0) threads, 0 for all.
void BM_Precompute(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    unsigned threads = static_cast<unsigned>(state.range(0));
    for (auto _ : state) {
        LockedPrecompute precomputed;
        if (credit_precompute(f.key, f.generator, f.statement, f.ticket, precomputed, threads) !=
            Status::ok) {
            state.SkipWithError("precompute failed");
            return;
        }
        benchmark::DoNotOptimize(precomputed.get());
    }
}
BENCHMARK(BM_Precompute)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// The request-time proof: the precompute taken from its bytes (decoded,
// points checked), finished for a fresh x with fresh r, s, its public
// signals checked against the statement. One thread (it is sequential).
void BM_Finish(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    LockedPrecompute precomputed;
    for (auto _ : state) {
        CreditInput statement = f.statement;
        libverify::Proof proof;
        if (precompute_decode(f.precompute, precomputed) != Status::ok ||
            precomputed.finish(random_scalar(), statement, proof) != Status::ok) {
            state.SkipWithError("finish failed");
            return;
        }
        benchmark::DoNotOptimize(proof);
    }
}
BENCHMARK(BM_Finish)->Unit(benchmark::kMicrosecond);

// The fixture's precompute in `out`; false (and the benchmark skipped) if
// it does not decode.
bool decoded(benchmark::State& state, LockedPrecompute& out) {
    if (precompute_decode(fixture().precompute, out) != Status::ok) {
        state.SkipWithError("decode failed");
        return false;
    }
    return true;
}

// The finish's parts.
void BM_FinishDecode(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    LockedPrecompute precomputed;
    for (auto _ : state) {
        benchmark::DoNotOptimize(precompute_decode(f.precompute, precomputed));
    }
}
BENCHMARK(BM_FinishDecode)->Unit(benchmark::kMicrosecond);

void BM_FinishCorrections(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    LockedPrecompute precomputed;
    if (!decoded(state, precomputed)) return;
    const Fr x = random_scalar();
    for (auto _ : state) {
        benchmark::DoNotOptimize(split_sums(precomputed.get().split, x));
    }
}
BENCHMARK(BM_FinishCorrections)->Unit(benchmark::kMicrosecond);

void BM_FinishBlinding(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    LockedPrecompute precomputed;
    if (!decoded(state, precomputed)) return;
    const SplitProof& split = precomputed.get().split;
    const UnblindedProof sums = split_sums(split, random_scalar());
    for (auto _ : state) {
        libverify::Proof proof;
        benchmark::DoNotOptimize(
            blind_proof(split.delta1, split.delta2, sums, random_scalar(), random_scalar(), proof));
    }
}
BENCHMARK(BM_FinishBlinding)->Unit(benchmark::kMicrosecond);

// The check of a finished proof before it is sent (the CLI does it when it
// has the verifying key).
void BM_FinishVerify(benchmark::State& state) {
    REQUIRE_FIXTURE(state);
    const Fixture& f = fixture();
    LockedPrecompute precomputed;
    if (!decoded(state, precomputed)) return;
    libverify::Proof proof;
    std::vector<Fr> inputs;
    if (split_finish(precomputed.get().split, random_scalar(), proof, inputs) != Status::ok) {
        state.SkipWithError("finish failed");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(libverify::groth16_verify(f.vk, proof, inputs));
    }
}
BENCHMARK(BM_FinishVerify)->Unit(benchmark::kMicrosecond);

void BM_ZkeyLoad(benchmark::State& state) {
    for (auto _ : state) {
        ProvingKey key;
        if (ProvingKey::from_file(ZKC_CIRCUIT_ZKEY, key) != Status::ok) {
            state.SkipWithError("zkey load failed");
            return;
        }
        benchmark::DoNotOptimize(key);
    }
}
BENCHMARK(BM_ZkeyLoad)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
