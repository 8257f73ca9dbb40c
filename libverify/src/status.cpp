#include "libverify/status.hpp"

namespace libverify {

const char* status_name(Status s) noexcept {
    switch (s) {
    case Status::ok: return "ok";
    case Status::bad_length: return "bad_length";
    case Status::bad_encoding: return "bad_encoding";
    case Status::not_on_curve: return "not_on_curve";
    case Status::not_in_subgroup: return "not_in_subgroup";
    case Status::identity_point: return "identity_point";
    case Status::input_out_of_range: return "input_out_of_range";
    case Status::wrong_input_count: return "wrong_input_count";
    case Status::invalid_proof: return "invalid_proof";
    case Status::invalid_signature: return "invalid_signature";
    case Status::internal_error: return "internal_error";
    case Status::io_error: return "io_error";
    case Status::unsatisfied_constraint: return "unsatisfied_constraint";
    }
    return "unknown";
}

}  // namespace libverify
