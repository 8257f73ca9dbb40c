#include "libverify/eddsa_poseidon.hpp"
#include "libverify/protocol.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>
#include <vector>

#include "hashes_test_util.hpp"

namespace libverify {
namespace {

using hashes_test::fr;
using hashes_test::str;
using hashes_test::limbs;

struct VectorCase {
    std::vector<uint8_t> private_key;
    BabyJubAffine pub;
    Fr msg;
    EddsaSignature sig;
    std::vector<uint8_t> packed;
    std::vector<uint8_t> packed_pub;  // empty when the file does not give it
};

std::vector<VectorCase> load_cases() {
    std::vector<VectorCase> out;
    nlohmann::json doc;
    if (!hashes_test::load_vectors("eddsa/eddsa.json", doc)) {
        return out;
    }
    const nlohmann::json& cases = doc["cases"];
    for (size_t i = 0; i < cases.size(); ++i) {
        const nlohmann::json& c = cases[i];
        VectorCase v;
        v.private_key = hashes_test::from_hex(str(c["private_key_hex"]));
        v.pub = BabyJubAffine{fr(str(c["public_key"][0])), fr(str(c["public_key"][1]))};
        v.msg = fr(str(c["message"]));
        v.sig.r8 = BabyJubAffine{fr(str(c["signature"]["R8"][0])),
                                 fr(str(c["signature"]["R8"][1]))};
        v.sig.s = limbs(str(c["signature"]["S"]));
        v.packed = hashes_test::from_hex(str(c["packed_signature_hex"]));
        if (c.contains("packed_public_key_hex")) {
            v.packed_pub = hashes_test::from_hex(str(c["packed_public_key_hex"]));
        }
        out.push_back(std::move(v));
    }
    return out;
}

bool same(const BabyJubAffine& a, const BabyJubAffine& b) { return a.x == b.x && a.y == b.y; }

void load_key(const std::vector<uint8_t>& bytes, EddsaPrivateKey& key) {
    ASSERT_EQ(EddsaPrivateKey::from_bytes(bytes.data(), bytes.size(), key), Status::ok);
}

TEST(EddsaPoseidon, VectorFileSignAndVerify) {
    const std::vector<VectorCase> cases = load_cases();
    if (cases.empty()) {
        GTEST_SKIP() << "tests/vectors/eddsa/eddsa.json not present";
    }
    for (size_t i = 0; i < cases.size(); ++i) {
        const VectorCase& v = cases[i];
        SCOPED_TRACE("case " + std::to_string(i));
        EddsaPrivateKey key;
        load_key(v.private_key, key);
        EXPECT_TRUE(same(eddsa_prv2pub(key), v.pub));

        const EddsaSignature sig = eddsa_sign_poseidon(key, v.msg);
        EXPECT_TRUE(same(sig.r8, v.sig.r8));
        EXPECT_EQ(sig.s, v.sig.s);

        EXPECT_EQ(eddsa_verify_poseidon(v.msg, v.sig, v.pub), Status::ok);

        ASSERT_EQ(v.packed.size(), kEddsaSignatureBytes);
        uint8_t packed[kEddsaSignatureBytes];
        eddsa_pack_signature(v.sig, packed);
        EXPECT_EQ(std::memcmp(packed, v.packed.data(), kEddsaSignatureBytes), 0);
        EddsaSignature unpacked;
        ASSERT_EQ(eddsa_unpack_signature(v.packed.data(), unpacked), Status::ok);
        EXPECT_TRUE(same(unpacked.r8, v.sig.r8));
        EXPECT_EQ(unpacked.s, v.sig.s);

        if (!v.packed_pub.empty()) {
            ASSERT_EQ(v.packed_pub.size(), kBabyJubPackedBytes);
            uint8_t packed_pub[kBabyJubPackedBytes];
            baby_jub_pack(v.pub, packed_pub);
            EXPECT_EQ(std::memcmp(packed_pub, v.packed_pub.data(), kBabyJubPackedBytes), 0);
            BabyJubAffine pub;
            ASSERT_EQ(baby_jub_unpack(v.packed_pub.data(), pub), Status::ok);
            EXPECT_TRUE(same(pub, v.pub));
        }
    }
}

// Order-8 point: l * circomlibjs's Generator.
BabyJubPoint order8_point() {
    return BabyJubPoint::from_affine(BabyJubAffine{
        fr("4342719913949491028786768530115087822524712248835451589697801404893164183326"),
        fr("4826523245007015323400664741523384119579596407052839571721035538011798951543")});
}

// Signatures made here, for the tampering checks when no vector file exists.
std::vector<VectorCase> own_cases() {
    std::vector<VectorCase> out;
    for (uint8_t seed = 1; seed <= 4; ++seed) {
        VectorCase v;
        v.private_key.assign(kEddsaPrivateKeyBytes, seed);
        EddsaPrivateKey key;
        EXPECT_EQ(EddsaPrivateKey::from_bytes(v.private_key.data(), v.private_key.size(), key),
                  Status::ok);
        v.pub = eddsa_prv2pub(key);
        v.msg = Fr::from_u64(seed) * fr("1000000000000000000000000000000000007");
        v.sig = eddsa_sign_poseidon(key, v.msg);
        out.push_back(std::move(v));
    }
    return out;
}

TEST(EddsaPoseidon, TamperedSignaturesRejected) {
    std::vector<VectorCase> cases = load_cases();
    if (cases.empty()) {
        cases = own_cases();
    }
    for (size_t i = 0; i < cases.size(); ++i) {
        const VectorCase& v = cases[i];
        SCOPED_TRACE("case " + std::to_string(i));
        const VectorCase& other = cases[(i + 1) % cases.size()];

        EddsaSignature sig = v.sig;
        sig.r8.x += Fr::one();
        EXPECT_EQ(eddsa_verify_poseidon(v.msg, sig, v.pub), Status::not_on_curve);
        // -R8 is on the curve and in the subgroup: only the equation fails.
        sig = v.sig;
        sig.r8.x = -sig.r8.x;
        EXPECT_EQ(eddsa_verify_poseidon(v.msg, sig, v.pub), Status::invalid_signature);

        sig = v.sig;
        sig.r8.y += Fr::one();
        EXPECT_NE(eddsa_verify_poseidon(v.msg, sig, v.pub), Status::ok);

        sig = v.sig;
        BabyJubScalar s_plus_one;
        ASSERT_TRUE(BabyJubScalar::from_canonical(sig.s, s_plus_one));
        sig.s = (s_plus_one + BabyJubScalar::one()).to_canonical();
        EXPECT_EQ(eddsa_verify_poseidon(v.msg, sig, v.pub), Status::invalid_signature);

        EXPECT_EQ(eddsa_verify_poseidon(v.msg + Fr::one(), v.sig, v.pub),
                  Status::invalid_signature);

        EXPECT_EQ(eddsa_verify_poseidon(v.msg, v.sig, other.pub), Status::invalid_signature);
        BabyJubAffine bad_pub = v.pub;
        bad_pub.y += Fr::one();
        EXPECT_EQ(eddsa_verify_poseidon(v.msg, v.sig, bad_pub), Status::not_on_curve);

        // S + l: the same residue, but circomlibjs and we refuse S >= l.
        sig = v.sig;
        detail::u128 carry = 0;
        for (int j = 0; j < 4; ++j) {
            carry += static_cast<detail::u128>(sig.s[j]) + BabyJubScalarParams::modulus[j];
            sig.s[j] = static_cast<uint64_t>(carry);
            carry >>= 64;
        }
        EXPECT_EQ(eddsa_verify_poseidon(v.msg, sig, v.pub), Status::input_out_of_range);

        // R8 + T with T of order 8: on the curve, outside the subgroup.
        sig = v.sig;
        sig.r8 = (BabyJubPoint::from_affine(v.sig.r8) + order8_point()).to_affine();
        EXPECT_TRUE(baby_jub_is_on_curve(sig.r8));
        EXPECT_EQ(eddsa_verify_poseidon(v.msg, sig, v.pub), Status::not_in_subgroup);
        BabyJubAffine pub_t = (BabyJubPoint::from_affine(v.pub) + order8_point()).to_affine();
        EXPECT_EQ(eddsa_verify_poseidon(v.msg, v.sig, pub_t), Status::not_in_subgroup);
    }
}

TEST(EddsaPoseidon, IdentityPublicKeyRejected) {
    // With A = identity, S B8 = R8 holds for every message; reject it.
    EddsaSignature sig{BabyJubPoint::base8().to_affine(), Limbs{1, 0, 0, 0}};
    EXPECT_EQ(eddsa_verify_poseidon(Fr::from_u64(5), sig,
                                    BabyJubPoint::identity().to_affine()),
              Status::identity_point);
}

TEST(EddsaPoseidon, OwnSignaturesVerify) {
    for (uint8_t seed = 0; seed < 8; ++seed) {
        uint8_t bytes[kEddsaPrivateKeyBytes];
        for (size_t i = 0; i < sizeof bytes; ++i) {
            bytes[i] = static_cast<uint8_t>(seed * 37 + i);
        }
        EddsaPrivateKey key;
        ASSERT_EQ(EddsaPrivateKey::from_bytes(bytes, sizeof bytes, key), Status::ok);
        const BabyJubAffine pub = eddsa_prv2pub(key);
        EXPECT_EQ(baby_jub_check(pub), Status::ok);
        const Fr msg = Fr::from_u64(seed) - Fr::from_u64(3);
        const EddsaSignature sig = eddsa_sign_poseidon(key, msg);
        EXPECT_EQ(eddsa_verify_poseidon(msg, sig, pub), Status::ok);
        uint8_t packed[kEddsaSignatureBytes];
        eddsa_pack_signature(sig, packed);
        EddsaSignature back;
        ASSERT_EQ(eddsa_unpack_signature(packed, back), Status::ok);
        EXPECT_EQ(eddsa_verify_poseidon(msg, back, pub), Status::ok);
    }
}

TEST(EddsaPoseidon, SigningKeySignsLikeThePrivateKeyAcrossMessages) {
    uint8_t bytes[kEddsaPrivateKeyBytes];
    for (size_t i = 0; i < sizeof bytes; ++i) {
        bytes[i] = static_cast<uint8_t>(0xa5 ^ i);
    }
    EddsaPrivateKey key;
    ASSERT_EQ(EddsaPrivateKey::from_bytes(bytes, sizeof bytes, key), Status::ok);
    const EddsaSigningKey signing(key);
    EXPECT_TRUE(signing.public_key().x == eddsa_prv2pub(key).x &&
                signing.public_key().y == eddsa_prv2pub(key).y);
    for (uint64_t m = 0; m < 4; ++m) {
        const Fr msg = Fr::from_u64(m * 1000003);
        const EddsaSignature once = eddsa_sign_poseidon(key, msg);
        const EddsaSignature reused = eddsa_sign_poseidon(signing, msg);
        EXPECT_TRUE(once.r8.x == reused.r8.x && once.r8.y == reused.r8.y && once.s == reused.s);
        EXPECT_EQ(eddsa_verify_poseidon(msg, reused, signing.public_key()), Status::ok);
    }
    EXPECT_EQ(testing::PrintToString(signing), "<redacted>");
}

TEST(EddsaPoseidon, RefundVoucherSignedOnceVerifiesAndBindsItsFields) {
    const uint8_t bytes[kEddsaPrivateKeyBytes] = {7, 7, 7};
    EddsaPrivateKey key;
    ASSERT_EQ(EddsaPrivateKey::from_bytes(bytes, sizeof bytes, key), Status::ok);
    const EddsaSigningKey signing(key);
    const Fr key_hash = server_key_hash(signing.public_key());
    const Fr scope = Fr::from_u64(77);
    const Fr c_new = Fr::from_u64(123456789);
    const Refund refund = refund_sign(signing, key_hash, scope, c_new, 750);
    EXPECT_EQ(refund_verify(refund, signing.public_key(), scope, c_new), Status::ok);
    EXPECT_EQ(refund_verify(refund, signing.public_key(), scope + Fr::one(), c_new),
              Status::invalid_signature);
    EXPECT_EQ(refund_verify(refund, signing.public_key(), scope, c_new + Fr::one()),
              Status::invalid_signature);
    Refund more = refund;
    more.amount += 1;
    EXPECT_EQ(refund_verify(more, signing.public_key(), scope, c_new), Status::invalid_signature);
}

TEST(EddsaPoseidon, PrivateKeyHandling) {
    const uint8_t bytes[33] = {1, 2, 3};
    EddsaPrivateKey key;
    EXPECT_EQ(EddsaPrivateKey::from_bytes(bytes, 31, key), Status::bad_length);
    EXPECT_EQ(EddsaPrivateKey::from_bytes(bytes, 33, key), Status::bad_length);
    ASSERT_EQ(EddsaPrivateKey::from_bytes(bytes, 32, key), Status::ok);
    std::ostringstream os;
    os << key;
    EXPECT_EQ(os.str(), "<redacted>");
    EXPECT_EQ(testing::PrintToString(key), "<redacted>");
}

TEST(EddsaPoseidon, UnpackSignatureRejectsBadR8) {
    uint8_t packed[kEddsaSignatureBytes] = {};
    packed[0] = 1;  // y = 1: the identity, which circomlibjs cannot unpack
    EddsaSignature sig;
    EXPECT_EQ(eddsa_unpack_signature(packed, sig), Status::identity_point);
}

}  // namespace
}  // namespace libverify
