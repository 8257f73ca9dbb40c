#include "zkchain/signer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

namespace zkchain {

namespace {

constexpr uint8_t kEip1559Type = 0x02;
constexpr size_t kKeyBytes = 32;
// "0x", 64 digits and a newline: a longer file is not a key file.
constexpr size_t kKeyFileMax = 2 + 2 * kKeyBytes + 1;

[[noreturn]] void key_error(const std::string& what) {
    throw ChainError(ChainErrorKind::key, what);
}

int nibble(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes the key's text into `key`; false when it is not 64 hex digits
// (after an optional 0x, before an optional newline). Runs over every
// character whatever it holds, so its time says nothing about the key.
bool decode_key(const uint8_t* text, size_t size, uint8_t* key) {
    if (size > 0 && text[size - 1] == '\n') --size;
    if (size >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text += 2;
        size -= 2;
    }
    if (size != 2 * kKeyBytes) return false;
    int bad = 0;
    for (size_t i = 0; i < kKeyBytes; ++i) {
        const int high = nibble(text[2 * i]);
        const int low = nibble(text[2 * i + 1]);
        bad |= (high | low) & 0x100;  // -1 has bit 8 set
        key[i] = static_cast<uint8_t>((high & 15) << 4 | (low & 15));
    }
    return bad == 0;
}

// Guarded, locked memory that sodium_free wipes.
uint8_t* locked_buffer(size_t size) {
    if (sodium_init() < 0) throw std::bad_alloc();
    auto* buffer = static_cast<uint8_t*>(sodium_malloc(size));
    if (buffer == nullptr) throw std::bad_alloc();
    return buffer;
}

// Big-endian bytes without leading zeros, as RLP encodes integers.
Bytes trimmed(const uint8_t* data, size_t size) {
    size_t start = 0;
    while (start < size && data[start] == 0) ++start;
    return Bytes(data + start, data + size);
}

Rlp unsigned_fields(const Transaction& t) {
    Rlp fields;
    fields.integer(t.chain_id)
        .integer(t.nonce)
        .integer(t.max_priority_fee_per_gas)
        .integer(t.max_fee_per_gas)
        .integer(t.gas_limit)
        .bytes(t.to.bytes.data(), t.to.bytes.size())
        .integer(t.value)
        .bytes(t.data)
        .list(Rlp());
    return fields;
}

Bytes typed(const Rlp& fields) {
    Bytes out{kEip1559Type};
    const Bytes list = fields.as_list();
    out.insert(out.end(), list.begin(), list.end());
    return out;
}

// The address of a public key: the last 20 bytes of keccak256(x || y).
Address address_of(const secp256k1_context* context, const secp256k1_pubkey& public_key) {
    uint8_t serialized[65];
    size_t size = sizeof serialized;
    secp256k1_ec_pubkey_serialize(context, serialized, &size, &public_key,
                                  SECP256K1_EC_UNCOMPRESSED);
    const Word hash = keccak256(serialized + 1, 64);
    Address address;
    std::copy(hash.begin() + 12, hash.end(), address.bytes.begin());
    return address;
}

}  // namespace

Word transaction_digest(const Transaction& transaction) {
    return keccak256(typed(unsigned_fields(transaction)));
}

Signer::Signer(secp256k1_context_struct* context, uint8_t* key) : context_(context), key_(key) {
    secp256k1_pubkey public_key;
    if (secp256k1_ec_seckey_verify(context_, key_) != 1 ||
        secp256k1_ec_pubkey_create(context_, &public_key, key_) != 1) {
        sodium_free(key_);
        secp256k1_context_destroy(context_);
        key_error("the chain key is not a valid secp256k1 secret key");
    }
    address_ = address_of(context_, public_key);
}

Signer Signer::from_hex(std::string_view key_hex) {
    uint8_t* key = locked_buffer(kKeyBytes);
    if (!decode_key(reinterpret_cast<const uint8_t*>(key_hex.data()), key_hex.size(), key)) {
        sodium_free(key);
        key_error("the chain key is not 64 hex digits");
    }
    secp256k1_context* context = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    uint8_t seed[32];
    randombytes_buf(seed, sizeof seed);
    // Blinding makes the signing multiplication's side channels independent of the key.
    if (secp256k1_context_randomize(context, seed) != 1) {
        sodium_free(key);
        secp256k1_context_destroy(context);
        key_error("cannot randomise the secp256k1 context");
    }
    sodium_memzero(seed, sizeof seed);
    return Signer(context, key);
}

Signer Signer::from_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) key_error("cannot open the chain key " + path + ": " + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        key_error("the chain key " + path + " is not a regular file");
    }
    if ((info.st_mode & 077) != 0 || info.st_uid != ::geteuid()) {
        ::close(fd);
        key_error("the chain key " + path +
                  " must belong to this user and be readable by no one else (chmod 600)");
    }
    uint8_t* text = nullptr;
    try {
        text = locked_buffer(kKeyFileMax + 1);
    } catch (...) {
        ::close(fd);
        throw;
    }
    size_t size = 0;
    while (size <= kKeyFileMax) {
        const ssize_t n = ::read(fd, text + size, kKeyFileMax + 1 - size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        size += static_cast<size_t>(n);
    }
    ::close(fd);
    if (size > kKeyFileMax) {
        sodium_free(text);
        key_error("the chain key " + path + " holds more than one key");
    }
    try {
        Signer signer = from_hex(std::string_view(reinterpret_cast<const char*>(text), size));
        sodium_free(text);
        return signer;
    } catch (const ChainError&) {
        sodium_free(text);
        key_error("the chain key " + path + " is not 64 hex digits of a secp256k1 secret key");
    } catch (...) {
        sodium_free(text);
        throw;
    }
}

Signer::Signer(Signer&& other) noexcept
    : context_(other.context_), key_(other.key_), address_(other.address_) {
    other.context_ = nullptr;
    other.key_ = nullptr;
}

Signer::~Signer() {
    if (key_ != nullptr) sodium_free(key_);
    if (context_ != nullptr) secp256k1_context_destroy(context_);
}

namespace {

// The compact signature (r || s) and its recovery id.
struct Compact {
    uint8_t bytes[64];
    int recovery = 0;
};

Compact sign_compact(secp256k1_context* context, const uint8_t* key, const Word& digest) {
    secp256k1_ecdsa_recoverable_signature signature;
    if (secp256k1_ecdsa_sign_recoverable(context, &signature, digest.data(), key, nullptr,
                                         nullptr) != 1) {
        key_error("secp256k1 could not sign");
    }
    Compact compact;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(context, compact.bytes,
                                                            &compact.recovery, &signature);
    return compact;
}

}  // namespace

Bytes Signer::sign(const Transaction& transaction) const {
    const Compact compact = sign_compact(context_, key_, transaction_digest(transaction));
    Rlp fields = unsigned_fields(transaction);
    fields.integer(static_cast<Amount>(compact.recovery))
        .bytes(trimmed(compact.bytes, 32))
        .bytes(trimmed(compact.bytes + 32, 32));
    return typed(fields);
}

Signature Signer::sign_digest(const Word& digest) const {
    const Compact compact = sign_compact(context_, key_, digest);
    Signature signature;
    std::copy(compact.bytes, compact.bytes + 32, signature.r.begin());
    std::copy(compact.bytes + 32, compact.bytes + 64, signature.s.begin());
    signature.v = static_cast<uint8_t>(27 + compact.recovery);
    return signature;
}

std::optional<Address> recover_signer(const Word& digest, const Signature& signature) {
    if (signature.v != 27 && signature.v != 28) return std::nullopt;
    uint8_t compact[64];
    std::copy(signature.r.begin(), signature.r.end(), compact);
    std::copy(signature.s.begin(), signature.s.end(), compact + 32);
    // Verification needs no secret: the static context is enough.
    const secp256k1_context* context = secp256k1_context_static;
    secp256k1_ecdsa_recoverable_signature recoverable;
    if (secp256k1_ecdsa_recoverable_signature_parse_compact(context, &recoverable, compact,
                                                            signature.v - 27) != 1) {
        return std::nullopt;  // r or s not below the group order
    }
    secp256k1_ecdsa_signature plain;
    secp256k1_ecdsa_recoverable_signature_convert(context, &plain, &recoverable);
    if (secp256k1_ecdsa_signature_normalize(context, nullptr, &plain) == 1) {
        return std::nullopt;  // a high s, which the contract refuses (EIP-2)
    }
    secp256k1_pubkey public_key;
    if (secp256k1_ecdsa_recover(context, &public_key, &recoverable, digest.data()) != 1) {
        return std::nullopt;
    }
    return address_of(context, public_key);
}

}  // namespace zkchain
