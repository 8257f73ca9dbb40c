#include "libverify/groth16.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "codec_internal.hpp"
#include "libverify/decimal.hpp"

namespace libverify {

namespace {

using nlohmann::json;

// Pieces per public-input scalar in the verifying key's IC table (see
// G1MsmTable): 64 shared doublings instead of 254, for about the same
// additions; the table holds 4 x 64 affine points per public input.
constexpr int kIcChunks = 4;

// ---- JSON points, checked in stages --------------------------------------

struct JsonG1 {
    bool infinity = false;
    Fq x;
    Fq y;
};

struct JsonG2 {
    bool infinity = false;
    Fq2 x;
    Fq2 y;
};

bool parse_json_document(std::string_view text, json& out) {
    out = json::parse(text.begin(), text.end(), nullptr, false);
    return !out.is_discarded();
}

bool is_string_equal(const json& j, const char* expected) {
    return j.is_string() && j.get_ref<const std::string&>() == expected;
}

// An optional field: absent is fine, present must be the expected string.
bool optional_field_is(const json& obj, const char* key, const char* expected) {
    auto it = obj.find(key);
    return it == obj.end() || is_string_equal(*it, expected);
}

bool parse_fq_json(const json& j, Fq& out) {
    if (!j.is_string()) {
        return false;
    }
    Limbs value{};
    return limbs_from_decimal(j.get_ref<const std::string&>(), value) == Status::ok &&
           Fq::from_canonical(value, out);
}

bool parse_fq2_json(const json& j, Fq2& out) {
    return j.is_array() && j.size() == 2 && parse_fq_json(j[0], out.c0) &&
           parse_fq_json(j[1], out.c1);
}

// [x, y, z] with z = 1, or snarkjs's infinity ["0", "1", "0"].
bool parse_g1_json(const json& j, JsonG1& out) {
    Fq x, y, z;
    if (!j.is_array() || j.size() != 3 || !parse_fq_json(j[0], x) || !parse_fq_json(j[1], y) ||
        !parse_fq_json(j[2], z)) {
        return false;
    }
    if (z == Fq::one()) {
        out = JsonG1{false, x, y};
        return true;
    }
    if (z.is_zero() && x.is_zero() && y == Fq::one()) {
        out = JsonG1{true, Fq::zero(), Fq::zero()};
        return true;
    }
    return false;
}

// [[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]] with z = 1, or the infinity
// [["0","0"], ["1","0"], ["0","0"]].
bool parse_g2_json(const json& j, JsonG2& out) {
    Fq2 x, y, z;
    if (!j.is_array() || j.size() != 3 || !parse_fq2_json(j[0], x) || !parse_fq2_json(j[1], y) ||
        !parse_fq2_json(j[2], z)) {
        return false;
    }
    if (z == Fq2::one()) {
        out = JsonG2{false, x, y};
        return true;
    }
    if (z.is_zero() && x.is_zero() && y == Fq2::one()) {
        out = JsonG2{true, Fq2::zero(), Fq2::zero()};
        return true;
    }
    return false;
}

G1Affine to_affine(const JsonG1& p) {
    return p.infinity ? G1Affine::identity() : G1Affine::from_xy(p.x, p.y);
}

G2Affine to_affine(const JsonG2& p) {
    return p.infinity ? G2Affine::identity() : G2Affine::from_xy(p.x, p.y);
}

// ---- proofs in stages ----------------------------------------------------

struct ProofPoints {
    G1Affine a;
    G2Affine b;
    G1Affine c;
};

struct JsonProofRaw {
    JsonG1 a;
    JsonG2 b;
    JsonG1 c;
};

Status parse_proof_json(const json& doc, JsonProofRaw& raw) {
    if (!doc.is_object() || !optional_field_is(doc, "protocol", "groth16") ||
        !optional_field_is(doc, "curve", "bn128")) {
        return Status::bad_encoding;
    }
    auto a = doc.find("pi_a");
    auto b = doc.find("pi_b");
    auto c = doc.find("pi_c");
    if (a == doc.end() || b == doc.end() || c == doc.end() || !parse_g1_json(*a, raw.a) ||
        !parse_g2_json(*b, raw.b) || !parse_g1_json(*c, raw.c)) {
        return Status::bad_encoding;
    }
    return Status::ok;
}

Status finish_proof_json(const JsonProofRaw& raw, ProofPoints& out) {
    if (raw.a.infinity || raw.b.infinity || raw.c.infinity) {
        return Status::identity_point;
    }
    ProofPoints p{to_affine(raw.a), to_affine(raw.b), to_affine(raw.c)};
    if (!p.a.is_on_curve() || !p.b.is_on_curve() || !p.c.is_on_curve()) {
        return Status::not_on_curve;
    }
    if (!detail::g2_affine_in_subgroup(p.b)) {
        return Status::not_in_subgroup;
    }
    out = p;
    return Status::ok;
}

struct CompactProofRaw {
    detail::CompressedG1 a;
    detail::CompressedG2 b;
    detail::CompressedG1 c;
};

Status parse_proof_compact(const uint8_t* data, CompactProofRaw& raw) {
    Status s = detail::parse_g1_compressed(data, raw.a);
    if (s == Status::ok) {
        s = detail::parse_g2_compressed(data + 32, raw.b);
    }
    if (s == Status::ok) {
        s = detail::parse_g1_compressed(data + 96, raw.c);
    }
    return s;
}

Status finish_proof_compact(const CompactProofRaw& raw, ProofPoints& out) {
    if (raw.a.infinity || raw.b.infinity || raw.c.infinity) {
        return Status::identity_point;
    }
    ProofPoints p;
    Status s = detail::decompress_g1(raw.a, p.a);
    if (s == Status::ok) {
        s = detail::decompress_g2(raw.b, p.b);
    }
    if (s == Status::ok) {
        s = detail::decompress_g1(raw.c, p.c);
    }
    if (s != Status::ok) {
        return s;
    }
    if (!detail::g2_affine_in_subgroup(p.b)) {
        return Status::not_in_subgroup;
    }
    out = p;
    return Status::ok;
}

// ---- public inputs in stages ---------------------------------------------

struct RawInputs {
    std::vector<Limbs> values;
    bool out_of_range = false;  // some value >= r (or >= 2^256 in decimal)
};

Status parse_inputs_json(const json& doc, RawInputs& raw) {
    if (!doc.is_array()) {
        return Status::bad_encoding;
    }
    raw.values.resize(doc.size());
    for (size_t i = 0; i < doc.size(); ++i) {
        if (!doc[i].is_string()) {
            return Status::bad_encoding;
        }
        switch (limbs_from_decimal(doc[i].get_ref<const std::string&>(), raw.values[i])) {
        case Status::ok:
            raw.out_of_range |= !Fr::is_canonical(raw.values[i]);
            break;
        case Status::input_out_of_range:
            raw.out_of_range = true;
            break;
        default:
            return Status::bad_encoding;
        }
    }
    return Status::ok;
}

void parse_inputs_bytes(const uint8_t* data, size_t count, RawInputs& raw) {
    raw.values.resize(count);
    for (size_t i = 0; i < count; ++i) {
        raw.values[i] = Fr::limbs_from_bytes_be(data + 32 * i);
        raw.out_of_range |= !Fr::is_canonical(raw.values[i]);
    }
}

Status finish_inputs(const RawInputs& raw, std::vector<Fr>& out) {
    if (raw.out_of_range) {
        return Status::input_out_of_range;
    }
    std::vector<Fr> values(raw.values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        values[i] = Fr::from_canonical_unchecked(raw.values[i]);
    }
    out = std::move(values);
    return Status::ok;
}

// ---- batch randomness ----------------------------------------------------

void write_le64(uint64_t v, uint8_t* out) {
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

// BLAKE2b-256 over a domain tag and every proof with its inputs.
std::array<uint8_t, 32> batch_digest(const Proof* proofs, const std::vector<Fr>* inputs,
                                     size_t n) {
    static const char kDomain[] = "zkcredit/libverify/groth16-batch/v1";
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, 32);
    crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(kDomain),
                              sizeof(kDomain) - 1);
    uint8_t buf[kCompactProofSize];
    write_le64(n, buf);
    crypto_generichash_update(&state, buf, 8);
    for (size_t i = 0; i < n; ++i) {
        proofs[i].to_compact(buf);
        crypto_generichash_update(&state, buf, kCompactProofSize);
        write_le64(inputs[i].size(), buf);
        crypto_generichash_update(&state, buf, 8);
        for (const Fr& x : inputs[i]) {
            x.to_bytes_be(buf);
            crypto_generichash_update(&state, buf, 32);
        }
    }
    std::array<uint8_t, 32> digest{};
    crypto_generichash_final(&state, digest.data(), digest.size());
    return digest;
}

// r_i = BLAKE2b-128(key = seed, digest || LE64(i)), as a little-endian
// integer; never zero.
Limbs batch_coefficient(const uint8_t* seed32, const std::array<uint8_t, 32>& digest,
                        size_t index) {
    uint8_t msg[40];
    std::copy(digest.begin(), digest.end(), msg);
    write_le64(index, msg + 32);
    uint8_t out[16];
    crypto_generichash(out, sizeof(out), msg, sizeof(msg), seed32, 32);
    Limbs r{};
    for (int i = 0; i < 16; ++i) {
        r[i / 8] |= static_cast<uint64_t>(out[i]) << (8 * (i % 8));
    }
    if ((r[0] | r[1]) == 0) {
        r[0] = 1;
    }
    return r;
}

}  // namespace

