// Vector-driven tests against snarkjs-generated keys and proofs in
// tests/vectors/groth16/<circuit>/ (verification_key.json, cases.json,
// batch.json). Every case must produce exactly its expected Status through
// the JSON and the compact entry points, and agree with snarkjs's recorded
// verdict where ours is "ok". The environment variable ZKC_VECTORS_DIR
// overrides the compiled-in directory.
#include <gmp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "libverify/groth16.hpp"

namespace libverify {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path vectors_root() {
    const char* env = std::getenv("ZKC_VECTORS_DIR");
    return fs::path(env != nullptr ? env : ZKC_VECTORS_DIR) / "groth16";
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<fs::path> circuits() {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(vectors_root(), ec)) {
        if (fs::exists(entry.path() / "cases.json")) {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out(hex.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    }
    return out;
}

// Decimal strings to 32-byte big-endian words; false if some entry has no
// such encoding (not a string, not decimal, or >= 2^256).
bool inputs_to_bytes(const json& pub, std::vector<uint8_t>& out) {
    out.clear();
    for (const auto& v : pub) {
        if (!v.is_string()) {
            return false;
        }
        mpz_t z;
        mpz_init(z);
        bool ok = mpz_set_str(z, v.get<std::string>().c_str(), 10) == 0 && mpz_sgn(z) >= 0 &&
                  mpz_sizeinbase(z, 2) <= 256;
        if (ok) {
            uint8_t word[32] = {};
            size_t count = 0;
            uint8_t tmp[32];
            mpz_export(tmp, &count, 1, 1, 1, 0, z);
            std::copy(tmp, tmp + count, word + 32 - count);
            out.insert(out.end(), word, word + 32);
        }
        mpz_clear(z);
        if (!ok) {
            return false;
        }
    }
    return true;
}

Fq fq_from_decimal(const std::string& s) {
    mpz_t z;
    mpz_init_set_str(z, s.c_str(), 10);
    Limbs l{};
    size_t count = 0;
    mpz_export(l.data(), &count, -1, sizeof(uint64_t), 0, 0, z);
    mpz_clear(z);
    return Fq::from_canonical_unchecked(l);
}

Fq12 fq12_from_snarkjs(const json& j) {
    auto fq2 = [](const json& e) {
        return Fq2{fq_from_decimal(e[0].get<std::string>()), fq_from_decimal(e[1].get<std::string>())};
    };
    auto fq6 = [&](const json& e) { return Fq6{fq2(e[0]), fq2(e[1]), fq2(e[2])}; };
    return Fq12{fq6(j[0]), fq6(j[1])};
}

TEST(Groth16Vectors, EveryCaseHasItsExpectedStatus) {
    std::vector<fs::path> dirs = circuits();
    if (dirs.empty()) {
        GTEST_SKIP() << "no vectors under " << vectors_root();
    }
    for (const auto& dir : dirs) {
        SCOPED_TRACE(dir.string());
        VerifyingKey vk;
        std::string vk_text = read_file(dir / "verification_key.json");
        ASSERT_EQ(VerifyingKey::from_json(vk_text, vk), Status::ok);
        json doc = json::parse(read_file(dir / "cases.json"));
        ASSERT_EQ(doc["n_public"].get<size_t>(), vk.n_public());
        size_t checked = 0;
        for (const auto& c : doc["cases"]) {
            const std::string name = c["name"].get<std::string>();
            SCOPED_TRACE(name);
            if (!c["expect_json"].is_null()) {
                std::string proof_text = c["proof"].is_null() ? "null" : c["proof"].dump();
                Status got = groth16_verify_json(vk, proof_text, c["public"].dump());
                EXPECT_STREQ(status_name(got), c["expect_json"].get<std::string>().c_str());
                if (c["snarkjs"].is_boolean()) {
                    // We are stricter than snarkjs (canonical encodings), never laxer.
                    if (got == Status::ok) {
                        EXPECT_TRUE(c["snarkjs"].get<bool>());
                    }
                    if (!c["snarkjs"].get<bool>()) {
                        EXPECT_NE(got, Status::ok);
                    }
                }
                ++checked;
            }
            if (!c["expect_compact"].is_null()) {
                std::vector<uint8_t> proof =
                    c["compact_hex"].is_null() ? std::vector<uint8_t>{}
                                               : from_hex(c["compact_hex"].get<std::string>());
                std::vector<uint8_t> inputs;
                ASSERT_TRUE(inputs_to_bytes(c["public"], inputs));
                Status got = groth16_verify_compact(vk, proof.data(), proof.size(), inputs.data(),
                                                    inputs.size());
                EXPECT_STREQ(status_name(got), c["expect_compact"].get<std::string>().c_str());
                ++checked;
            }
            if (c["expect_json"] == "ok" && c["expect_compact"] == "ok") {
                // The two forms describe the same proof.
                Proof from_json;
                ASSERT_EQ(Proof::from_json(c["proof"].dump(), from_json), Status::ok);
                uint8_t compact[kCompactProofSize];
                from_json.to_compact(compact);
                EXPECT_EQ(std::vector<uint8_t>(compact, compact + kCompactProofSize),
                          from_hex(c["compact_hex"].get<std::string>()));
            }
        }
        EXPECT_GT(checked, 0u);
    }
}

// snarkjs's vk_alphabeta_12 uses the same tower and coefficient layout (c0
// before c1 at every level, canonical decimal integers), but ffjavascript's
// final exponentiation (Fuentes-Castaneda et al.) raises to a multiple of
// ours: its value is e(alpha, beta)^k with k = 2x(6x^2 + 3x + 1), x the BN
// parameter. Both are valid pairings; the verifier never uses snarkjs's value.
Limbs snarkjs_pairing_power() {
    mpz_t x, k, t, r;
    mpz_inits(x, k, t, r, nullptr);
    mpz_set_ui(x, 4965661367192848881UL);
    mpz_import(r, 4, -1, sizeof(uint64_t), 0, 0, Fr::kModulus.data());
    mpz_mul(k, x, x);
    mpz_mul_ui(k, k, 6);
    mpz_mul_ui(t, x, 3);
    mpz_add(k, k, t);
    mpz_add_ui(k, k, 1);
    mpz_mul(k, k, x);
    mpz_mul_ui(k, k, 2);
    mpz_mod(k, k, r);
    Limbs out{};
    size_t count = 0;
    mpz_export(out.data(), &count, -1, sizeof(uint64_t), 0, 0, k);
    mpz_clears(x, k, t, r, nullptr);
    return out;
}

TEST(Groth16Vectors, AlphaBetaMatchesSnarkjs) {
    std::vector<fs::path> dirs = circuits();
    if (dirs.empty()) {
        GTEST_SKIP() << "no vectors under " << vectors_root();
    }
    for (const auto& dir : dirs) {
        SCOPED_TRACE(dir.string());
        std::string vk_text = read_file(dir / "verification_key.json");
        VerifyingKey vk;
        ASSERT_EQ(VerifyingKey::from_json(vk_text, vk), Status::ok);
        json doc = json::parse(vk_text);
        ASSERT_TRUE(doc.contains("vk_alphabeta_12"));
        Fq12 theirs = fq12_from_snarkjs(doc["vk_alphabeta_12"]);
        EXPECT_FALSE(theirs == vk.alpha_beta());
        const Limbs k = snarkjs_pairing_power();
        EXPECT_TRUE(theirs == vk.alpha_beta().pow_vartime(k.data(), 4));
    }
}

// Batch verification over snarkjs proofs, alone and mixed with invalid
// cases: the batch verdicts must equal the per-proof verdicts and the
// recorded snarkjs verdicts.
TEST(Groth16Vectors, BatchAgreesWithIndividualAndSnarkjsVerdicts) {
    std::vector<fs::path> dirs = circuits();
    if (dirs.empty()) {
        GTEST_SKIP() << "no vectors under " << vectors_root();
    }
    const uint8_t seed[32] = {0x5a, 0x17};
    for (const auto& dir : dirs) {
        SCOPED_TRACE(dir.string());
        if (!fs::exists(dir / "batch.json")) {
            continue;
        }
        VerifyingKey vk;
        ASSERT_EQ(VerifyingKey::from_json(read_file(dir / "verification_key.json"), vk),
                  Status::ok);
        std::vector<Proof> proofs;
        std::vector<std::vector<Fr>> inputs;
        std::vector<bool> snarkjs_verdicts;
        json batch = json::parse(read_file(dir / "batch.json"));
        for (const auto& item : batch["proofs"]) {
            proofs.emplace_back();
            inputs.emplace_back();
            ASSERT_EQ(Proof::from_json(item["proof"].dump(), proofs.back()), Status::ok);
            ASSERT_EQ(public_inputs_from_json(item["public"].dump(), inputs.back()), Status::ok);
            snarkjs_verdicts.push_back(true);
        }
        ASSERT_FALSE(proofs.empty());
        std::vector<Status> verdicts(proofs.size(), Status::internal_error);
        EXPECT_EQ(groth16_verify_batch(vk, proofs.data(), inputs.data(), proofs.size(), seed,
                                       verdicts.data()),
                  Status::ok);

        // Interleave well-formed invalid cases (invalid_proof under JSON).
        json cases = json::parse(read_file(dir / "cases.json"));
        size_t slot = 1;
        for (const auto& c : cases["cases"]) {
            if (c["expect_json"] != "invalid_proof" || !c["snarkjs"].is_boolean()) {
                continue;
            }
            Proof p;
            std::vector<Fr> xs;
            ASSERT_EQ(Proof::from_json(c["proof"].dump(), p), Status::ok);
            ASSERT_EQ(public_inputs_from_json(c["public"].dump(), xs), Status::ok);
            size_t at = std::min(slot, proofs.size());
            proofs.insert(proofs.begin() + static_cast<long>(at), p);
            inputs.insert(inputs.begin() + static_cast<long>(at), xs);
            snarkjs_verdicts.insert(snarkjs_verdicts.begin() + static_cast<long>(at),
                                    c["snarkjs"].get<bool>());
            slot += 3;
        }
        verdicts.assign(proofs.size(), Status::internal_error);
        Status overall = groth16_verify_batch(vk, proofs.data(), inputs.data(), proofs.size(),
                                              seed, verdicts.data());
        bool all_snarkjs = true;
        for (size_t i = 0; i < proofs.size(); ++i) {
            SCOPED_TRACE(i);
            Status single = groth16_verify(vk, proofs[i], inputs[i]);
            EXPECT_EQ(verdicts[i], single);
            EXPECT_EQ(single == Status::ok, snarkjs_verdicts[i]);
            all_snarkjs = all_snarkjs && snarkjs_verdicts[i];
        }
        EXPECT_EQ(overall == Status::ok, all_snarkjs);
    }
}

}  // namespace
}  // namespace libverify
