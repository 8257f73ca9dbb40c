// The text forms zkchain reads from the node, the command line and the
// chain key file: any input is either refused or parsed to a value that
// prints back to the same text (quantities, hex, decimal amounts,
// addresses up to case); a key file's text never crashes the signer.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "zkchain/ethereum.hpp"
#include "zkchain/signer.hpp"

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (c == 'X') c = 'x';
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 5) {
    case 0:
        if (const auto value = zkchain::parse_quantity(text)) {
            if (zkchain::to_quantity(*value) != lower(text)) abort();
        }
        break;
    case 1:
        if (const auto bytes = zkchain::from_hex(text)) {
            if (zkchain::to_hex(*bytes) != lower(text)) abort();
        }
        break;
    case 2:
        if (const auto value = zkchain::parse_amount_decimal(text)) {
            if (zkchain::amount_to_decimal(*value) != text) abort();
        }
        break;
    case 3:
        if (const auto address = zkchain::Address::parse(text)) {
            if (address->hex() != lower(text)) abort();
        }
        break;
    default:
        try {
            const zkchain::Signer signer = zkchain::Signer::from_hex(text);
            if (signer.address().hex().size() != 42) abort();
        } catch (const zkchain::ChainError& e) {
            if (e.kind() != zkchain::ChainErrorKind::key) abort();
        }
        break;
    }
    return 0;
}
