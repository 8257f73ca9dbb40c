#include "zkchain/ethereum.hpp"

#include <cryptopp/keccak.h>

namespace zkchain {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool has_hex_prefix(std::string_view text) {
    return text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

// Big-endian bytes of `value` without leading zeros (none for 0).
Bytes minimal_bytes(Amount value) {
    Bytes out;
    while (value != 0) {
        out.insert(out.begin(), static_cast<uint8_t>(value & 0xff));
        value >>= 8;
    }
    return out;
}

// The RLP header of a string or list of `size` bytes: `short_base` is 0x80
// for strings and 0xc0 for lists.
void append_header(Bytes& out, size_t size, uint8_t short_base) {
    if (size <= 55) {
        out.push_back(static_cast<uint8_t>(short_base + size));
        return;
    }
    const Bytes length = minimal_bytes(size);
    out.push_back(static_cast<uint8_t>(short_base + 55 + length.size()));
    out.insert(out.end(), length.begin(), length.end());
}

}  // namespace

std::optional<Address> Address::parse(std::string_view text) {
    const std::optional<Bytes> bytes = text.size() == 42 ? from_hex(text) : std::nullopt;
    if (!bytes) return std::nullopt;
    Address address;
    std::copy(bytes->begin(), bytes->end(), address.bytes.begin());
    return address;
}

std::string Address::hex() const { return to_hex(bytes.data(), bytes.size()); }

// EIP-55: a letter is upper case where the matching nibble of
// keccak256(lower-case hex, without 0x) is 8 or more.
std::string Address::checksummed() const {
    std::string text = hex();
    const Word hash = keccak256(reinterpret_cast<const uint8_t*>(text.data()) + 2, text.size() - 2);
    for (size_t i = 2; i < text.size(); ++i) {
        const size_t nibble = i - 2;
        const uint8_t bits = nibble % 2 == 0 ? hash[nibble / 2] >> 4 : hash[nibble / 2] & 15;
        if (text[i] >= 'a' && bits >= 8) text[i] = static_cast<char>(text[i] - 'a' + 'A');
    }
    return text;
}

std::string to_hex(const uint8_t* data, size_t size) {
    std::string out = "0x";
    out.reserve(2 + 2 * size);
    for (size_t i = 0; i < size; ++i) {
        out.push_back(kDigits[data[i] >> 4]);
        out.push_back(kDigits[data[i] & 15]);
    }
    return out;
}

std::optional<Bytes> from_hex(std::string_view text) {
    if (!has_hex_prefix(text) || text.size() % 2 != 0) return std::nullopt;
    Bytes out;
    out.reserve(text.size() / 2 - 1);
    for (size_t i = 2; i < text.size(); i += 2) {
        const int high = hex_digit(text[i]);
        const int low = hex_digit(text[i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        out.push_back(static_cast<uint8_t>(high << 4 | low));
    }
    return out;
}

Word keccak256(const uint8_t* data, size_t size) {
    CryptoPP::Keccak_256 hash;
    hash.Update(data, size);
    Word digest;
    hash.Final(digest.data());
    return digest;
}

std::optional<Amount> parse_quantity(std::string_view text) {
    if (text.size() < 3 || text.size() > 34 || text.substr(0, 2) != "0x" ||
        (text.size() > 3 && text[2] == '0')) {
        return std::nullopt;
    }
    Amount value = 0;
    for (const char c : text.substr(2)) {
        const int digit = hex_digit(c);
        if (digit < 0) return std::nullopt;
        value = value << 4 | static_cast<unsigned>(digit);
    }
    return value;
}

std::string to_quantity(Amount value) {
    std::string digits;
    do {
        digits.insert(digits.begin(), kDigits[static_cast<unsigned>(value & 15)]);
        value >>= 4;
    } while (value != 0);
    return "0x" + digits;
}

std::string amount_to_decimal(Amount value) {
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<unsigned>(value % 10)));
        value /= 10;
    } while (value != 0);
    return digits;
}

