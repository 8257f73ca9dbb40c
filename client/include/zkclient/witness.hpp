#pragma once
// Witness generation for the credit circuit (circuits/credit_main.circom)
// with the C++ code the circom compiler generates, linked in: no process, no
// temporary file. The generated code reads its constants from a .dat file
// (credit_main.dat, built next to the code) whose path the caller gives.
//
// Every function is noexcept and reports through libverify::Status; outputs
// are written only on success. The witness holds the user's secrets (k, the
// salts): callers wipe it with wipe() when done.

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace zkclient {

using libverify::Fr;
using libverify::Status;

// One main-component input signal: its name as in the circuit ("k",
// "path_elements") and its values, arrays flattened in row-major order.
struct SignalInput {
    std::string name;
    std::vector<Fr> values;
};
using CircuitInput = std::vector<SignalInput>;

// A circom input JSON object: {"name": value}, a value being a decimal
// string, a non-negative integer or a (nested) array of these; "0x" hex
// strings are accepted too. bad_encoding for anything else,
// input_out_of_range for a number >= r.
Status circuit_input_from_json(std::string_view json, CircuitInput& out) noexcept;

constexpr size_t kCreditTreeDepth = 20;

// The credit statement's signals (docs/protocol.md section 5).
struct CreditInput {
    // Public, in the circuit's order.
    Fr root, scope, c_max, key_hash, x, nullifier, signal_y, c_new;
    // Private.
    Fr k, deposit;
    std::array<Fr, kCreditTreeDepth> path_elements{};
    std::array<Fr, kCreditTreeDepth> path_indices{};
    Fr ticket, genesis, refund_total_prev, salt_prev, refund;
    Fr voucher_r8x, voucher_r8y, voucher_s, key_ax, key_ay, salt_new;

    CircuitInput to_circuit_input() const;
    // The inverse: every signal exactly once (bad_encoding for an unknown
    // or repeated name, bad_length for a wrong count or a missing signal).
    static Status from_circuit_input(const CircuitInput& input, CreditInput& out) noexcept;
    // Zeroes every field (k and the salts are secrets).
    void wipe() noexcept;
};

// Zeroes a vector of field elements in a way the compiler keeps.
void wipe(std::vector<Fr>& values) noexcept;
void wipe(CircuitInput& input) noexcept;

class CreditWitnessGenerator {
public:
    CreditWitnessGenerator() noexcept;
    ~CreditWitnessGenerator();
    CreditWitnessGenerator(CreditWitnessGenerator&&) noexcept;
    CreditWitnessGenerator& operator=(CreditWitnessGenerator&&) noexcept;

    // Reads and checks credit_main.dat. io_error when it cannot be read,
    // bad_length / bad_encoding when it does not match the linked circuit.
    static Status load(const std::string& dat_path, CreditWitnessGenerator& out) noexcept;

    bool loaded() const noexcept { return static_cast<bool>(circuit_); }
    // Number of witness elements (wires), the first being the constant 1.
    size_t witness_size() const noexcept;

    // Computes the full witness in circom's wire order (the order of the
    // r1cs and of snarkjs's .wtns). Every main input must be given exactly
    // once: bad_encoding for an unknown name or a repeated one, bad_length
    // for a wrong value count or a missing signal. unsatisfied_constraint
    // when a circuit assertion fails. internal_error when not loaded.
    Status compute(const CircuitInput& input, std::vector<Fr>& witness) const noexcept;
    Status compute(const CreditInput& input, std::vector<Fr>& witness) const noexcept;

    struct Circuit;  // the loaded .dat, in the generated code's structures

private:
    std::unique_ptr<Circuit> circuit_;
};

}  // namespace zkclient
