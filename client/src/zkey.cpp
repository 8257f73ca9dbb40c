#include "zkclient/zkey.hpp"

#include <array>
#include <cstring>
#include <fstream>

namespace zkclient {

using libverify::Fq;
using libverify::Fq2;
using libverify::Limbs;

namespace {

constexpr size_t kFieldBytes = 32;
constexpr size_t kG1Bytes = 2 * kFieldBytes;
constexpr size_t kG2Bytes = 4 * kFieldBytes;
constexpr size_t kCoefficientBytes = 12 + kFieldBytes;
constexpr uint32_t kGroth16Protocol = 1;
constexpr uint32_t kMaxSections = 64;
constexpr size_t kGroth16HeaderBytes = 4 + kFieldBytes + 4 + kFieldBytes + 12 + 3 * kG1Bytes +
                                       3 * kG2Bytes;

struct Section {
    const uint8_t* data = nullptr;
    uint64_t size = 0;
    int count = 0;
};

uint32_t load_u32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

uint64_t load_u64(const uint8_t* p) {
    return static_cast<uint64_t>(load_u32(p)) | static_cast<uint64_t>(load_u32(p + 4)) << 32;
}

Limbs load_limbs(const uint8_t* p) {
    Limbs x{};
    for (size_t i = 0; i < 4; ++i) {
        x[i] = load_u64(p + 8 * i);
    }
    return x;
}

bool is_zero_bytes(const uint8_t* p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; ++i) {
        acc |= p[i];
    }
    return acc == 0;
}

template <class F>
bool load_mont(const uint8_t* p, F& out) {
    Limbs x = load_limbs(p);
    if (!F::is_canonical(x)) {
        return false;
    }
    out = F::from_mont_limbs(x);
    return true;
}

Status load_g1(const uint8_t* p, G1Affine& out) {
    if (is_zero_bytes(p, kG1Bytes)) {
        out = G1Affine::identity();
        return Status::ok;
    }
    Fq x, y;
    if (!load_mont(p, x) || !load_mont(p + kFieldBytes, y)) {
        return Status::bad_encoding;
    }
    G1Affine point = G1Affine::from_xy(x, y);
    if (!point.is_on_curve()) {
        return Status::not_on_curve;
    }
    out = point;
    return Status::ok;
}

Status load_g2(const uint8_t* p, G2Affine& out) {
    if (is_zero_bytes(p, kG2Bytes)) {
        out = G2Affine::identity();
        return Status::ok;
    }
    Fq2 x, y;
    if (!load_mont(p, x.c0) || !load_mont(p + kFieldBytes, x.c1) ||
        !load_mont(p + 2 * kFieldBytes, y.c0) || !load_mont(p + 3 * kFieldBytes, y.c1)) {
        return Status::bad_encoding;
    }
    G2Affine point = G2Affine::from_xy(x, y);
    if (!point.is_on_curve()) {
        return Status::not_on_curve;
    }
    out = point;
    return Status::ok;
}

template <class Point, size_t kBytes, Status (*kLoad)(const uint8_t*, Point&)>
Status load_points(const Section& s, uint64_t count, std::vector<Point>& out) {
    if (s.size != count * kBytes) {
        return Status::bad_length;
    }
    std::vector<Point> points(count);
    for (size_t i = 0; i < count; ++i) {
        Status st = kLoad(s.data + i * kBytes, points[i]);
        if (st != Status::ok) {
            return st;
        }
    }
    out = std::move(points);
    return Status::ok;
}

bool matches_modulus(const uint8_t* p, const Limbs& modulus) {
    return load_limbs(p) == modulus;
}

}  // namespace

class ZkeyParser {
public:
    static Status parse(std::string_view zkey, ProvingKey& out);
};

