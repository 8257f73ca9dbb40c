#pragma once
// Failures of the registry. Unlike libverify, this is an operator tool's
// library: it throws, and the command line maps each kind to an exit code.

#include <stdexcept>
#include <string>

namespace zkregistry {

enum class ErrorKind {
    invalid_input,  // malformed id, amount, hex or option value
    refused,        // well-formed but not allowed: duplicate id, full tree, depth mismatch
    store,          // Redis unreachable, answering an error, or holding malformed state
    io,             // a local file could not be written
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}

    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace zkregistry
