#pragma once
// The user's side of the zkcredit v1 protocol (docs/protocol.md sections 3
// to 9) apart from proving: identity, tickets, commitments, the gateway's
// challenge, and the check of a refund voucher before it is kept.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libverify/baby_jubjub.hpp"
#include "libverify/field.hpp"
#include "libverify/protocol.hpp"
#include "libverify/status.hpp"
#include "zkclient/witness.hpp"

namespace zkclient {

using libverify::BabyJubAffine;
using libverify::Fr;
using libverify::Status;

// Uniform in F: 64 random bytes from libsodium, reduced (bias below 2^-250).
Fr random_field_element() noexcept;
void random_nonce(uint8_t out[libverify::kNonceBytes]) noexcept;

Fr identity_of(const Fr& k) noexcept;                                           // ID = H(k)
Fr leaf_of(const Fr& k, uint64_t deposit) noexcept;                             // L = H(H(k), D)
// H(k, R, t, salt): the refund state R before ticket t (section 5.3).
Fr commitment_of(const Fr& k, uint64_t refund_total, uint64_t next_ticket, const Fr& salt) noexcept;

struct Ticket {
    Fr secret;     // a = H(k, s, i)
    Fr nullifier;  // N = H(a)
};
Ticket ticket_of(const Fr& k, const Fr& scope, uint32_t index) noexcept;
Fr signal_of(const Fr& k, const Fr& ticket_secret, const Fr& x) noexcept;  // y = k + a x

// x over the request exactly as it will be sent (section 5.2).
Status request_binding(std::string_view method, std::string_view target, std::string_view body,
                       const uint8_t nonce[libverify::kNonceBytes], Fr& x) noexcept;

// Whether ticket `index` may be spent with refund total R (section 5.4,
// statement 3): (index + 1) * C_max <= D + R, without wrapping.
bool solvent(uint32_t index, uint64_t c_max, uint64_t deposit, uint64_t refund_total) noexcept;

// The deployment as the gateway's 402 challenge announces it:
//   ZKCredit realm="<realm>", scope="<s>", c_max="<C_max>", key="<64 hex>"
struct Challenge {
    std::string realm;
    Fr scope;
    uint64_t c_max = 0;
    std::array<uint8_t, libverify::kBabyJubPackedBytes> key_packed{};
    BabyJubAffine key;
};

// bad_encoding unless the value is a ZKCredit challenge with the four
// parameters (any order, each once, quoted; unknown ones ignored);
// input_out_of_range for a scope >= r or a C_max of 0 or >= 2^64; the
// point checks of baby_jub_unpack and baby_jub_check for the key.
Status challenge_parse(std::string_view header, Challenge& out) noexcept;

// Packed Baby Jubjub key as 64 lower-case hex digits, and back (with the
// curve and subgroup checks).
std::string key_to_hex(const std::array<uint8_t, libverify::kBabyJubPackedBytes>& packed);
Status key_from_hex(std::string_view hex,
                    std::array<uint8_t, libverify::kBabyJubPackedBytes>& packed,
                    BabyJubAffine& key) noexcept;

// A voucher as received in ZKCredit-Refund, decoded and checked against
// the commitment it must sign (section 9): refund_decode, then key_hash
// must name `key`, then the signature on H(s, c_new, refund).
Status voucher_accept(std::string_view header_value, const BabyJubAffine& key, const Fr& scope,
                      const Fr& c_new, libverify::Refund& out) noexcept;

// A voucher kept from an earlier request, with the opening of the
// commitment it signs: voucher.signature covers H(s, H(k, refund_total_prev,
// t, salt_prev), voucher.amount) under `key`, where t is the ticket the
// voucher allows (the one after the request it was issued for).
struct VoucherOpening {
    libverify::Refund voucher;
    BabyJubAffine key;
    uint64_t refund_total_prev = 0;
    Fr salt_prev;
};

// Everything one request's statement (section 5.4) is made of.
struct CreditParameters {
    Fr k;
    uint64_t deposit = 0;
    Fr root;
    std::vector<Fr> path_elements;  // leaf level first
    uint64_t leaf_index = 0;
    Fr scope;
    uint64_t c_max = 0;
    BabyJubAffine key;  // signs the voucher; at genesis any accepted key
    uint32_t ticket = 0;
    Fr x;
    const VoucherOpening* voucher = nullptr;  // nullptr at genesis
    Fr salt_new;
};

// The circuit's input, exactly what tests/reference/protocol.mjs creditInput
// builds. bad_length when the path is not kCreditTreeDepth long or the
// leaf index does not fit the tree; input_out_of_range when R_prev + refund
// reaches 2^64 or the voucher's S is not below l. `out` is written only on
// success.
Status credit_input_assemble(const CreditParameters& params, CreditInput& out) noexcept;

// The credential header fields for a proof of `input` (section 6).
libverify::Credential credential_of(const CreditInput& input,
                                    const uint8_t nonce[libverify::kNonceBytes],
                                    const libverify::Proof& proof) noexcept;

// 32-byte big-endian field elements as 64 lower-case hex digits, and back
// (bad_length, bad_encoding for non-hex or upper case, input_out_of_range
// for a value >= r).
std::string fr_to_hex(const Fr& value);
Status fr_from_hex(std::string_view hex, Fr& out) noexcept;
std::string fr_to_dec(const Fr& value);

}  // namespace zkclient
