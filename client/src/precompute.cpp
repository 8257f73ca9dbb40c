#include "zkclient/precompute.hpp"

#include <sodium.h>

#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include "zkclient/private_file.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/error.hpp"

namespace zkclient {

using libverify::G1Affine;
using libverify::G2Affine;

static_assert(std::is_trivially_copyable_v<CreditPrecompute>,
              "CreditPrecompute lives in sodium_malloc'd memory and is wiped bytewise");

namespace {

// The credit circuit's public inputs, in order (circuits/credit.circom).
enum PublicInput : size_t { kRoot, kScope, kCMax, kKeyHash, kX, kNullifier, kSignalY, kCNew };
constexpr uint32_t kCreditPublicInputs = 8;

constexpr char kMagic[8] = {'Z', 'K', 'C', 'P', 'R', 'E', '0', '1'};
constexpr char kBindingTag[] = "zkcredit precompute binding v1";

class Hasher {
public:
    Hasher() { crypto_generichash_init(&state_, nullptr, 0, 32); }
    ~Hasher() { sodium_memzero(&state_, sizeof state_); }
    void add(const void* data, size_t n) {
        crypto_generichash_update(&state_, static_cast<const unsigned char*>(data), n);
    }
    void add(const Fr& v) {
        uint8_t bytes[32];
        v.to_bytes_be(bytes);
        add(bytes, sizeof bytes);
        sodium_memzero(bytes, sizeof bytes);
    }
    void add(const G1Affine& p) {
        uint8_t bytes[32];
        libverify::g1_encode_compressed(p, bytes);
        add(bytes, sizeof bytes);
    }
    void add(const G2Affine& p) {
        uint8_t bytes[64];
        libverify::g2_encode_compressed(p, bytes);
        add(bytes, sizeof bytes);
    }
    Digest finish() {
        Digest out;
        crypto_generichash_final(&state_, out.data(), out.size());
        return out;
    }

private:
    crypto_generichash_state state_;
};

Digest fingerprint_of(const G1Affine& alpha, const G2Affine& beta, const G2Affine& gamma,
                      const G2Affine& delta, const std::vector<G1Affine>& ic) {
    Hasher h;
    h.add(alpha);
    h.add(beta);
    h.add(gamma);
    h.add(delta);
    for (const G1Affine& p : ic) {
        h.add(p);
    }
    return h.finish();
}

// Refund totals are below 2^64 (the circuit's range checks).
bool to_u64(const Fr& value, uint64_t& out) {
    const libverify::Limbs limbs = value.to_canonical();
    out = limbs[0];
    return (limbs[1] | limbs[2] | limbs[3]) == 0;
}

// Serialised sizes.
constexpr size_t kG1Bytes = 32, kG2Bytes = 64, kFrBytes = 32;
constexpr size_t kG1Points = 8;  // a[2], b1[2], c[3], delta1
constexpr size_t kG2Points = 3;  // b2[2], delta2

size_t encoded_size(uint32_t n_public) {
    return sizeof kMagic + 32 + 4 + kFrBytes + 4 + kG1Points * kG1Bytes + kG2Points * kG2Bytes +
           2 * size_t{n_public} * kFrBytes + 32;
}

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const uint8_t* in) {
    return uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 |
           uint32_t{in[3]} << 24;
}

// The G1 points of a SplitProof in file order.
std::array<G1Affine*, kG1Points> g1_points(SplitProof& s) {
    return {&s.a[0], &s.a[1], &s.b1[0], &s.b1[1], &s.c[0], &s.c[1], &s.c[2], &s.delta1};
}
std::array<G2Affine*, kG2Points> g2_points(SplitProof& s) {
    return {&s.b2[0], &s.b2[1], &s.delta2};
}

}  // namespace

Digest key_fingerprint(const ProvingKey& key) {
    return fingerprint_of(key.alpha1(), key.beta2(), key.gamma2(), key.delta2(), key.ic());
}

Digest key_fingerprint(const libverify::VerifyingKey& vk) {
    return fingerprint_of(vk.alpha(), vk.beta(), vk.gamma(), vk.delta(), vk.ic());
}

Digest statement_binding(const CreditInput& statement, const Digest& key_fingerprint) {
    Hasher h;
    h.add(kBindingTag, sizeof kBindingTag);
    h.add(key_fingerprint.data(), key_fingerprint.size());
    CircuitInput signals = statement.to_circuit_input();
    for (const SignalInput& s : signals) {
        if (s.name == "x" || s.name == "signal_y" || s.name == "c_new" || s.name == "salt_new") {
            continue;
        }
        h.add(s.name.data(), s.name.size() + 1);  // with its NUL: names stay apart
        for (const Fr& v : s.values) {
            h.add(v);
        }
    }
    wipe(signals);
    return h.finish();
}

