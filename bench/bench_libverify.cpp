// libverify micro and end-to-end benchmarks (single core).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "groth16_fixture.hpp"
#include "libverify/groth16.hpp"
#include "libverify/pairing.hpp"

namespace libverify {
namespace {

using testing_util::Rng;
using testing_util::TrapdoorSetup;

void BM_FqMul(benchmark::State& state) {
    Rng rng(1);
    Fq a = rng.fq(), b = rng.fq();
    for (auto _ : state) {
        a = a * b;
        benchmark::DoNotOptimize(a);
    }
}
BENCHMARK(BM_FqMul);

void BM_Fq12Mul(benchmark::State& state) {
    Rng rng(1);
    Fq12 a = rng.fq12(), b = rng.fq12();
    for (auto _ : state) {
        a = a * b;
        benchmark::DoNotOptimize(a);
    }
}
BENCHMARK(BM_Fq12Mul);

void BM_Pairing(benchmark::State& state) {
    Rng rng(2);
    G1Affine p = rng.g1();
    G2Affine q = rng.g2();
    for (auto _ : state) {
        benchmark::DoNotOptimize(pairing(p, q));
    }
}
BENCHMARK(BM_Pairing)->Unit(benchmark::kMicrosecond);

void BM_MillerLoop(benchmark::State& state) {
    Rng rng(2);
    G1Affine p = rng.g1();
    G2Affine q = rng.g2();
    for (auto _ : state) {
        benchmark::DoNotOptimize(multi_miller_loop(nullptr, nullptr, 0, &p, &q, 1));
    }
}
BENCHMARK(BM_MillerLoop)->Unit(benchmark::kMicrosecond);

void BM_FinalExponentiation(benchmark::State& state) {
    Rng rng(2);
    Fq12 f = rng.fq12();
    for (auto _ : state) {
        benchmark::DoNotOptimize(final_exponentiation(f));
    }
}
BENCHMARK(BM_FinalExponentiation)->Unit(benchmark::kMicrosecond);

void BM_MultiPairing4(benchmark::State& state) {
    Rng rng(3);
    std::vector<G1Affine> ps;
    std::vector<G2Affine> qs;
    for (int i = 0; i < 4; ++i) {
        ps.push_back(rng.g1());
        qs.push_back(rng.g2());
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(pairing_product_is_one(ps.data(), qs.data(), 4));
    }
}
BENCHMARK(BM_MultiPairing4)->Unit(benchmark::kMicrosecond);

void BM_G1Mul(benchmark::State& state) {
    Rng rng(4);
    G1 p = G1::from_affine(rng.g1());
    Limbs k = rng.scalar();
    for (auto _ : state) {
        benchmark::DoNotOptimize(state.range(0) ? p.mul_vartime(k) : p.mul(k));
    }
}
BENCHMARK(BM_G1Mul)->ArgName("vartime")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_G2Mul(benchmark::State& state) {
    Rng rng(5);
    G2 q = G2::from_affine(rng.g2());
    Limbs k = rng.scalar();
    for (auto _ : state) {
        benchmark::DoNotOptimize(state.range(0) ? q.mul_vartime(k) : q.mul(k));
    }
}
BENCHMARK(BM_G2Mul)->ArgName("vartime")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_G2SubgroupCheck(benchmark::State& state) {
    Rng rng(6);
    G2 q = G2::from_affine(rng.g2());
    for (auto _ : state) {
        benchmark::DoNotOptimize(g2_in_subgroup_vartime(q));
    }
}
BENCHMARK(BM_G2SubgroupCheck)->Unit(benchmark::kMicrosecond);

void BM_CompactProofDecode(benchmark::State& state) {
    TrapdoorSetup setup(8, 7);
    auto bytes = testing_util::compact(setup.prove(setup.random_inputs()));
    for (auto _ : state) {
        Proof p;
        benchmark::DoNotOptimize(Proof::from_compact(bytes.data(), bytes.size(), p));
    }
}
BENCHMARK(BM_CompactProofDecode)->Unit(benchmark::kMicrosecond);

struct Fixture {
    explicit Fixture(size_t n_proofs) : setup(8, 8) {
        if (VerifyingKey::from_json(setup.vk_json(), vk) != Status::ok) {
            abort();
        }
        for (size_t i = 0; i < n_proofs; ++i) {
            inputs.push_back(setup.random_inputs());
            auto bytes = testing_util::compact(setup.prove(inputs.back()));
            compact.push_back(bytes);
            proofs.emplace_back();
            if (Proof::from_compact(bytes.data(), bytes.size(), proofs.back()) != Status::ok) {
                abort();
            }
        }
    }
    TrapdoorSetup setup;
    VerifyingKey vk;
    std::vector<Proof> proofs;
    std::vector<std::vector<uint8_t>> compact;
    std::vector<std::vector<Fr>> inputs;
};

void BM_Groth16Verify8Inputs(benchmark::State& state) {
    Fixture f(1);
    for (auto _ : state) {
        if (groth16_verify(f.vk, f.proofs[0], f.inputs[0]) != Status::ok) {
            state.SkipWithError("rejected");
        }
    }
}
BENCHMARK(BM_Groth16Verify8Inputs)->Unit(benchmark::kMicrosecond);

// Bytes in, verdict out: decoding and the subgroup check included.
void BM_Groth16VerifyCompact8Inputs(benchmark::State& state) {
    Fixture f(1);
    auto in = testing_util::inputs_bytes(f.inputs[0]);
    for (auto _ : state) {
        if (groth16_verify_compact(f.vk, f.compact[0].data(), 128, in.data(), in.size()) !=
            Status::ok) {
            state.SkipWithError("rejected");
        }
    }
}
BENCHMARK(BM_Groth16VerifyCompact8Inputs)->Unit(benchmark::kMicrosecond);

// Reports proofs per CPU-second; per-proof time is its inverse.
void BM_Groth16Batch(benchmark::State& state) {
    size_t n = static_cast<size_t>(state.range(0));
    Fixture f(n);
    const uint8_t seed[32] = {7};
    for (auto _ : state) {
        if (groth16_verify_batch(f.vk, f.proofs.data(), f.inputs.data(), n, seed, nullptr) !=
            Status::ok) {
            state.SkipWithError("rejected");
        }
    }
    state.counters["proofs_per_s"] =
        benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Groth16Batch)->Arg(1)->Arg(4)->Arg(16)->Arg(64)->Arg(256)->Unit(benchmark::kMillisecond);

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The first valid case of a snarkjs vector (ZKC_BENCH_VECTOR, default
// eight_inputs): JSON text in, or pre-parsed proof and inputs.
void BM_Groth16VerifyVector(benchmark::State& state, bool json_in) {
    const char* env = std::getenv("ZKC_BENCH_VECTOR");
    std::string dir = env ? env : std::string(ZKC_VECTORS_DIR) + "/groth16/eight_inputs";
    VerifyingKey vk;
    if (VerifyingKey::from_json(slurp(dir + "/verification_key.json"), vk) != Status::ok) {
        state.SkipWithError("no vector (set ZKC_BENCH_VECTOR)");
        return;
    }
    auto cases = nlohmann::json::parse(slurp(dir + "/cases.json"), nullptr, false);
    std::string proof_text, public_text;
    for (const auto& c : cases["cases"]) {
        if (c["expect_json"] == "ok") {
            proof_text = c["proof"].dump();
            public_text = c["public"].dump();
            break;
        }
    }
    Proof proof;
    std::vector<Fr> inputs;
    if (Proof::from_json(proof_text, proof) != Status::ok ||
        public_inputs_from_json(public_text, inputs) != Status::ok) {
        state.SkipWithError("no valid case");
        return;
    }
    for (auto _ : state) {
        Status s = json_in ? groth16_verify_json(vk, proof_text, public_text)
                                       : groth16_verify(vk, proof, inputs);
        if (s != Status::ok) {
            state.SkipWithError("rejected");
        }
    }
}
BENCHMARK_CAPTURE(BM_Groth16VerifyVector, json, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Groth16VerifyVector, parsed, false)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace libverify

BENCHMARK_MAIN();
