#include "zkclient/zkey.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "test_support.hpp"
#include "zkclient/witness.hpp"

namespace zkclient {
namespace {

class ZkeyReader : public ::testing::Test {
protected:
    static void SetUpTestSuite() { bytes_ = new std::string(test::read_file(ZKC_CIRCUIT_ZKEY)); }
    static void TearDownTestSuite() { delete bytes_; }

    // Offset of a section's body in the committed key.
    static size_t section_offset(uint32_t wanted) {
        const std::string& z = *bytes_;
        uint32_t n_sections;
        std::memcpy(&n_sections, z.data() + 8, 4);
        size_t pos = 12;
        for (uint32_t i = 0; i < n_sections; ++i) {
            uint32_t id;
            uint64_t size;
            std::memcpy(&id, z.data() + pos, 4);
            std::memcpy(&size, z.data() + pos + 4, 8);
            pos += 12;
            if (id == wanted) {
                return pos;
            }
            pos += size;
        }
        return 0;
    }

    static Status parse(const std::string& z) {
        ProvingKey key;
        return ProvingKey::from_bytes(z, key);
    }

    static std::string* bytes_;
};

std::string* ZkeyReader::bytes_ = nullptr;

// The wires of the linked credit circuit: the committed key must be its key.
size_t circuit_wires() { return CreditWitnessGenerator().witness_size(); }

TEST_F(ZkeyReader, ParsesTheCommittedKey) {
    ProvingKey key;
    ASSERT_EQ(ProvingKey::from_bytes(*bytes_, key), Status::ok);
    const size_t wires = circuit_wires();
    EXPECT_EQ(key.n_vars(), wires);
    EXPECT_EQ(key.n_public(), 8u);
    EXPECT_EQ(key.domain_size(), 16384u);
    EXPECT_EQ(key.domain_power(), 14u);
    EXPECT_EQ(key.a().size(), wires);
    EXPECT_EQ(key.b2().size(), wires);
    EXPECT_EQ(key.c().size(), wires - 9u);
    EXPECT_FALSE(key.coefficients().empty());
    EXPECT_FALSE(key.alpha1().infinity);
}

TEST_F(ZkeyReader, MissingFileIsAnIoError) {
    ProvingKey key;
    EXPECT_EQ(ProvingKey::from_file("/nonexistent/credit.zkey", key), Status::io_error);
}

TEST_F(ZkeyReader, TruncationsAreRefused) {
    const std::string& z = *bytes_;
    std::vector<size_t> cuts = {0, 3, 4, 11, 12, 20, 23, 24, 100, 700, z.size() / 3,
                                z.size() / 2, z.size() - 64, z.size() - 1};
    for (uint32_t id = 1; id <= 10; ++id) {
        size_t off = section_offset(id);
        cuts.push_back(off - 1);
        cuts.push_back(off);
        cuts.push_back(off + 1);
    }
    for (size_t cut : cuts) {
        EXPECT_NE(parse(z.substr(0, cut)), Status::ok) << cut;
    }
    EXPECT_NE(parse(z + std::string(1, '\0')), Status::ok);
}

TEST_F(ZkeyReader, MalformedHeadersAreRefused) {
    auto patched = [](size_t offset, uint32_t value) {
        std::string z = *bytes_;
        std::memcpy(&z[offset], &value, 4);
        return parse(z);
    };
    EXPECT_EQ(patched(0, 0x79656b7a ^ 1), Status::bad_encoding);  // magic
    EXPECT_EQ(patched(4, 2), Status::bad_encoding);                // version
    EXPECT_NE(patched(8, 9), Status::ok);                           // section count
    EXPECT_EQ(patched(8, 0xffffffff), Status::bad_encoding);
    size_t header = section_offset(1);
    EXPECT_EQ(patched(header, 2), Status::bad_encoding);  // PLONK
    size_t groth = section_offset(2);
    EXPECT_EQ(patched(groth, 48), Status::bad_encoding);          // n8q
    EXPECT_EQ(patched(groth + 4, 0), Status::bad_encoding);       // q
    EXPECT_EQ(patched(groth + 40, 0), Status::bad_encoding);      // r
    EXPECT_EQ(patched(groth + 72, 11481), Status::bad_length);    // nVars
    EXPECT_EQ(patched(groth + 72, 5), Status::bad_encoding);      // nVars <= nPublic
    EXPECT_EQ(patched(groth + 72, 0xffffffff), Status::bad_length);
    EXPECT_EQ(patched(groth + 76, 9), Status::bad_length);        // nPublic
    EXPECT_EQ(patched(groth + 80, 16383), Status::bad_encoding);  // not a power of two
    EXPECT_EQ(patched(groth + 80, 1u << 15), Status::bad_length);
    EXPECT_EQ(patched(groth + 80, 1u << 31), Status::bad_encoding);  // above 2^28
    // A section id repeated in place of another.
    EXPECT_EQ(patched(section_offset(9) - 12, 8), Status::bad_encoding);
    size_t coefs = section_offset(4);
    EXPECT_EQ(patched(coefs, 1), Status::bad_length);              // count
    EXPECT_EQ(patched(coefs + 4, 2), Status::bad_encoding);        // matrix C
    EXPECT_EQ(patched(coefs + 8, 16384), Status::bad_encoding);    // constraint
    EXPECT_EQ(patched(coefs + 12, static_cast<uint32_t>(circuit_wires())),
              Status::bad_encoding);                                  // signal
    EXPECT_EQ(patched(coefs + 16 + 28, 0xffffffff), Status::bad_encoding);  // value >= r
}

TEST_F(ZkeyReader, BadPointsAreRefused) {
    auto patched_byte = [](size_t offset, uint8_t x) {
        std::string z = *bytes_;
        z[offset] = static_cast<char>(z[offset] ^ x);
        return parse(z);
    };
    size_t a = section_offset(5);
    size_t b2 = section_offset(7);
    size_t h = section_offset(9);
    size_t alpha = section_offset(2) + 84;
    // Find a non-identity A point.
    size_t p = a;
    while (std::string(bytes_->data() + p, 64) == std::string(64, '\0')) {
        p += 64;
    }
    EXPECT_EQ(patched_byte(p, 1), Status::not_on_curve);
    EXPECT_EQ(patched_byte(p + 31, 0xc0), Status::bad_encoding);  // x >= p
    EXPECT_EQ(patched_byte(b2 + 128 * 20 + 5, 1), Status::not_on_curve);
    EXPECT_EQ(patched_byte(h + 64 * 7 + 40, 2), Status::not_on_curve);
    EXPECT_EQ(patched_byte(alpha + 33, 4), Status::not_on_curve);
}

}  // namespace
}  // namespace zkclient
