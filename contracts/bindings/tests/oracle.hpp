#pragma once
// What the tests compare against: Foundry's cast (ZKC_CAST), run in a
// shell, and anvil's first development account, a published test key.

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace zkchain {

inline constexpr char kAnvilKey[] =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
inline constexpr char kAnvilAddress[] = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

// The command's standard output without its trailing line ends.
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

inline std::string cast(const std::string& arguments) {
    return run(std::string(ZKC_CAST) + " " + arguments + " 2>&1");
}

}  // namespace zkchain