// ---- VerifyingKey --------------------------------------------------------

Status VerifyingKey::from_json(std::string_view text, VerifyingKey& out) noexcept {
    try {
        json doc;
        if (!parse_json_document(text, doc) || !doc.is_object() ||
            !optional_field_is(doc, "protocol", "groth16") ||
            !optional_field_is(doc, "curve", "bn128")) {
            return Status::bad_encoding;
        }
        auto n_public = doc.find("nPublic");
        auto ic = doc.find("IC");
        if (n_public == doc.end() || !n_public->is_number_unsigned() || ic == doc.end() ||
            !ic->is_array()) {
            return Status::bad_encoding;
        }
        uint64_t n = n_public->get<uint64_t>();
        if (n > kMaxPublicInputs || ic->size() != n + 1) {
            return Status::bad_length;
        }

        JsonG1 alpha;
        JsonG2 beta, gamma, delta;
        std::vector<JsonG1> ic_raw(ic->size());
        auto alpha_it = doc.find("vk_alpha_1");
        auto beta_it = doc.find("vk_beta_2");
        auto gamma_it = doc.find("vk_gamma_2");
        auto delta_it = doc.find("vk_delta_2");
        if (alpha_it == doc.end() || beta_it == doc.end() || gamma_it == doc.end() ||
            delta_it == doc.end() || !parse_g1_json(*alpha_it, alpha) ||
            !parse_g2_json(*beta_it, beta) || !parse_g2_json(*gamma_it, gamma) ||
            !parse_g2_json(*delta_it, delta)) {
            return Status::bad_encoding;
        }
        for (size_t i = 0; i < ic_raw.size(); ++i) {
            if (!parse_g1_json((*ic)[i], ic_raw[i])) {
                return Status::bad_encoding;
            }
        }

        if (alpha.infinity || beta.infinity || gamma.infinity || delta.infinity) {
            return Status::identity_point;
        }
        VerifyingKey vk;
        vk.alpha_ = to_affine(alpha);
        vk.beta_ = to_affine(beta);
        vk.gamma_ = to_affine(gamma);
        vk.delta_ = to_affine(delta);
        vk.ic_.resize(ic_raw.size());
        bool on_curve = vk.alpha_.is_on_curve() && vk.beta_.is_on_curve() &&
                        vk.gamma_.is_on_curve() && vk.delta_.is_on_curve();
        for (size_t i = 0; i < ic_raw.size(); ++i) {
            vk.ic_[i] = to_affine(ic_raw[i]);
            on_curve = on_curve && vk.ic_[i].is_on_curve();
        }
        if (!on_curve) {
            return Status::not_on_curve;
        }
        if (!detail::g2_affine_in_subgroup(vk.beta_) ||
            !detail::g2_affine_in_subgroup(vk.gamma_) ||
            !detail::g2_affine_in_subgroup(vk.delta_)) {
            return Status::not_in_subgroup;
        }

        vk.alpha_beta_ = pairing(vk.alpha_, vk.beta_);
        vk.neg_beta_ = G2Prepared(vk.beta_.neg());
        vk.neg_gamma_ = G2Prepared(vk.gamma_.neg());
        vk.neg_delta_ = G2Prepared(vk.delta_.neg());
        // Window 8: 64 affine odd multiples per input and chunk, about 28
        // additions per 254-bit input against 36 at window 6; kIcChunks
        // pieces per scalar cut the 254 shared doublings to 256 / kIcChunks.
        vk.ic_table_ = G1MsmTable(std::vector<G1Affine>(vk.ic_.begin() + 1, vk.ic_.end()), 8,
                                  kIcChunks);
        out = std::move(vk);
        return Status::ok;
    } catch (...) {
        return Status::internal_error;
    }
}

