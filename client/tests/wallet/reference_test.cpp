// The client library against the reference implementation
// (tests/reference/protocol.mjs via reference.mjs): Merkle roots and paths,
// request bindings, identities, tickets, commitments, vouchers, and the
// whole circuit input of a genesis and of a voucher request.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "libverify/decimal.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/merkle.hpp"

namespace zkclient {
namespace {

using nlohmann::json;

const json& reference() {
    static const json doc = [] {
        const char* path = std::getenv("ZKC_WALLET_REFERENCE");
        if (path == nullptr) return json();
        std::ifstream in(path);
        std::ostringstream text;
        text << in.rdbuf();
        return json::parse(text.str());
    }();
    return doc;
}

#define REQUIRE_REFERENCE() \
    if (reference().is_null()) GTEST_SKIP() << "ZKC_WALLET_REFERENCE unset"

Fr hex_fr(const json& v) {
    Fr out;
    EXPECT_EQ(fr_from_hex(v.get<std::string>(), out), Status::ok) << v;
    return out;
}

Fr dec_fr(const json& v) {
    Fr out;
    EXPECT_EQ(libverify::fr_from_decimal(v.get<std::string>(), out), Status::ok) << v;
    return out;
}

uint64_t dec_u64(const json& v) { return std::stoull(v.get<std::string>()); }

std::vector<uint8_t> unhex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
}

TEST(Reference, MerkleRootsAndPaths) {
    REQUIRE_REFERENCE();
    for (const json& t : reference().at("trees")) {
        const uint32_t depth = t.at("depth").get<uint32_t>();
        std::vector<Fr> leaves;
        for (const json& l : t.at("leaves")) leaves.push_back(hex_fr(l));
        Fr root;
        ASSERT_EQ(merkle_root(depth, leaves, root), Status::ok);
        EXPECT_EQ(fr_to_hex(root), t.at("root").get<std::string>()) << "depth " << depth;
        for (const json& p : t.at("paths")) {
            Fr path_root;
            MerklePath path;
            ASSERT_EQ(
                merkle_root_and_path(depth, leaves, p.at("index").get<uint64_t>(), path_root, path),
                Status::ok);
            EXPECT_TRUE(path_root == root);
            ASSERT_EQ(path.elements.size(), depth);
            for (uint32_t h = 0; h < depth; ++h) {
                EXPECT_EQ(fr_to_hex(path.elements[h]), p.at("elements")[h].get<std::string>());
                EXPECT_EQ(path.indices[h], p.at("indices")[h].get<int>());
            }
        }
    }
}

TEST(Reference, RequestBindings) {
    REQUIRE_REFERENCE();
    for (const json& b : reference().at("bindings")) {
        const std::vector<uint8_t> nonce = unhex(b.at("nonce").get<std::string>());
        Fr x;
        ASSERT_EQ(
            request_binding(b.at("method").get<std::string>(), b.at("target").get<std::string>(),
                            b.at("body").get<std::string>(), nonce.data(), x),
            Status::ok);
        EXPECT_EQ(fr_to_hex(x), b.at("x").get<std::string>());
    }
}

TEST(Reference, IdentitiesTicketsCommitments) {
    REQUIRE_REFERENCE();
    for (const json& c : reference().at("identities")) {
        const Fr k = dec_fr(c.at("k"));
        const uint64_t deposit = dec_u64(c.at("deposit"));
        EXPECT_EQ(fr_to_dec(identity_of(k)), c.at("id").get<std::string>());
        EXPECT_EQ(fr_to_hex(leaf_of(k, deposit)), c.at("leaf").get<std::string>());
        const Ticket t =
            ticket_of(k, Fr::from_u64(77), static_cast<uint32_t>(dec_u64(c.at("ticket"))));
        EXPECT_EQ(fr_to_hex(t.nullifier), c.at("nullifier").get<std::string>());
        EXPECT_EQ(fr_to_dec(signal_of(k, t.secret, dec_fr(c.at("x")))),
                  c.at("signal").get<std::string>());
        EXPECT_EQ(fr_to_dec(commitment_of(k, dec_u64(c.at("refund_total")),
                                             dec_u64(c.at("ticket")), dec_fr(c.at("salt")))),
                  c.at("commitment").get<std::string>());
    }
}

TEST(Reference, VouchersAcceptedOnlyForTheirCommitment) {
    REQUIRE_REFERENCE();
    const json& v = reference().at("vouchers");
    std::array<uint8_t, libverify::kBabyJubPackedBytes> packed;
    BabyJubAffine key;
    ASSERT_EQ(key_from_hex(v.at("key_packed").get<std::string>(), packed, key), Status::ok);
    const Fr scope = dec_fr(v.at("scope"));
    const Fr c_new = dec_fr(v.at("c_new"));
    libverify::Refund refund;
    ASSERT_EQ(voucher_accept(v.at("valid").get<std::string>(), key, scope, c_new, refund),
              Status::ok);
    EXPECT_EQ(refund.amount, 123u);
    EXPECT_EQ(voucher_accept(v.at("other_c").get<std::string>(), key, scope, c_new, refund),
              Status::invalid_signature);
    EXPECT_EQ(
        voucher_accept(v.at("valid").get<std::string>(), key, scope + Fr::one(), c_new, refund),
        Status::invalid_signature);
    std::string tampered = v.at("valid").get<std::string>();
    tampered[5] = tampered[5] == 'A' ? 'B' : 'A';  // inside the amount
    EXPECT_NE(voucher_accept(tampered, key, scope, c_new, refund), Status::ok);
    EXPECT_EQ(voucher_accept("short", key, scope, c_new, refund), Status::bad_length);
}

void expect_same_input(const CreditInput& ours, const json& theirs) {
    const CircuitInput signals = ours.to_circuit_input();
    ASSERT_EQ(signals.size(), theirs.size());
    for (const SignalInput& s : signals) {
        SCOPED_TRACE(s.name);
        ASSERT_TRUE(theirs.contains(s.name));
        const json& value = theirs.at(s.name);
        if (value.is_array()) {
            ASSERT_EQ(s.values.size(), value.size());
            for (size_t i = 0; i < value.size(); ++i) {
                EXPECT_EQ(fr_to_dec(s.values[i]), value[i].get<std::string>()) << i;
            }
        } else {
            ASSERT_EQ(s.values.size(), 1u);
            EXPECT_EQ(fr_to_dec(s.values[0]), value.get<std::string>());
        }
    }
}

TEST(Reference, CreditInputEqualsCreditInputOfTheReference) {
    REQUIRE_REFERENCE();
    const json& c = reference().at("credit");
    std::vector<Fr> leaves;
    for (const json& l : c.at("leaves")) leaves.push_back(hex_fr(l));
    CreditParameters params;
    params.k = dec_fr(c.at("k"));
    params.deposit = dec_u64(c.at("deposit"));
    params.leaf_index = c.at("leaf_index").get<uint64_t>();
    MerklePath path;
    ASSERT_EQ(merkle_root_and_path(kCreditTreeDepth, leaves, params.leaf_index, params.root, path),
              Status::ok);
    params.path_elements = path.elements;
    params.scope = dec_fr(c.at("scope"));
    params.c_max = dec_u64(c.at("c_max"));
    std::array<uint8_t, libverify::kBabyJubPackedBytes> packed;
    ASSERT_EQ(key_from_hex(c.at("key_packed").get<std::string>(), packed, params.key), Status::ok);
    params.x = hex_fr(c.at("x"));
    for (const json& k : c.at("cases")) {
        SCOPED_TRACE(k.at("name").get<std::string>());
        params.ticket = static_cast<uint32_t>(dec_u64(k.at("ticket")));
        params.salt_new = dec_fr(k.at("salt_new"));
        VoucherOpening opening;
        params.voucher = nullptr;
        if (!k.at("voucher").is_null()) {
            const json& v = k.at("voucher");
            ASSERT_EQ(libverify::refund_decode(v.at("b64").get<std::string>(), opening.voucher),
                      Status::ok);
            opening.key = params.key;
            opening.refund_total_prev = dec_u64(v.at("refund_total_prev"));
            opening.salt_prev = dec_fr(v.at("salt_prev"));
            params.voucher = &opening;
        }
        CreditInput input;
        ASSERT_EQ(credit_input_assemble(params, input), Status::ok);
        expect_same_input(input, k.at("input"));
    }
}

}  // namespace
}  // namespace zkclient
