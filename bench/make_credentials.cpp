// Fresh credentials for the gateway benchmark, proved with the native prover:
// one user whose leaf is alone in the deposit tree spends tickets 0..COUNT-1
// on the same request, each at genesis (no voucher), so every credential
// carries its own nullifier and all of them are valid at once.
//
//   make_credentials DAT ZKEY SCOPE C_MAX SERVER_KEY_HEX METHOD TARGET COUNT [THREADS]
//
// Prints {"root_hex": ..., "credentials": ["<header value>", ...]} on stdout.
// The benchmark is the only user: a real client spends its tickets one by
// one, each bound to its own request and nonce (zkcredit request).
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "libverify/decimal.hpp"
#include "zkclient/credit.hpp"
#include "zkclient/merkle.hpp"
#include "zkclient/prover.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace {

using zkclient::Fr;
using zkclient::Status;

struct Job {
    const zkclient::ProvingKey* key = nullptr;
    const std::string* dat_path = nullptr;
    zkclient::CreditParameters params;
    std::string method;
    std::string target;
    std::vector<std::string> headers;
    std::atomic<uint32_t> next{0};
    std::atomic<bool> failed{false};
};

bool prove_one(const zkclient::CreditWitnessGenerator& generator, Job& job, uint32_t ticket,
               std::string& header) {
    zkclient::CreditParameters params = job.params;
    params.ticket = ticket;
    params.salt_new = zkclient::random_field_element();
    uint8_t nonce[libverify::kNonceBytes];
    zkclient::random_nonce(nonce);
    zkclient::CreditInput input;
    std::vector<Fr> witness;
    std::vector<Fr> public_inputs;
    libverify::Proof proof;
    Status status = zkclient::request_binding(job.method, job.target, "", nonce, params.x);
    if (status == Status::ok) status = zkclient::credit_input_assemble(params, input);
    if (status == Status::ok) status = generator.compute(input, witness);
    // one thread per proof: the workers already keep every core busy
    if (status == Status::ok) {
        status = zkclient::groth16_prove(*job.key, witness, proof, public_inputs, 1);
    }
    if (status != Status::ok) {
        std::fprintf(stderr, "make_credentials: ticket %u: %s\n", ticket,
                     libverify::status_name(status));
        return false;
    }
    char text[libverify::kCredentialChars + 1] = {};
    libverify::credential_encode(zkclient::credential_of(input, nonce, proof), text);
    header.assign(text, libverify::kCredentialChars);
    return true;
}

void prove_tickets(Job& job) {
    zkclient::CreditWitnessGenerator generator;
    if (zkclient::CreditWitnessGenerator::load(*job.dat_path, generator) != Status::ok) {
        std::fprintf(stderr, "make_credentials: cannot load %s\n", job.dat_path->c_str());
        job.failed = true;
        return;
    }
    for (uint32_t ticket = job.next++; ticket < job.headers.size() && !job.failed;
         ticket = job.next++) {
        if (!prove_one(generator, job, ticket, job.headers[ticket])) {
            job.failed = true;
        }
    }
}

int usage() {
    std::fprintf(stderr,
                 "usage: make_credentials DAT ZKEY SCOPE C_MAX SERVER_KEY_HEX METHOD TARGET "
                 "COUNT [THREADS]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 9 && argc != 10) {
        return usage();
    }
    const std::string dat_path = argv[1];
    const uint64_t c_max = std::strtoull(argv[4], nullptr, 10);
    const unsigned long count = std::strtoul(argv[8], nullptr, 10);
    unsigned threads = argc == 10 ? static_cast<unsigned>(std::strtoul(argv[9], nullptr, 10))
                                  : std::thread::hardware_concurrency();
    if (c_max == 0 || c_max > UINT64_MAX / 1000001 || count == 0 || count > 1000000 ||
        threads == 0) {
        return usage();
    }

    zkclient::ProvingKey key;
    if (zkclient::ProvingKey::from_file(argv[2], key) != Status::ok) {
        std::fprintf(stderr, "make_credentials: cannot read the proving key %s\n", argv[2]);
        return 1;
    }

    Job job;
    job.key = &key;
    job.dat_path = &dat_path;
    job.method = argv[6];
    job.target = argv[7];
    job.headers.resize(count);
    zkclient::CreditParameters& params = job.params;
    std::array<uint8_t, libverify::kBabyJubPackedBytes> packed;
    if (libverify::fr_from_decimal(argv[3], params.scope) != Status::ok ||
        zkclient::key_from_hex(argv[5], packed, params.key) != Status::ok) {
        std::fprintf(stderr, "make_credentials: bad scope or server key\n");
        return 2;
    }
    params.k = zkclient::random_field_element();
    params.c_max = c_max;
    params.deposit = c_max * (count + 1);
    zkclient::MerklePath path;
    if (zkclient::merkle_root_and_path(zkclient::kCreditTreeDepth,
                                       {zkclient::leaf_of(params.k, params.deposit)}, 0,
                                       params.root, path) != Status::ok) {
        return 1;
    }
    params.path_elements = path.elements;
    params.leaf_index = 0;

    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads; ++i) {
        workers.emplace_back(prove_tickets, std::ref(job));
    }
    for (std::thread& worker : workers) {
        worker.join();
    }
    if (job.failed) {
        return 1;
    }

    std::printf("{\"root_hex\": \"%s\", \"credentials\": [", zkclient::fr_to_hex(params.root).c_str());
    for (size_t i = 0; i < job.headers.size(); ++i) {
        std::printf("%s\"%s\"", i == 0 ? "" : ", ", job.headers[i].c_str());
    }
    std::printf("]}\n");
    return 0;
}
