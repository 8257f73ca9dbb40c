// The policy receipt as a client, the proxy and the registry's burner read
// it (a response header, a stream entry): any text is either refused or
// parsed to a receipt that encodes back to exactly that text, and asking
// who signed it never crashes, whatever its signature holds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zkchain/policy_receipt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto receipt = zkchain::parse_policy_receipt(text);
    if (!receipt) {
        return 0;
    }
    if (zkchain::policy_receipt_text(*receipt) != text) abort();
    const zkchain::ReceiptDomain domain{31337, zkchain::Address{}};
    (void) zkchain::policy_receipt_signer(domain, *receipt);
    return 0;
}