// ---- Proof ---------------------------------------------------------------

Status Proof::from_json(std::string_view text, Proof& out) noexcept {
    try {
        json doc;
        JsonProofRaw raw;
        if (!parse_json_document(text, doc)) {
            return Status::bad_encoding;
        }
        Status s = parse_proof_json(doc, raw);
        ProofPoints points;
        if (s == Status::ok) {
            s = finish_proof_json(raw, points);
        }
        if (s == Status::ok) {
            out.a_ = points.a;
            out.b_ = points.b;
            out.c_ = points.c;
        }
        return s;
    } catch (...) {
        return Status::internal_error;
    }
}

Status Proof::from_compact(const uint8_t* data, size_t len, Proof& out) noexcept {
    try {
        if (data == nullptr || len != kCompactProofSize) {
            return Status::bad_length;
        }
        CompactProofRaw raw;
        Status s = parse_proof_compact(data, raw);
        ProofPoints points;
        if (s == Status::ok) {
            s = finish_proof_compact(raw, points);
        }
        if (s == Status::ok) {
            out.a_ = points.a;
            out.b_ = points.b;
            out.c_ = points.c;
        }
        return s;
    } catch (...) {
        return Status::internal_error;
    }
}

void Proof::to_compact(uint8_t* out128) const noexcept {
    g1_encode_compressed(a_, out128);
    g2_encode_compressed(b_, out128 + 32);
    g1_encode_compressed(c_, out128 + 96);
}

