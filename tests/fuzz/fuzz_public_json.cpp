// public.json parsing: accepted values are canonical elements of Fr.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "libverify/groth16.hpp"

using namespace libverify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<Fr> inputs;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (public_inputs_from_json(text, inputs) == Status::ok) {
        for (const Fr& x : inputs) {
            if (!Fr::is_canonical(x.to_canonical())) {
                abort();
            }
        }
    }
    return 0;
}
