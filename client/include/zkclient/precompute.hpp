#pragma once
// The next ticket's proof, precomputed without the request (docs/prover.md,
// "Split proving"; docs/client.md, "Precomputed proof").
//
// A credit statement depends on the request only through x (and signal_y =
// k + a x, its consequence). credit_precompute makes everything else of the
// proof from the statement the next request will prove; credit_finish
// completes it for x in about a millisecond with fresh r, s.
//
// The precompute is as secret as the state: whoever holds it can prove the
// ticket for any x, and two proofs for one ticket reveal k. So it lives in
// locked, guarded memory (sodium_malloc) wiped on release, is kept in an
// owner-only file replaced atomically (temporary, fsync, rename, fsync of
// the directory), is bound to the statement and key it was made for, and is
// taken at most once: precompute_take removes the file durably before it
// returns the precompute, and a LockedPrecompute refuses a second finish.

#include <array>
#include <cstdint>
#include <string>

#include "libverify/groth16.hpp"
#include "libverify/status.hpp"
#include "zkclient/split_prover.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient {

using Digest = std::array<uint8_t, 32>;

// BLAKE2b-256 of the verifying key's points (alpha, beta, gamma, delta, IC,
// compressed): equal for a proving key and the verifying key made with it.
Digest key_fingerprint(const ProvingKey& key);
Digest key_fingerprint(const libverify::VerifyingKey& vk);

// BLAKE2b-256 of the key fingerprint and every signal of the statement but
// x and signal_y (the request) and c_new and salt_new (the precompute's own
// choice; c_new = H(k, R, salt_new) follows from the bound k and R): root,
// Merkle path, identity, deposit, ticket, refund state, voucher, key.
Digest statement_binding(const CreditInput& statement, const Digest& key_fingerprint);

struct CreditPrecompute {
    Digest binding{};  // statement_binding of the statement it proves
    uint32_t ticket = 0;
    Fr salt_new;  // the salt of c_new in the precomputed statement
    SplitProof split;
};

// A CreditPrecompute in sodium_malloc'd memory (locked where the system
// allows, guard pages, zeroed on release). Holds nothing until filled by
// credit_precompute or precompute_take; empty again after finish().
class LockedPrecompute {
public:
    LockedPrecompute();  // throws std::bad_alloc
    ~LockedPrecompute();
    LockedPrecompute(const LockedPrecompute&) = delete;
    LockedPrecompute& operator=(const LockedPrecompute&) = delete;

    bool ready() const noexcept { return ready_; }
    const CreditPrecompute& get() const noexcept { return *value_; }

    // The proof of `statement` (made with x = 0 and any salt) for the
    // request x: fills statement.x, signal_y, c_new and salt_new, and wipes
    // this precompute, whatever the outcome. bad_encoding when the
    // statement's public signals differ from the precomputed ones (a
    // precompute for another state), internal_error when empty (already
    // used) or on a broken point. If vk is given, the proof must verify
    // (invalid_proof otherwise).
    Status finish(const Fr& x, CreditInput& statement, libverify::Proof& proof,
                  const libverify::VerifyingKey* vk = nullptr) noexcept;

    void clear() noexcept;

private:
    friend Status credit_precompute(const ProvingKey&, const CreditWitnessGenerator&,
                                    const CreditInput&, uint32_t, LockedPrecompute&,
                                    unsigned) noexcept;
    friend Status precompute_decode(const std::string&, LockedPrecompute&) noexcept;

    CreditPrecompute* value_ = nullptr;
    bool ready_ = false;
};

// Precomputes the proof of `statement` for ticket `ticket` with a fresh
// salt_new (statement.x, signal_y, c_new and salt_new are ignored). The
// witness is computed at x = 0, x = 1 and a random third x, and must be
// affine in x: internal_error otherwise (a circuit this split does not fit).
// The witness generator's errors otherwise (unsatisfied_constraint for a
// statement the circuit refuses).
Status credit_precompute(const ProvingKey& key, const CreditWitnessGenerator& generator,
                         const CreditInput& statement, uint32_t ticket, LockedPrecompute& out,
                         unsigned threads = 0) noexcept;

// The file: "ZKCPRE01", binding, ticket (u32 LE), salt_new, n_public (u32
// LE), the SplitProof's points compressed (libverify's encodings) and its
// public base and slope (32-byte big-endian), then BLAKE2b-256 of all of it.
std::string precompute_encode(const CreditPrecompute& precompute);
// bad_length for a wrong size, bad_encoding for a wrong magic or checksum,
// a point's or field element's decoding error otherwise.
Status precompute_decode(const std::string& bytes, LockedPrecompute& out) noexcept;

// STATE.precompute, next to the state file.
std::string precompute_path(const std::string& state_path);

// Writes the precompute (0600, atomic, durable); ClientError(state) on I/O
// failure.
void precompute_save(const std::string& path, const CreditPrecompute& precompute);

enum class PrecomputeFile {
    ready,    // there, intact, made for this statement and key
    absent,   // no file
    corrupt,  // unreadable contents (truncated, bit flips)
    stale,    // made for another statement, ticket or key
};
const char* precompute_file_name(PrecomputeFile state) noexcept;

// What the file holds for the statement with this binding, read only.
PrecomputeFile precompute_check(const std::string& path, const Digest& binding,
                                uint32_t ticket);

// Takes the precompute for this binding and ticket: on ready the file is
// removed (durably) before `out` is filled, so it is never used twice, even
// across a crash; a corrupt or stale file is removed too. ClientError(state)
// on I/O failure (group-readable file, removal failing).
PrecomputeFile precompute_take(const std::string& path, const Digest& binding, uint32_t ticket,
                               LockedPrecompute& out);

}  // namespace zkclient
