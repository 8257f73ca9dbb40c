#include "zkclient/credit.hpp"

#include <strings.h>

#include <cstring>
#include <new>

#include <sodium.h>

#include "libverify/decimal.hpp"
#include "libverify/eddsa_poseidon.hpp"
#include "libverify/poseidon.hpp"

namespace zkclient {

using libverify::kBabyJubPackedBytes;
using libverify::kNonceBytes;

namespace {

template <size_t N>
Fr hash(const Fr (&inputs)[N]) {
    return libverify::poseidon(inputs, N);
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool hex_decode(std::string_view hex, uint8_t* out, size_t n) {
    if (hex.size() != 2 * n) return false;
    for (size_t i = 0; i < n; ++i) {
        const int hi = hex_digit(hex[2 * i]);
        const int lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return true;
}

std::string hex_encode(const uint8_t* in, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out(2 * n, '0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    return out;
}

bool parse_u64(std::string_view text, uint64_t& out) {
    libverify::Limbs limbs;
    if (libverify::limbs_from_decimal(text, limbs) != Status::ok) return false;
    if (limbs[1] != 0 || limbs[2] != 0 || limbs[3] != 0) return false;
    out = limbs[0];
    return true;
}

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

void skip_spaces(std::string_view text, size_t& pos) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
}

}  // namespace

Fr random_field_element() noexcept {
    uint8_t wide[64];
    randombytes_buf(wide, sizeof wide);
    const Fr value = Fr::from_bytes_le_wide_reduce(wide);
    sodium_memzero(wide, sizeof wide);
    return value;
}

void random_nonce(uint8_t out[kNonceBytes]) noexcept { randombytes_buf(out, kNonceBytes); }

Fr identity_of(const Fr& k) noexcept { return hash({k}); }

Fr leaf_of(const Fr& k, uint64_t deposit) noexcept {
    return hash({identity_of(k), Fr::from_u64(deposit)});
}

Fr commitment_of(const Fr& k, uint64_t refund_total, uint64_t next_ticket, const Fr& salt) noexcept {
    return hash({k, Fr::from_u64(refund_total), Fr::from_u64(next_ticket), salt});
}

Ticket ticket_of(const Fr& k, const Fr& scope, uint32_t index) noexcept {
    Ticket t;
    t.secret = hash({k, scope, Fr::from_u64(index)});
    t.nullifier = hash({t.secret});
    return t;
}

Fr signal_of(const Fr& k, const Fr& ticket_secret, const Fr& x) noexcept {
    return k + ticket_secret * x;
}

Status request_binding(std::string_view method, std::string_view target, std::string_view body,
                       const uint8_t nonce[kNonceBytes], Fr& x) noexcept {
    libverify::RequestBinder binder;
    const Status started = binder.start(method, target);
    if (started != Status::ok) return started;
    binder.update_body(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    x = binder.finish(nonce);
    return Status::ok;
}

bool solvent(uint32_t index, uint64_t c_max, uint64_t deposit, uint64_t refund_total) noexcept {
    using u128 = unsigned __int128;
    return (u128{index} + 1) * c_max <= u128{deposit} + refund_total;
}

Status challenge_parse(std::string_view header, Challenge& out) noexcept {
    try {
        constexpr std::string_view scheme = "ZKCredit";
        if (header.size() <= scheme.size() ||
            strncasecmp(header.data(), scheme.data(), scheme.size()) != 0 ||
            header[scheme.size()] != ' ') {
            return Status::bad_encoding;
        }
        std::string_view realm, scope, c_max, key;
        bool seen_realm = false, seen_scope = false, seen_c_max = false, seen_key = false;
        size_t pos = scheme.size();
        for (bool first = true;; first = false) {
            skip_spaces(header, pos);
            if (pos == header.size()) break;
            if (!first) {
                if (header[pos] != ',') return Status::bad_encoding;
                ++pos;
                skip_spaces(header, pos);
            }
            const size_t name_start = pos;
            while (pos < header.size() && is_token_char(header[pos])) ++pos;
            const std::string_view name = header.substr(name_start, pos - name_start);
            if (name.empty() || pos + 1 >= header.size() || header[pos] != '=' ||
                header[pos + 1] != '"') {
                return Status::bad_encoding;
            }
            pos += 2;
            const size_t end = header.find('"', pos);
            if (end == std::string_view::npos) return Status::bad_encoding;
            const std::string_view value = header.substr(pos, end - pos);
            if (value.find('\\') != std::string_view::npos) return Status::bad_encoding;
            pos = end + 1;
            struct Slot {
                std::string_view name;
                std::string_view* value;
                bool* seen;
            };
            const Slot slots[] = {{"realm", &realm, &seen_realm},
                                  {"scope", &scope, &seen_scope},
                                  {"c_max", &c_max, &seen_c_max},
                                  {"key", &key, &seen_key}};
            for (const Slot& slot : slots) {
                if (slot.name != name) continue;
                if (*slot.seen) return Status::bad_encoding;
                *slot.seen = true;
                *slot.value = value;
            }
        }
        if (!seen_realm || !seen_scope || !seen_c_max || !seen_key) return Status::bad_encoding;

        Challenge parsed;
        parsed.realm = std::string(realm);
        const Status scope_status = libverify::fr_from_decimal(scope, parsed.scope);
        if (scope_status != Status::ok) return scope_status;
        if (!parse_u64(c_max, parsed.c_max) || parsed.c_max == 0) {
            return Status::input_out_of_range;
        }
        const Status key_status = key_from_hex(key, parsed.key_packed, parsed.key);
        if (key_status != Status::ok) return key_status;
        out = std::move(parsed);
        return Status::ok;
    } catch (const std::bad_alloc&) {
        return Status::internal_error;
    }
}

std::string key_to_hex(const std::array<uint8_t, kBabyJubPackedBytes>& packed) {
    return hex_encode(packed.data(), packed.size());
}

Status key_from_hex(std::string_view hex, std::array<uint8_t, kBabyJubPackedBytes>& packed,
                    BabyJubAffine& key) noexcept {
    std::array<uint8_t, kBabyJubPackedBytes> bytes;
    if (!hex_decode(hex, bytes.data(), bytes.size())) return Status::bad_encoding;
    BabyJubAffine point;
    Status status = libverify::baby_jub_unpack(bytes.data(), point);
    if (status == Status::ok) status = libverify::baby_jub_check(point);
    if (status != Status::ok) return status;
    packed = bytes;
    key = point;
    return Status::ok;
}

Status voucher_accept(std::string_view header_value, const BabyJubAffine& key, const Fr& scope,
                      const Fr& c_new, libverify::Refund& out) noexcept {
    libverify::Refund refund;
    Status status = libverify::refund_decode(header_value, refund);
    if (status == Status::ok) status = libverify::refund_verify(refund, key, scope, c_new);
    if (status != Status::ok) return status;
    out = refund;
    return Status::ok;
}

Status credit_input_assemble(const CreditParameters& params, CreditInput& out) noexcept {
    if (params.path_elements.size() != kCreditTreeDepth ||
        params.leaf_index >= (uint64_t{1} << kCreditTreeDepth)) {
        return Status::bad_length;
    }
    const VoucherOpening* v = params.voucher;
    const uint64_t refund_total_prev = v ? v->refund_total_prev : 0;
    const uint64_t refund = v ? v->voucher.amount : 0;
    if (refund > UINT64_MAX - refund_total_prev) return Status::input_out_of_range;
    const uint64_t refund_total = refund_total_prev + refund;

    CreditInput in;
    Fr voucher_s = Fr::zero();
    if (v != nullptr && !Fr::from_canonical(v->voucher.signature.s, voucher_s)) {
        return Status::input_out_of_range;
    }
    const Ticket ticket = ticket_of(params.k, params.scope, params.ticket);
    in.root = params.root;
    in.scope = params.scope;
    in.c_max = Fr::from_u64(params.c_max);
    in.key_hash = libverify::server_key_hash(params.key);
    in.x = params.x;
    in.nullifier = ticket.nullifier;
    in.signal_y = signal_of(params.k, ticket.secret, params.x);
    in.c_new = commitment_of(params.k, refund_total, uint64_t{params.ticket} + 1, params.salt_new);
    in.k = params.k;
    in.deposit = Fr::from_u64(params.deposit);
    for (size_t h = 0; h < kCreditTreeDepth; ++h) {
        in.path_elements[h] = params.path_elements[h];
        in.path_indices[h] = Fr::from_u64((params.leaf_index >> h) & 1);
    }
    in.ticket = Fr::from_u64(params.ticket);
    in.genesis = v ? Fr::zero() : Fr::one();
    in.refund_total_prev = Fr::from_u64(refund_total_prev);
    in.salt_prev = v ? v->salt_prev : Fr::zero();
    in.refund = Fr::from_u64(refund);
    // At genesis the signature is unused; the identity point (0, 1) keeps
    // the circuit's verifier arithmetic defined, as in the reference.
    in.voucher_r8x = v ? v->voucher.signature.r8.x : Fr::zero();
    in.voucher_r8y = v ? v->voucher.signature.r8.y : Fr::one();
    in.voucher_s = voucher_s;
    in.key_ax = params.key.x;
    in.key_ay = params.key.y;
    in.salt_new = params.salt_new;
    out = in;
    in.wipe();
    return Status::ok;
}

libverify::Credential credential_of(const CreditInput& input, const uint8_t nonce[kNonceBytes],
                                    const libverify::Proof& proof) noexcept {
    libverify::Credential credential;
    credential.root = input.root;
    credential.key_hash = input.key_hash;
    credential.nullifier = input.nullifier;
    credential.signal = input.signal_y;
    credential.c_new = input.c_new;
    std::memcpy(credential.nonce.data(), nonce, kNonceBytes);
    credential.proof = proof;
    return credential;
}

std::string fr_to_hex(const Fr& value) {
    uint8_t bytes[32];
    value.to_bytes_be(bytes);
    return hex_encode(bytes, sizeof bytes);
}

Status fr_from_hex(std::string_view hex, Fr& out) noexcept {
    if (hex.size() != 64) return Status::bad_length;
    uint8_t bytes[32];
    if (!hex_decode(hex, bytes, sizeof bytes)) return Status::bad_encoding;
    return Fr::from_bytes_be(bytes, out) ? Status::ok : Status::input_out_of_range;
}

std::string fr_to_dec(const Fr& value) {
    char digits[libverify::kMaxDecimalDigits];
    return std::string(digits, libverify::fr_to_decimal(value, digits));
}

}  // namespace zkclient