std::optional<Amount> parse_amount_decimal(std::string_view text) {
    if (text.empty() || text.size() > 39 || (text.size() > 1 && text[0] == '0')) {
        return std::nullopt;
    }
    constexpr Amount kMax = ~static_cast<Amount>(0);
    Amount value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<unsigned>(c - '0');
        if (value > (kMax - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

Rlp& Rlp::bytes(const uint8_t* data, size_t size) {
    if (size == 1 && data[0] < 0x80) {
        payload_.push_back(data[0]);
        return *this;
    }
    append_header(payload_, size, 0x80);
    payload_.insert(payload_.end(), data, data + size);
    return *this;
}

Rlp& Rlp::integer(Amount value) { return bytes(minimal_bytes(value)); }

Rlp& Rlp::list(const Rlp& items) {
    const Bytes encoded = items.as_list();
    payload_.insert(payload_.end(), encoded.begin(), encoded.end());
    return *this;
}

Bytes Rlp::as_list() const {
    Bytes out;
    append_header(out, payload_.size(), 0xc0);
    out.insert(out.end(), payload_.begin(), payload_.end());
    return out;
}

Word word_of(Amount value) {
    Word word{};
    for (size_t i = 0; i < 16; ++i) {
        word[31 - i] = static_cast<uint8_t>(value >> (8 * i));
    }
    return word;
}

Word word_of(const libverify::Fr& value) {
    Word word;
    value.to_bytes_be(word.data());
    return word;
}

Word word_of(const Address& address) {
    Word word{};
    std::copy(address.bytes.begin(), address.bytes.end(), word.begin() + 12);
    return word;
}

Calldata::Calldata(std::string_view signature) {
    const Word hash = keccak256(reinterpret_cast<const uint8_t*>(signature.data()), signature.size());
    selector_.assign(hash.begin(), hash.begin() + 4);
}

Calldata& Calldata::word(const Word& value) {
    head_.insert(head_.end(), value.begin(), value.end());
    return *this;
}

Calldata& Calldata::tuple_array(const std::vector<std::vector<Word>>& tuples) {
    Bytes tail;
    const Word length = word_of(static_cast<Amount>(tuples.size()));
    tail.insert(tail.end(), length.begin(), length.end());
    for (const std::vector<Word>& tuple : tuples) {
        if (!tuples.empty() && tuple.size() != tuples.front().size()) {
            throw ChainError(ChainErrorKind::malformed, "the tuples of one array differ in size");
        }
        for (const Word& value : tuple) tail.insert(tail.end(), value.begin(), value.end());
    }
    dynamic_.push_back({head_.size(), std::move(tail)});
    head_.resize(head_.size() + 32);  // the offset, known once the head is
    return *this;
}

// The head with each dynamic argument's offset (from the start of the
// arguments) in its slot, then the tails in the order of their slots.
Bytes Calldata::bytes() const {
    Bytes out = selector_;
    Bytes head = head_;
    Bytes tails;
    for (const DynamicArgument& argument : dynamic_) {
        const Word offset = word_of(static_cast<Amount>(head_.size() + tails.size()));
        std::copy(offset.begin(), offset.end(),
                  head.begin() + static_cast<std::ptrdiff_t>(argument.slot));
        tails.insert(tails.end(), argument.tail.begin(), argument.tail.end());
    }
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), tails.begin(), tails.end());
    return out;
}

std::vector<Word> result_words(const Bytes& result) {
    if (result.size() % 32 != 0) {
        throw ChainError(ChainErrorKind::malformed,
                         "a call result of " + std::to_string(result.size()) +
                             " bytes is not a whole number of words");
    }
    std::vector<Word> words(result.size() / 32);
    for (size_t i = 0; i < words.size(); ++i) {
        std::copy(result.begin() + static_cast<std::ptrdiff_t>(32 * i),
                  result.begin() + static_cast<std::ptrdiff_t>(32 * i + 32), words[i].begin());
    }
    return words;
}

Amount word_integer(const Word& word, unsigned bits, const std::string& what) {
    const size_t leading = 32 - bits / 8;
    for (size_t i = 0; i < leading; ++i) {
        if (word[i] != 0) {
            throw ChainError(ChainErrorKind::malformed,
                             what + " does not fit in " + std::to_string(bits) + " bits");
        }
    }
    Amount value = 0;
    for (size_t i = leading; i < 32; ++i) {
        value = value << 8 | word[i];
    }
    return value;
}

bool word_field(const Word& word, libverify::Fr& out) {
    return libverify::Fr::from_bytes_be(word.data(), out);
}

std::optional<Address> word_address(const Word& word) {
    for (size_t i = 0; i < 12; ++i) {
        if (word[i] != 0) return std::nullopt;
    }
    Address address;
    std::copy(word.begin() + 12, word.end(), address.bytes.begin());
    return address;
}

}  // namespace zkchain
