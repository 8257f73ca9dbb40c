// An Ethereum node's eth_getLogs answer, as the registry's chain follower
// decodes it: any input either decodes to events in chain order or is
// refused with Error(invalid_input), never a crash or another exception.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "zkregistry/chain.hpp"
#include "zkregistry/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const nlohmann::json logs = nlohmann::json::parse(text, nullptr, false);
    if (logs.is_discarded()) {
        return 0;
    }
    try {
        const auto events =
            zkregistry::decode_logs(logs, "0x5fbdb2315678afecb367f032d93f642f64180aa3");
        for (size_t i = 1; i < events.size(); ++i) {
            if (events[i].block < events[i - 1].block ||
                (events[i].block == events[i - 1].block &&
                 events[i].log_index < events[i - 1].log_index)) {
                abort();
            }
        }
    } catch (const zkregistry::Error& e) {
        if (e.kind() != zkregistry::ErrorKind::invalid_input) {
            abort();
        }
    }
    return 0;
}
