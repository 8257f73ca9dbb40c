#pragma once
// Runs a shell command (cast, for the tests that check against Foundry) and
// returns its standard output without the trailing newline; empty when it
// could not start.

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace zkchain {

inline std::string run(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    if (!pipe) return {};
    std::string out;
    std::array<char, 4096> buffer{};
    size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) out.append(buffer.data(), n);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

}  // namespace zkchain
