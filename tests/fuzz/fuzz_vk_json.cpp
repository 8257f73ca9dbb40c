// snarkjs verification_key.json parsing and validation.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libverify/groth16.hpp"

using namespace libverify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    VerifyingKey vk;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (VerifyingKey::from_json(text, vk) == Status::ok && vk.ic().size() != vk.n_public() + 1) {
        abort();
    }
    return 0;
}
