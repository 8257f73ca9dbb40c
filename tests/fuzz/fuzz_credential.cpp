// The credential header and the refund header, as the gateway and the client
// decode them. Input: header text. Accepted text must be the one canonical
// spelling of what it decodes to.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "libverify/protocol.hpp"

using namespace libverify;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    Credential credential;
    if (credential_decode(text, credential) == Status::ok) {
        char again[kCredentialChars];
        credential_encode(credential, again);
        if (size != kCredentialChars || std::memcmp(again, data, size) != 0) {
            abort();
        }
    }

    Refund refund;
    if (refund_decode(text, refund) == Status::ok) {
        char again[kRefundChars];
        refund_encode(refund, again);
        if (size != kRefundChars || std::memcmp(again, data, size) != 0) {
            abort();
        }
    }
    return 0;
}
