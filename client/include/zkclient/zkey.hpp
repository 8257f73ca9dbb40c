#pragma once
// snarkjs Groth16 proving keys (.zkey, binary "zkey" file, version 1).
//
// Layout (snarkjs src/zkey_utils.js, @iden3/binfileutils): "zkey", u32
// version, u32 section count, then sections (u32 id, u64 byte size, body),
// all integers little-endian:
//   1 header      u32 protocol (1 = Groth16)
//   2 Groth16     u32 n8q, q, u32 n8r, r, u32 nVars, u32 nPublic,
//                 u32 domainSize, alpha1, beta1, beta2, gamma2, delta1, delta2
//   3 IC          nPublic + 1 G1 points
//   4 coefficients u32 count, then {u32 matrix (0 = A, 1 = B), u32
//                 constraint, u32 signal, Fr value} sorted by constraint
//   5 A, 6 B1     nVars G1 points;  7 B2  nVars G2 points
//   8 C           nVars - nPublic - 1 G1 points (the private signals)
//   9 H           domainSize G1 points
//   10 contributions (ignored)
// Field elements are 32-byte little-endian Montgomery residues with R =
// 2^256, the same convention as libverify, so coordinates are taken as they
// are once checked canonical; the point at infinity is all zeros.
// Coefficients are stored as value * R^2 mod r (a Montgomery residue of
// value * R) and converted here to the plain value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "libverify/curve.hpp"
#include "libverify/field.hpp"
#include "libverify/status.hpp"

namespace zkclient {

using libverify::Fr;
using libverify::G1Affine;
using libverify::G2Affine;
using libverify::Status;

// Keys with a larger evaluation domain are refused (2^28 is the largest
// power-of-two subgroup of BN254's Fr).
constexpr uint32_t kMaxDomainPower = 28;

struct QapCoefficient {
    uint32_t matrix;      // 0: A, 1: B
    uint32_t constraint;  // row, below domain_size
    uint32_t signal;      // witness index, below n_vars
    Fr value;
};

class ProvingKey {
public:
    // Parses a whole .zkey held in memory. Every size and count is checked
    // against the header and the bytes present before anything is
    // allocated, so allocation stays proportional to the input. Errors:
    // bad_encoding (magic, version, protocol, curve, duplicate or missing
    // section, coefficient index out of range, non-canonical element),
    // bad_length (truncated or inconsistent sizes), not_on_curve (a point
    // off its curve). G1 has cofactor 1; G2 points are checked on the twist
    // but not for subgroup membership (a wrong key yields proofs that fail
    // verification, nothing worse).
    static Status from_bytes(std::string_view zkey, ProvingKey& out) noexcept;
    // Reads the file, then from_bytes; io_error when it cannot be read.
    static Status from_file(const std::string& path, ProvingKey& out) noexcept;

    uint32_t n_vars() const noexcept { return n_vars_; }
    uint32_t n_public() const noexcept { return n_public_; }
    uint32_t domain_size() const noexcept { return domain_size_; }
    uint32_t domain_power() const noexcept { return domain_power_; }

    const G1Affine& alpha1() const noexcept { return alpha1_; }
    const G1Affine& beta1() const noexcept { return beta1_; }
    const G1Affine& delta1() const noexcept { return delta1_; }
    const G2Affine& beta2() const noexcept { return beta2_; }
    const G2Affine& gamma2() const noexcept { return gamma2_; }
    const G2Affine& delta2() const noexcept { return delta2_; }

    const std::vector<G1Affine>& ic() const noexcept { return ic_; }
    const std::vector<QapCoefficient>& coefficients() const noexcept { return coefficients_; }
    const std::vector<G1Affine>& a() const noexcept { return a_; }
    const std::vector<G1Affine>& b1() const noexcept { return b1_; }
    const std::vector<G2Affine>& b2() const noexcept { return b2_; }
    const std::vector<G1Affine>& c() const noexcept { return c_; }
    const std::vector<G1Affine>& h() const noexcept { return h_; }

private:
    friend class ZkeyParser;

    uint32_t n_vars_ = 0;
    uint32_t n_public_ = 0;
    uint32_t domain_size_ = 0;
    uint32_t domain_power_ = 0;
    G1Affine alpha1_, beta1_, delta1_;
    G2Affine beta2_, gamma2_, delta2_;
    std::vector<G1Affine> ic_;
    std::vector<QapCoefficient> coefficients_;
    std::vector<G1Affine> a_, b1_, c_, h_;
    std::vector<G2Affine> b2_;
};

}  // namespace zkclient
