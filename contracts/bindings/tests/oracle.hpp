#pragma once
// What the tests compare against: Foundry's cast (ZKC_CAST), run in a
// shell, and anvil's first development account, a published test key.

#include <string>

#include "command.hpp"

namespace zkchain {

inline constexpr char kAnvilKey[] =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
inline constexpr char kAnvilAddress[] = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

// cast with these arguments (a shell's words), its output and errors.
inline std::string cast(const std::string& arguments) {
    return run(std::string(ZKC_CAST) + " " + arguments + " 2>&1");
}

}  // namespace zkchain