Status ZkeyParser::parse(std::string_view zkey, ProvingKey& out) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(zkey.data());
    size_t size = zkey.size();
    if (size < 12) {
        return Status::bad_length;
    }
    if (std::memcmp(bytes, "zkey", 4) != 0) {
        return Status::bad_encoding;
    }
    uint32_t version = load_u32(bytes + 4);
    uint32_t n_sections = load_u32(bytes + 8);
    if (version != 1 || n_sections > kMaxSections) {
        return Status::bad_encoding;
    }
    std::array<Section, 11> sections{};
    size_t pos = 12;
    for (uint32_t i = 0; i < n_sections; ++i) {
        if (size - pos < 12) {
            return Status::bad_length;
        }
        uint32_t id = load_u32(bytes + pos);
        uint64_t length = load_u64(bytes + pos + 4);
        pos += 12;
        if (length > size - pos) {
            return Status::bad_length;
        }
        if (id < sections.size()) {
            sections[id].data = bytes + pos;
            sections[id].size = length;
            ++sections[id].count;
        }
        pos += static_cast<size_t>(length);
    }
    if (pos != size) {
        return Status::bad_length;
    }
    for (uint32_t id = 1; id <= 9; ++id) {
        if (sections[id].count != 1) {
            return Status::bad_encoding;
        }
    }

    const Section& header = sections[1];
    if (header.size != 4) {
        return Status::bad_length;
    }
    if (load_u32(header.data) != kGroth16Protocol) {
        return Status::bad_encoding;
    }

    const Section& groth = sections[2];
    if (groth.size != kGroth16HeaderBytes) {
        return Status::bad_length;
    }
    const uint8_t* g = groth.data;
    if (load_u32(g) != kFieldBytes || !matches_modulus(g + 4, Fq::kModulus) ||
        load_u32(g + 36) != kFieldBytes || !matches_modulus(g + 40, Fr::kModulus)) {
        return Status::bad_encoding;
    }
    ProvingKey key;
    key.n_vars_ = load_u32(g + 72);
    key.n_public_ = load_u32(g + 76);
    key.domain_size_ = load_u32(g + 80);
    if (key.n_public_ >= key.n_vars_ || key.domain_size_ == 0 ||
        (key.domain_size_ & (key.domain_size_ - 1)) != 0) {
        return Status::bad_encoding;
    }
    while ((uint32_t{1} << key.domain_power_) < key.domain_size_) {
        ++key.domain_power_;
    }
    if (key.domain_power_ > kMaxDomainPower) {
        return Status::bad_encoding;
    }
    const uint8_t* points = g + 84;
    Status st = Status::ok;
    // Order in the file: alpha1, beta1, beta2, gamma2, delta1, delta2.
    if ((st = load_g1(points, key.alpha1_)) != Status::ok ||
        (st = load_g1(points + kG1Bytes, key.beta1_)) != Status::ok ||
        (st = load_g2(points + 2 * kG1Bytes, key.beta2_)) != Status::ok ||
        (st = load_g2(points + 2 * kG1Bytes + kG2Bytes, key.gamma2_)) != Status::ok ||
        (st = load_g1(points + 2 * kG1Bytes + 2 * kG2Bytes, key.delta1_)) != Status::ok ||
        (st = load_g2(points + 3 * kG1Bytes + 2 * kG2Bytes, key.delta2_)) != Status::ok) {
        return st;
    }

    uint64_t n_vars = key.n_vars_;
    uint64_t n_private = n_vars - key.n_public_ - 1;
    if ((st = load_points<G1Affine, kG1Bytes, load_g1>(sections[3], uint64_t{key.n_public_} + 1,
                                                       key.ic_)) != Status::ok ||
        (st = load_points<G1Affine, kG1Bytes, load_g1>(sections[5], n_vars, key.a_)) !=
            Status::ok ||
        (st = load_points<G1Affine, kG1Bytes, load_g1>(sections[6], n_vars, key.b1_)) !=
            Status::ok ||
        (st = load_points<G2Affine, kG2Bytes, load_g2>(sections[7], n_vars, key.b2_)) !=
            Status::ok ||
        (st = load_points<G1Affine, kG1Bytes, load_g1>(sections[8], n_private, key.c_)) !=
            Status::ok ||
        (st = load_points<G1Affine, kG1Bytes, load_g1>(sections[9], key.domain_size_,
                                                       key.h_)) != Status::ok) {
        return st;
    }

    const Section& coefs = sections[4];
    if (coefs.size < 4) {
        return Status::bad_length;
    }
    uint64_t n_coefs = load_u32(coefs.data);
    if (coefs.size != 4 + n_coefs * kCoefficientBytes) {
        return Status::bad_length;
    }
    key.coefficients_.resize(n_coefs);
    // Montgomery product with plain 1 divides by R: value * R^2 -> value * R,
    // which is the Montgomery residue of value.
    const Fr r_inverse = Fr::from_mont_limbs(Limbs{1, 0, 0, 0});
    for (size_t i = 0; i < n_coefs; ++i) {
        const uint8_t* c = coefs.data + 4 + i * kCoefficientBytes;
        QapCoefficient& q = key.coefficients_[i];
        q.matrix = load_u32(c);
        q.constraint = load_u32(c + 4);
        q.signal = load_u32(c + 8);
        Fr stored;
        if (q.matrix > 1 || q.constraint >= key.domain_size_ || q.signal >= key.n_vars_ ||
            !load_mont(c + 12, stored)) {
            return Status::bad_encoding;
        }
        q.value = stored * r_inverse;
    }
    out = std::move(key);
    return Status::ok;
}

Status ProvingKey::from_bytes(std::string_view zkey, ProvingKey& out) noexcept {
    try {
        return ZkeyParser::parse(zkey, out);
    } catch (...) {
        return Status::internal_error;
    }
}

Status ProvingKey::from_file(const std::string& path, ProvingKey& out) noexcept {
    try {
        std::ifstream file(path, std::ios::binary | std::ios::ate);
        if (!file) {
            return Status::io_error;
        }
        std::streamoff length = file.tellg();
        if (length < 0) {
            return Status::io_error;
        }
        std::string bytes(static_cast<size_t>(length), '\0');
        file.seekg(0);
        if (!file.read(bytes.data(), length)) {
            return Status::io_error;
        }
        return from_bytes(bytes, out);
    } catch (...) {
        return Status::internal_error;
    }
}

}  // namespace zkclient