// ---- public inputs -------------------------------------------------------

Status public_inputs_from_json(std::string_view text, std::vector<Fr>& out) noexcept {
    try {
        json doc;
        RawInputs raw;
        if (!parse_json_document(text, doc)) {
            return Status::bad_encoding;
        }
        Status s = parse_inputs_json(doc, raw);
        return s == Status::ok ? finish_inputs(raw, out) : s;
    } catch (...) {
        return Status::internal_error;
    }
}

Status public_inputs_from_bytes(const uint8_t* data, size_t len, std::vector<Fr>& out) noexcept {
    try {
        if (len % kPublicInputSize != 0 || (data == nullptr && len != 0)) {
            return Status::bad_length;
        }
        RawInputs raw;
        parse_inputs_bytes(data, len / kPublicInputSize, raw);
        return finish_inputs(raw, out);
    } catch (...) {
        return Status::internal_error;
    }
}

// ---- verification --------------------------------------------------------

Status groth16_verify(const VerifyingKey& vk, const Proof& proof,
                      const std::vector<Fr>& inputs) noexcept {
    try {
        if (inputs.size() != vk.n_public()) {
            return Status::wrong_input_count;
        }
        std::vector<Limbs> scalars(inputs.size());
        for (size_t i = 0; i < inputs.size(); ++i) {
            scalars[i] = inputs[i].to_canonical();
        }
        G1 vk_x = vk.ic_table_.msm_vartime(scalars.data(), scalars.size())
                      .add_mixed_vartime(vk.ic_[0]);
        G1Affine p_prep[2] = {G1Affine::identity(), proof.c()};
        batch_to_affine_vartime(&vk_x, 1, &p_prep[0]);
        const G2Prepared* q_prep[2] = {&vk.neg_gamma_, &vk.neg_delta_};
        Fq12 f = multi_miller_loop(p_prep, q_prep, 2, &proof.a(), &proof.b(), 1);
        return final_exponentiation(f) == vk.alpha_beta_ ? Status::ok : Status::invalid_proof;
    } catch (...) {
        return Status::internal_error;
    }
}

Status groth16_verify_json(const VerifyingKey& vk, std::string_view proof_json,
                           std::string_view public_json) noexcept {
    try {
        json proof_doc, public_doc;
        bool proof_parsed = parse_json_document(proof_json, proof_doc);
        bool public_parsed = parse_json_document(public_json, public_doc);
        if (public_parsed && public_doc.is_array() && public_doc.size() != vk.n_public()) {
            return Status::wrong_input_count;
        }
        JsonProofRaw proof_raw;
        RawInputs inputs_raw;
        if (!proof_parsed || !public_parsed) {
            return Status::bad_encoding;
        }
        Status s = parse_proof_json(proof_doc, proof_raw);
        if (s == Status::ok) {
            s = parse_inputs_json(public_doc, inputs_raw);
        }
        ProofPoints points;
        if (s == Status::ok) {
            s = finish_proof_json(proof_raw, points);
        }
        std::vector<Fr> inputs;
        if (s == Status::ok) {
            s = finish_inputs(inputs_raw, inputs);
        }
        if (s != Status::ok) {
            return s;
        }
        Proof proof;
        proof.a_ = points.a;
        proof.b_ = points.b;
        proof.c_ = points.c;
        return groth16_verify(vk, proof, inputs);
    } catch (...) {
        return Status::internal_error;
    }
}

