#pragma once
// Outcome of every fallible libverify call. The library never throws across
// its API and never aborts on bad input; it returns one of these.

#include <cstdint>

namespace libverify {

enum class [[nodiscard]] Status : uint8_t {
    ok = 0,
    bad_length,          // input too short, too long, or wrong element count
    bad_encoding,        // not a canonical encoding (value >= modulus, bad flags, bad JSON shape)
    not_on_curve,        // coordinates do not satisfy the curve equation
    not_in_subgroup,     // on the curve but outside the prime-order subgroup
    identity_point,      // the point at infinity where a proper point is required
    input_out_of_range,  // a public input or scalar at or above its modulus
    wrong_input_count,   // public input count does not match the verification key
    invalid_proof,       // well-formed, but the pairing check failed
    invalid_signature,   // well-formed, but the signature does not verify
    internal_error,      // allocation failure or a broken invariant
    io_error,            // a file could not be read (client side only)
    unsatisfied_constraint,  // the witness generator found a violated circuit constraint
};

// Stable lower-case name for logs and tests, e.g. "not_in_subgroup".
const char* status_name(Status s) noexcept;

}  // namespace libverify
