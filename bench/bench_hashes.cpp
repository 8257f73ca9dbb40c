// Per-operation cost of Poseidon (t = 2..6), EdDSA-Poseidon key derivation,
// signing and verification, and hash_to_field on 1 KiB.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "libverify/eddsa_poseidon.hpp"
#include "libverify/field_helpers.hpp"
#include "libverify/poseidon.hpp"

namespace {

using libverify::Fr;

void BM_Poseidon(benchmark::State& state) {
    const size_t n = static_cast<size_t>(state.range(0));
    std::vector<Fr> inputs;
    for (size_t i = 0; i < n; ++i) {
        inputs.push_back(-Fr::from_u64(i * 1000003 + 17));
    }
    for (auto _ : state) {
        Fr out = libverify::poseidon(inputs.data(), n);
        benchmark::DoNotOptimize(out);
        inputs[0] = out;
    }
    state.SetLabel("t=" + std::to_string(n + 1));
}
BENCHMARK(BM_Poseidon)->DenseRange(1, 5);

void load_key(libverify::EddsaPrivateKey& key) {
    uint8_t bytes[libverify::kEddsaPrivateKeyBytes];
    for (size_t i = 0; i < sizeof bytes; ++i) {
        bytes[i] = static_cast<uint8_t>(i * 29 + 3);
    }
    if (libverify::EddsaPrivateKey::from_bytes(bytes, sizeof bytes, key) !=
        libverify::Status::ok) {
        std::abort();
    }
}

void BM_EddsaPrv2pub(benchmark::State& state) {
    libverify::EddsaPrivateKey key;
    load_key(key);
    for (auto _ : state) {
        benchmark::DoNotOptimize(libverify::eddsa_prv2pub(key));
    }
}
BENCHMARK(BM_EddsaPrv2pub);

void BM_EddsaSign(benchmark::State& state) {
    libverify::EddsaPrivateKey key;
    load_key(key);
    Fr msg = Fr::from_u64(123456789);
    for (auto _ : state) {
        benchmark::DoNotOptimize(libverify::eddsa_sign_poseidon(key, msg));
    }
}
BENCHMARK(BM_EddsaSign);

// What the gateway does per voucher: the key was expanded at configuration.
void BM_EddsaSignExpandedKey(benchmark::State& state) {
    libverify::EddsaPrivateKey key;
    load_key(key);
    const libverify::EddsaSigningKey signing(key);
    Fr msg = Fr::from_u64(123456789);
    for (auto _ : state) {
        benchmark::DoNotOptimize(libverify::eddsa_sign_poseidon(signing, msg));
    }
}
BENCHMARK(BM_EddsaSignExpandedKey);

void BM_EddsaVerify(benchmark::State& state) {
    libverify::EddsaPrivateKey key;
    load_key(key);
    const Fr msg = Fr::from_u64(123456789);
    const libverify::BabyJubAffine pub = libverify::eddsa_prv2pub(key);
    const libverify::EddsaSignature sig = libverify::eddsa_sign_poseidon(key, msg);
    for (auto _ : state) {
        libverify::Status st = libverify::eddsa_verify_poseidon(msg, sig, pub);
        if (st != libverify::Status::ok) {
            state.SkipWithError("signature did not verify");
            break;
        }
    }
}
BENCHMARK(BM_EddsaVerify);

void BM_HashToField1KiB(benchmark::State& state) {
    std::vector<uint8_t> data(1024);
    for (size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<uint8_t>(i);
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            libverify::hash_to_field("zkcredit/bench", data.data(), data.size()));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 1024);
}
BENCHMARK(BM_HashToField1KiB);

}  // namespace

BENCHMARK_MAIN();
