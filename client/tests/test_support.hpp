#pragma once
// Shared fixtures of the zkclient tests: the credit circuit's .dat, proving
// and verifying keys (paths compiled in) and the inputs with snarkjs's
// witnesses made by make_inputs.mjs (path in ZKC_CLIENT_INPUTS).

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libverify/decimal.hpp"
#include "libverify/groth16.hpp"
#include "zkclient/witness.hpp"
#include "zkclient/zkey.hpp"

namespace zkclient::test {

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct InputCase {
    std::string name;
    std::string input_json;
    std::vector<Fr> snarkjs_witness;
};

inline std::vector<InputCase> load_cases() {
    const char* path = std::getenv("ZKC_CLIENT_INPUTS");
    std::vector<InputCase> cases;
    if (path == nullptr) {
        return cases;
    }
    nlohmann::json doc = nlohmann::json::parse(read_file(path));
    for (const auto& c : doc.at("cases")) {
        InputCase ic;
        ic.name = c.at("name").get<std::string>();
        ic.input_json = c.at("input").dump();
        for (const auto& v : c.at("witness")) {
            Fr f;
            if (libverify::fr_from_decimal(v.get<std::string>(), f) != Status::ok) {
                return {};
            }
            ic.snarkjs_witness.push_back(f);
        }
        cases.push_back(std::move(ic));
    }
    return cases;
}

}  // namespace zkclient::test