LockedPrecompute::LockedPrecompute() {
    if (sodium_init() < 0) throw std::bad_alloc();
    void* memory = sodium_malloc(sizeof(CreditPrecompute));
    if (memory == nullptr) throw std::bad_alloc();
    value_ = new (memory) CreditPrecompute();
}

LockedPrecompute::~LockedPrecompute() {
    sodium_free(value_);  // zeroes the pages first
}

void LockedPrecompute::clear() noexcept {
    sodium_memzero(value_, sizeof *value_);
    new (value_) CreditPrecompute();
    ready_ = false;
}

Status LockedPrecompute::finish(const Fr& x, CreditInput& statement, libverify::Proof& proof,
                                const libverify::VerifyingKey* vk) noexcept {
    if (!ready_) return Status::internal_error;
    ready_ = false;  // one use, whatever happens below
    libverify::Proof built;
    std::vector<Fr> inputs;
    Status st = split_finish(value_->split, x, built, inputs);
    if (st == Status::ok &&
        (inputs.size() != kCreditPublicInputs || inputs[kRoot] != statement.root ||
         inputs[kScope] != statement.scope || inputs[kCMax] != statement.c_max ||
         inputs[kKeyHash] != statement.key_hash || inputs[kNullifier] != statement.nullifier)) {
        st = Status::bad_encoding;
    }
    if (st == Status::ok && vk != nullptr) {
        st = libverify::groth16_verify(*vk, built, inputs);
    }
    if (st == Status::ok) {
        statement.x = x;
        statement.signal_y = inputs[kSignalY];
        statement.c_new = inputs[kCNew];
        statement.salt_new = value_->salt_new;
        proof = built;
    }
    wipe(inputs);
    clear();
    return st;
}

Status credit_precompute(const ProvingKey& key, const CreditWitnessGenerator& generator,
                         const CreditInput& statement, uint32_t ticket, LockedPrecompute& out,
                         unsigned threads) noexcept {
    CreditInput s = statement;
    Ticket secrets{};
    std::vector<Fr> w0, w1, wt;
    auto wipe_all = [&] {
        s.wipe();
        sodium_memzero(&secrets, sizeof secrets);
        wipe(w0);
        wipe(w1);
        wipe(wt);
    };
    try {
        out.clear();
        uint64_t refund_total = 0;
        if (statement.ticket != Fr::from_u64(ticket) ||
            !to_u64(statement.refund_total_prev + statement.refund, refund_total)) {
            wipe_all();
            return Status::bad_encoding;
        }
        secrets = ticket_of(s.k, s.scope, ticket);
        s.salt_new = random_field_element();
        s.c_new = commitment_of(s.k, refund_total, uint64_t{ticket} + 1, s.salt_new);
        // The witness at x: its request signals set, everything else as bound.
        auto witness_at = [&](const Fr& x, std::vector<Fr>& w) {
            s.x = x;
            s.signal_y = signal_of(s.k, secrets.secret, x);
            return generator.compute(s, w);
        };
        const Fr t = random_field_element();
        Status st = witness_at(Fr::zero(), w0);
        if (st == Status::ok) st = witness_at(Fr::one(), w1);
        if (st == Status::ok) st = witness_at(t, wt);
        if (st != Status::ok) {
            wipe_all();
            return st;
        }
        // slope = w(1) - w(0); w(t) = w(0) + t slope must hold on every wire.
        for (size_t i = 0; i < w0.size(); ++i) {
            w1[i] -= w0[i];
            if (wt[i] != w0[i] + t * w1[i]) {
                wipe_all();
                return Status::internal_error;
            }
        }
        st = split_precompute(key, w0, w1, out.value_->split, threads);
        if (st == Status::ok) {
            s.x = Fr::zero();
            out.value_->binding = statement_binding(s, key_fingerprint(key));
            out.value_->ticket = ticket;
            out.value_->salt_new = s.salt_new;
            out.ready_ = true;
        }
        wipe_all();
        return st;
    } catch (...) {
        wipe_all();
        out.clear();
        return Status::internal_error;
    }
}

std::string precompute_encode(const CreditPrecompute& precompute) {
    SplitProof split = precompute.split;
    std::string out;
    out.reserve(encoded_size(split.n_public));  // no reallocation leaves copies behind
    out.append(kMagic, sizeof kMagic);
    out.append(reinterpret_cast<const char*>(precompute.binding.data()), precompute.binding.size());
    put_u32(out, precompute.ticket);
    uint8_t bytes[64];
    auto put_fr = [&](const Fr& v) {
        v.to_bytes_be(bytes);
        out.append(reinterpret_cast<const char*>(bytes), kFrBytes);
    };
    put_fr(precompute.salt_new);
    put_u32(out, split.n_public);
    for (G1Affine* p : g1_points(split)) {
        libverify::g1_encode_compressed(*p, bytes);
        out.append(reinterpret_cast<const char*>(bytes), kG1Bytes);
    }
    for (G2Affine* p : g2_points(split)) {
        libverify::g2_encode_compressed(*p, bytes);
        out.append(reinterpret_cast<const char*>(bytes), kG2Bytes);
    }
    for (uint32_t i = 0; i < split.n_public && i < kMaxSplitPublicInputs; ++i) {
        put_fr(split.public_base[i]);
    }
    for (uint32_t i = 0; i < split.n_public && i < kMaxSplitPublicInputs; ++i) {
        put_fr(split.public_slope[i]);
    }
    Digest check;
    crypto_generichash(check.data(), check.size(), reinterpret_cast<const uint8_t*>(out.data()),
                       out.size(), nullptr, 0);
    out.append(reinterpret_cast<const char*>(check.data()), check.size());
    sodium_memzero(bytes, sizeof bytes);
    sodium_memzero(&split, sizeof split);
    return out;
}

