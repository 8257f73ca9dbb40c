#pragma once
// Failures of the client's I/O side (state file, HTTP, deployment), each
// with the exit status the zkcredit command reports for it. The protocol
// and proving functions report libverify::Status instead; the command line
// turns those into these.

#include <stdexcept>
#include <string>

namespace zkclient {

enum class ExitCode : int {
    ok = 0,
    failure = 1,       // an unexpected internal failure
    usage = 2,         // bad command line
    state = 3,         // state file missing, unreadable, malformed, exists (init)
    locked = 4,        // another zkcredit process holds the state file
    network = 5,       // no HTTP answer (connection, TLS, timeout)
    tree = 6,          // not synced, own leaf missing, root mismatch, bad leaves list
    insufficient = 7,  // the next ticket would exceed deposit plus refunds
    refused = 8,       // the gateway refused the credential (402)
    ticket_spent = 9,  // the gateway reports the ticket spent (409)
    unavailable = 10,  // the gateway's store is unavailable (503)
    protocol = 11,     // bad challenge, voucher signature, or server answer
    prover = 12,       // proving keys unreadable, witness or proof failed
    chain = 13,        // deposit: the node, the contract (a revert) or the chain key
};

class ClientError : public std::runtime_error {
public:
    ClientError(ExitCode code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    ExitCode code() const noexcept { return code_; }

private:
    ExitCode code_;
};

}  // namespace zkclient
