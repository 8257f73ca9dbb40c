#include "libverify/curve.hpp"

#include <algorithm>

#include "codec_internal.hpp"

namespace libverify {

namespace {

Fq fq_from_hex_limbs(const Limbs& canonical) { return Fq::from_canonical_unchecked(canonical); }

}  // namespace

std::vector<int8_t> wnaf_digits(const Limbs& k, int w) {
    uint64_t v[5] = {k[0], k[1], k[2], k[3], 0};
    const int64_t full = int64_t{1} << w;
    const int64_t half = full >> 1;
    std::vector<int8_t> digits;
    digits.reserve(258);
    auto nonzero = [&v] { return (v[0] | v[1] | v[2] | v[3] | v[4]) != 0; };
    while (nonzero()) {
        int64_t d = 0;
        if (v[0] & 1) {
            d = static_cast<int64_t>(v[0] & static_cast<uint64_t>(full - 1));
            if (d >= half) {
                d -= full;
            }
            // v -= d, with d of either sign.
            if (d > 0) {
                uint64_t borrow = static_cast<uint64_t>(d);
                for (auto& limb : v) {
                    uint64_t before = limb;
                    limb -= borrow;
                    borrow = before < borrow ? 1 : 0;
                }
            } else {
                uint64_t carry = static_cast<uint64_t>(-d);
                for (auto& limb : v) {
                    limb += carry;
                    carry = limb < carry ? 1 : 0;
                }
            }
        }
        digits.push_back(static_cast<int8_t>(d));
        for (int i = 0; i < 4; ++i) {
            v[i] = (v[i] >> 1) | (v[i + 1] << 63);
        }
        v[4] >>= 1;
    }
    return digits;
}

G1MsmTable::G1MsmTable(const std::vector<G1Affine>& bases, int window, int chunks)
    : n_bases_(bases.size()),
      window_(std::clamp(window, 2, 8)),
      chunks_(chunks == 2 || chunks == 4 ? chunks : 1) {
    const size_t row = size_t{1} << (window_ - 2);
    const int chunk_bits = 256 / chunks_;
    std::vector<G1> jacobian(n_bases_ * static_cast<size_t>(chunks_) * row);
    for (size_t b = 0; b < n_bases_; ++b) {
        G1 p = G1::from_affine(bases[b]);
        for (int j = 0; j < chunks_; ++j) {
            if (j > 0) {
                for (int i = 0; i < chunk_bits; ++i) {
                    p = p.dbl();
                }
            }
            G1* out = &jacobian[(b * static_cast<size_t>(chunks_) + static_cast<size_t>(j)) * row];
            const G1 twice = p.dbl();
            out[0] = p;
            for (size_t i = 1; i < row; ++i) {
                out[i] = out[i - 1].add_vartime(twice);
            }
        }
    }
    odd_multiples_.resize(jacobian.size());
    batch_to_affine_vartime(jacobian.data(), jacobian.size(), odd_multiples_.data());
}

G1 G1MsmTable::msm_vartime(const Limbs* scalars, size_t n) const {
    const size_t row = size_t{1} << (window_ - 2);
    const size_t chunks = static_cast<size_t>(chunks_);
    const size_t limbs_per_chunk = 4 / chunks;
    const size_t count = std::min(n, n_bases_) * chunks;  // one digit string per row
    std::vector<std::vector<int8_t>> digits(count);
    size_t longest = 0;
    for (size_t v = 0; v < count; ++v) {
        const Limbs& k = scalars[v / chunks];
        const size_t first = (v % chunks) * limbs_per_chunk;
        Limbs piece{};
        for (size_t l = 0; l < limbs_per_chunk; ++l) {
            piece[l] = k[first + l];
        }
        digits[v] = wnaf_digits(piece, window_);
        longest = std::max(longest, digits[v].size());
    }
    G1 acc = G1::identity();
    for (size_t bit = longest; bit-- > 0;) {
        acc = acc.dbl();
        for (size_t v = 0; v < count; ++v) {
            if (bit >= digits[v].size() || digits[v][bit] == 0) {
                continue;
            }
            int d = digits[v][bit];
            const G1Affine& entry = odd_multiples_[v * row + static_cast<size_t>(std::abs(d) / 2)];
            acc = acc.add_mixed_vartime(d > 0 ? entry : entry.neg());
        }
    }
    return acc;
}

G1 g1_msm_vartime(const G1Affine* bases, const Limbs* scalars, size_t n) {
    G1MsmTable table(std::vector<G1Affine>(bases, bases + n), 5);
    return table.msm_vartime(scalars, n);
}

G2 g2_psi(const G2& q) {
    using tower_constants::kGamma1;
    G2 r;
    r.x = q.x.conj() * kGamma1[2];
    r.y = q.y.conj() * kGamma1[3];
    r.z = q.z.conj();
    return r;
}

bool g2_in_subgroup_vartime(const G2& q) {
    G2 xq = q.mul_vartime(Limbs{kBn254X, 0, 0, 0});
    G2 psi_xq = g2_psi(xq);
    G2 psi2_xq = g2_psi(psi_xq);
    G2 lhs = xq.add_vartime(q).add_vartime(psi_xq).add_vartime(psi2_xq);
    G2 rhs = g2_psi(g2_psi(g2_psi(xq.dbl())));
    return lhs == rhs;
}

G1Affine g1_generator() { return G1Affine::from_xy(Fq::from_u64(1), Fq::from_u64(2)); }

G2Affine g2_generator() {
    Fq2 x{fq_from_hex_limbs({0x46debd5cd992f6edULL, 0x674322d4f75edaddULL, 0x426a00665e5c4479ULL,
                             0x1800deef121f1e76ULL}),
          fq_from_hex_limbs({0x97e485b7aef312c2ULL, 0xf1aa493335a9e712ULL, 0x7260bfb731fb5d25ULL,
                             0x198e9393920d483aULL})};
    Fq2 y{fq_from_hex_limbs({0x4ce6cc0166fa7daaULL, 0xe3d1e7690c43d37bULL, 0x4aab71808dcb408fULL,
                             0x12c85ea5db8c6debULL}),
          fq_from_hex_limbs({0x55acdadcd122975bULL, 0xbc4b313370b38ef3ULL, 0xec9e99ad690c3395ULL,
                             0x090689d0585ff075ULL})};
    return G2Affine::from_xy(x, y);
}

namespace detail {

namespace {

// The infinity flag admits exactly one encoding: 0x40 followed by zeros.
bool is_canonical_infinity(const uint8_t* in, size_t len) {
    uint8_t acc = static_cast<uint8_t>(in[0] ^ 0x40);
    for (size_t i = 1; i < len; ++i) {
        acc = static_cast<uint8_t>(acc | in[i]);
    }
    return acc == 0;
}

bool parse_fq_masked(const uint8_t* in32, bool clear_flags, Fq& out) {
    uint8_t buf[32];
    std::copy(in32, in32 + 32, buf);
    if (clear_flags) {
        buf[0] &= 0x3f;
    }
    return Fq::from_bytes_be(buf, out);
}

}  // namespace

Status parse_g1_compressed(const uint8_t* in32, CompressedG1& out) {
    if (in32[0] & 0x40) {
        if (!is_canonical_infinity(in32, 32)) {
            return Status::bad_encoding;
        }
        out = CompressedG1{true, false, Fq::zero()};
        return Status::ok;
    }
    Fq x;
    if (!parse_fq_masked(in32, true, x)) {
        return Status::bad_encoding;
    }
    out = CompressedG1{false, (in32[0] & 0x80) != 0, x};
    return Status::ok;
}

Status parse_g2_compressed(const uint8_t* in64, CompressedG2& out) {
    if (in64[0] & 0x40) {
        if (!is_canonical_infinity(in64, 64)) {
            return Status::bad_encoding;
        }
        out = CompressedG2{true, false, Fq2::zero()};
        return Status::ok;
    }
    Fq2 x;
    if (!parse_fq_masked(in64, true, x.c1) || !parse_fq_masked(in64 + 32, false, x.c0)) {
        return Status::bad_encoding;
    }
    out = CompressedG2{false, (in64[0] & 0x80) != 0, x};
    return Status::ok;
}

Status decompress_g1(const CompressedG1& in, G1Affine& out) {
    if (in.infinity) {
        out = G1Affine::identity();
        return Status::ok;
    }
    Fq y;
    if (!fq_sqrt_vartime(in.x.square() * in.x + G1Curve::b(), y)) {
        return Status::not_on_curve;
    }
    if (fq_is_odd(y) != in.y_sign) {
        y = -y;
    }
    out = G1Affine::from_xy(in.x, y);
    return Status::ok;
}

Status decompress_g2(const CompressedG2& in, G2Affine& out) {
    if (in.infinity) {
        out = G2Affine::identity();
        return Status::ok;
    }
    Fq2 y;
    if (!fq2_sqrt_vartime(in.x.square() * in.x + G2Curve::b(), y)) {
        return Status::not_on_curve;
    }
    if (fq2_sgn0(y) != in.y_sign) {
        y = -y;
    }
    out = G2Affine::from_xy(in.x, y);
    return Status::ok;
}

bool g2_affine_in_subgroup(const G2Affine& q) {
    return q.infinity || g2_in_subgroup_vartime(G2::from_affine(q));
}

}  // namespace detail

Status g1_decode_compressed(const uint8_t* in32, G1Affine& out) noexcept {
    detail::CompressedG1 c;
    Status s = detail::parse_g1_compressed(in32, c);
    if (s != Status::ok) {
        return s;
    }
    G1Affine p;
    s = detail::decompress_g1(c, p);
    if (s != Status::ok) {
        return s;
    }
    out = p;
    return Status::ok;
}

void g1_encode_compressed(const G1Affine& p, uint8_t* out32) noexcept {
    if (p.infinity) {
        std::fill(out32, out32 + 32, uint8_t{0});
        out32[0] = 0x40;
        return;
    }
    p.x.to_bytes_be(out32);
    if (fq_is_odd(p.y)) {
        out32[0] |= 0x80;
    }
}

Status g2_decode_compressed(const uint8_t* in64, G2Affine& out) noexcept {
    detail::CompressedG2 c;
    Status s = detail::parse_g2_compressed(in64, c);
    if (s != Status::ok) {
        return s;
    }
    G2Affine q;
    s = detail::decompress_g2(c, q);
    if (s != Status::ok) {
        return s;
    }
    if (!detail::g2_affine_in_subgroup(q)) {
        return Status::not_in_subgroup;
    }
    out = q;
    return Status::ok;
}

void g2_encode_compressed(const G2Affine& p, uint8_t* out64) noexcept {
    if (p.infinity) {
        std::fill(out64, out64 + 64, uint8_t{0});
        out64[0] = 0x40;
        return;
    }
    p.x.c1.to_bytes_be(out64);
    p.x.c0.to_bytes_be(out64 + 32);
    if (fq2_sgn0(p.y)) {
        out64[0] |= 0x80;
    }
}

}  // namespace libverify