Status precompute_decode(const std::string& bytes, LockedPrecompute& out) noexcept {
    out.clear();
    const auto* in = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t header = sizeof kMagic + 32 + 4 + kFrBytes + 4;
    if (bytes.size() < header) return Status::bad_length;
    const uint32_t n_public = get_u32(in + header - 4);
    if (n_public > kMaxSplitPublicInputs || bytes.size() != encoded_size(n_public)) {
        return Status::bad_length;
    }
    Digest check;
    crypto_generichash(check.data(), check.size(), in, bytes.size() - check.size(), nullptr, 0);
    if (std::memcmp(in, kMagic, sizeof kMagic) != 0 ||
        sodium_memcmp(check.data(), in + bytes.size() - check.size(), check.size()) != 0) {
        return Status::bad_encoding;
    }
    CreditPrecompute& v = *out.value_;
    const uint8_t* p = in + sizeof kMagic;
    std::memcpy(v.binding.data(), p, v.binding.size());
    p += v.binding.size();
    v.ticket = get_u32(p);
    p += 4;
    Status st = Status::ok;
    auto get_fr = [&](Fr& f) {
        if (st == Status::ok && !Fr::from_bytes_be(p, f)) st = Status::input_out_of_range;
        p += kFrBytes;
    };
    get_fr(v.salt_new);
    p += 4;
    v.split.n_public = n_public;
    for (G1Affine* q : g1_points(v.split)) {
        if (st == Status::ok) st = libverify::g1_decode_compressed(p, *q);
        p += kG1Bytes;
    }
    for (G2Affine* q : g2_points(v.split)) {
        if (st == Status::ok) st = libverify::g2_decode_compressed(p, *q);
        p += kG2Bytes;
    }
    for (uint32_t i = 0; i < n_public; ++i) get_fr(v.split.public_base[i]);
    for (uint32_t i = 0; i < n_public; ++i) get_fr(v.split.public_slope[i]);
    if (st != Status::ok) {
        out.clear();
        return st;
    }
    out.ready_ = true;
    return Status::ok;
}

std::string precompute_path(const std::string& state_path) { return state_path + ".precompute"; }

void precompute_save(const std::string& path, const CreditPrecompute& precompute) {
    std::string bytes = precompute_encode(precompute);
    try {
        private_file_replace(path, bytes);
    } catch (...) {
        sodium_memzero(bytes.data(), bytes.size());
        throw;
    }
    sodium_memzero(bytes.data(), bytes.size());
}

const char* precompute_file_name(PrecomputeFile state) noexcept {
    switch (state) {
        case PrecomputeFile::ready:
            return "ready";
        case PrecomputeFile::absent:
            return "absent";
        case PrecomputeFile::corrupt:
            return "corrupt";
        case PrecomputeFile::stale:
            return "stale";
    }
    return "unknown";
}

namespace {

PrecomputeFile read_precompute(const std::string& path, const Digest& binding, uint32_t ticket,
                               LockedPrecompute& out) {
    std::string bytes;
    if (!private_file_read(path, bytes)) return PrecomputeFile::absent;
    const Status st = precompute_decode(bytes, out);
    sodium_memzero(bytes.data(), bytes.size());
    if (st != Status::ok) return PrecomputeFile::corrupt;
    if (sodium_memcmp(out.get().binding.data(), binding.data(), binding.size()) != 0 ||
        out.get().ticket != ticket) {
        out.clear();
        return PrecomputeFile::stale;
    }
    return PrecomputeFile::ready;
}

}  // namespace

PrecomputeFile precompute_check(const std::string& path, const Digest& binding,
                                uint32_t ticket) {
    LockedPrecompute scratch;
    return read_precompute(path, binding, ticket, scratch);
}

PrecomputeFile precompute_take(const std::string& path, const Digest& binding, uint32_t ticket,
                               LockedPrecompute& out) {
    const PrecomputeFile found = read_precompute(path, binding, ticket, out);
    if (found != PrecomputeFile::absent) {
        try {
            private_file_remove(path);  // consumed before any proof exists
        } catch (...) {
            out.clear();
            throw;
        }
    }
    return found;
}

}  // namespace zkclient
