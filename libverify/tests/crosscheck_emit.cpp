// Emits EdDSA-Poseidon signatures, Poseidon hashes and hash_to_field values
// computed by libverify as JSON on stdout, for
// tests/vectors/gen/eddsa_verify_ours.js to check against circomlibjs and
// node's crypto (CTest: eddsa_cross_check). The keys are fixed test keys.

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "libverify/decimal.hpp"
#include "libverify/eddsa_poseidon.hpp"
#include "libverify/field_helpers.hpp"
#include "libverify/poseidon.hpp"

namespace {

using libverify::Fr;
using libverify::Limbs;

std::string dec(const Limbs& x) {
    char buf[libverify::kMaxDecimalDigits];
    return std::string(buf, libverify::limbs_to_decimal(x, buf));
}

std::string dec(const Fr& x) { return dec(x.to_canonical()); }

std::string hex(const uint8_t* p, size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

// A deterministic spread of field elements: small, near r, and mixed.
Fr sample(uint64_t i) {
    Fr x = Fr::from_u64(i * 0x9e3779b97f4a7c15ULL + 1);
    for (int k = 0; k < 3; ++k) {
        x = x * x + Fr::from_u64(i + 7);
    }
    if (i % 3 == 0) {
        return -Fr::from_u64(i + 1);
    }
    return i % 3 == 1 ? Fr::from_u64(i) : x;
}

void emit_eddsa() {
    std::printf("\"eddsa\":[");
    for (uint64_t i = 0; i < 16; ++i) {
        uint8_t key_bytes[libverify::kEddsaPrivateKeyBytes];
        for (size_t j = 0; j < sizeof key_bytes; ++j) {
            key_bytes[j] = static_cast<uint8_t>(i * 89 + j * 13 + (i >> 1));
        }
        libverify::EddsaPrivateKey key;
        if (libverify::EddsaPrivateKey::from_bytes(key_bytes, sizeof key_bytes, key) !=
            libverify::Status::ok) {
            std::exit(2);
        }
        const Fr msg = sample(i);
        const libverify::BabyJubAffine pub = libverify::eddsa_prv2pub(key);
        const libverify::EddsaSignature sig = libverify::eddsa_sign_poseidon(key, msg);
        uint8_t packed[libverify::kEddsaSignatureBytes];
        libverify::eddsa_pack_signature(sig, packed);
        std::printf("%s{\"private_key_hex\":\"%s\",\"public_key\":[\"%s\",\"%s\"],"
                    "\"message\":\"%s\",\"signature\":{\"R8\":[\"%s\",\"%s\"],\"S\":\"%s\"},"
                    "\"packed_signature_hex\":\"%s\"}",
                    i == 0 ? "" : ",", hex(key_bytes, sizeof key_bytes).c_str(),
                    dec(pub.x).c_str(), dec(pub.y).c_str(), dec(msg).c_str(),
                    dec(sig.r8.x).c_str(), dec(sig.r8.y).c_str(), dec(sig.s).c_str(),
                    hex(packed, sizeof packed).c_str());
    }
    std::printf("]");
}

void emit_poseidon() {
    std::printf("\"poseidon\":[");
    for (size_t n = 1; n <= libverify::kPoseidonMaxInputs; ++n) {
        std::vector<Fr> inputs;
        for (size_t j = 0; j < n; ++j) {
            inputs.push_back(sample(n * 31 + j));
        }
        std::printf("%s{\"inputs\":[", n == 1 ? "" : ",");
        for (size_t j = 0; j < n; ++j) {
            std::printf("%s\"%s\"", j == 0 ? "" : ",", dec(inputs[j]).c_str());
        }
        std::printf("],\"output\":\"%s\"}", dec(libverify::poseidon(inputs.data(), n)).c_str());
    }
    std::printf("]");
}

void emit_hash_to_field() {
    std::printf("\"hash_to_field\":[");
    const std::string tags[] = {"", "zkcredit", std::string(255, 'T')};
    bool first = true;
    for (const std::string& tag : tags) {
        for (size_t len : {0u, 1u, 64u, 1024u}) {
            std::vector<uint8_t> data(len);
            for (size_t j = 0; j < len; ++j) {
                data[j] = static_cast<uint8_t>(j * 7 + tag.size());
            }
            Fr out;
            if (libverify::hash_to_field_checked(tag, data.data(), len, out) !=
                libverify::Status::ok) {
                std::exit(2);
            }
            std::printf("%s{\"tag\":\"%s\",\"data_hex\":\"%s\",\"output\":\"%s\"}",
                        first ? "" : ",", tag.c_str(), hex(data.data(), len).c_str(),
                        dec(out).c_str());
            first = false;
        }
    }
    std::printf("]");
}

}  // namespace

int main() {
    std::printf("{");
    emit_eddsa();
    std::printf(",");
    emit_poseidon();
    std::printf(",");
    emit_hash_to_field();
    std::printf("}\n");
    return 0;
}