Status groth16_verify_compact(const VerifyingKey& vk, const uint8_t* proof_bytes,
                              size_t proof_len, const uint8_t* inputs_bytes,
                              size_t inputs_len) noexcept {
    try {
        if (proof_bytes == nullptr || proof_len != kCompactProofSize ||
            inputs_len % kPublicInputSize != 0 || (inputs_bytes == nullptr && inputs_len != 0)) {
            return Status::bad_length;
        }
        if (inputs_len / kPublicInputSize != vk.n_public()) {
            return Status::wrong_input_count;
        }
        std::vector<Fr> inputs;
        Proof proof;
        Status s = Proof::from_compact(proof_bytes, proof_len, proof);
        if (s == Status::ok) {
            s = public_inputs_from_bytes(inputs_bytes, inputs_len, inputs);
        }
        return s == Status::ok ? groth16_verify(vk, proof, inputs) : s;
    } catch (...) {
        return Status::internal_error;
    }
}

Status groth16_verify_batch(const VerifyingKey& vk, const Proof* proofs,
                            const std::vector<Fr>* inputs, size_t n, const uint8_t* seed32,
                            Status* verdicts) noexcept {
    try {
        if (n == 0) {
            return Status::ok;
        }
        if (proofs == nullptr || inputs == nullptr || seed32 == nullptr) {
            return Status::internal_error;
        }
        bool counts_ok = true;
        for (size_t i = 0; i < n; ++i) {
            counts_ok = counts_ok && inputs[i].size() == vk.n_public();
        }
        bool batch_ok = false;
        if (counts_ok) {
            const std::array<uint8_t, 32> digest = batch_digest(proofs, inputs, n);
            std::vector<Limbs> r(n);
            std::vector<G1> r_a(n);
            std::vector<G1Affine> r_a_affine(n);
            std::vector<G1Affine> c_points(n);
            std::vector<G2Affine> b_points(n);
            Fr sum_r = Fr::zero();
            std::vector<Fr> input_sums(vk.n_public(), Fr::zero());
            for (size_t i = 0; i < n; ++i) {
                r[i] = batch_coefficient(seed32, digest, i);
                Fr ri = Fr::from_canonical_unchecked(r[i]);  // < 2^128 < r
                sum_r += ri;
                for (size_t j = 0; j < input_sums.size(); ++j) {
                    input_sums[j] += ri * inputs[i][j];
                }
                r_a[i] = G1::from_affine(proofs[i].a()).mul_vartime(r[i]);
                c_points[i] = proofs[i].c();
                b_points[i] = proofs[i].b();
            }
            batch_to_affine_vartime(r_a.data(), n, r_a_affine.data());

            Limbs sum_r_limbs = sum_r.to_canonical();
            std::vector<Limbs> input_scalars(input_sums.size());
            for (size_t j = 0; j < input_sums.size(); ++j) {
                input_scalars[j] = input_sums[j].to_canonical();
            }
            G1 vk_x = vk.ic_table_.msm_vartime(input_scalars.data(), input_scalars.size())
                          .add_vartime(G1::from_affine(vk.ic_[0]).mul_vartime(sum_r_limbs));
            G1 c_sum = g1_msm_vartime(c_points.data(), r.data(), n);
            G1 alpha_sum = G1::from_affine(vk.alpha_).mul_vartime(sum_r_limbs);
            G1 prep_jacobian[3] = {alpha_sum, vk_x, c_sum};
            G1Affine p_prep[3];
            batch_to_affine_vartime(prep_jacobian, 3, p_prep);
            const G2Prepared* q_prep[3] = {&vk.neg_beta_, &vk.neg_gamma_, &vk.neg_delta_};
            Fq12 f = multi_miller_loop(p_prep, q_prep, 3, r_a_affine.data(), b_points.data(), n);
            batch_ok = final_exponentiation(f).is_one();
        }
        if (batch_ok) {
            if (verdicts != nullptr) {
                std::fill(verdicts, verdicts + n, Status::ok);
            }
            return Status::ok;
        }
        // The combination failed: find the culprits one by one.
        Status first_failure = Status::ok;
        for (size_t i = 0; i < n; ++i) {
            Status s = groth16_verify(vk, proofs[i], inputs[i]);
            if (verdicts != nullptr) {
                verdicts[i] = s;
            }
            if (s != Status::ok && first_failure == Status::ok) {
                first_failure = s;
            }
        }
        // A batch can only fail spuriously with probability ~2^-128; if every
        // proof passes on its own, trust the individual checks.
        return first_failure;
    } catch (...) {
        return Status::internal_error;
    }
}

}  // namespace libverify
