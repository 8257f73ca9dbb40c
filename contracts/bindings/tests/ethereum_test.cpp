#include "zkchain/ethereum.hpp"

#include <gtest/gtest.h>

#include "oracle.hpp"

namespace zkchain {
namespace {

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string hex(const Word& word) { return to_hex(word.data(), word.size()); }

TEST(Keccak256, KnownDigests) {
    EXPECT_EQ(hex(keccak256(Bytes())),
              "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    EXPECT_EQ(hex(keccak256(text("abc"))),
              "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(Calldata, SelectorsAreThoseCastComputes) {
    EXPECT_EQ(to_hex(Calldata("transfer(address,uint256)").bytes()), "0xa9059cbb");
    EXPECT_EQ(to_hex(Calldata("StalePath()").bytes()), "0x942b2f0c");
    EXPECT_EQ(to_hex(Calldata("NoActiveDeposit()").bytes()), "0xa542e6b3");
}

TEST(Calldata, WordsAreBigEndianAndPadded) {
    const Address to = *Address::parse("0x00000000000000000000000000000000000000aB");
    Calldata call("transfer(address,uint256)");
    call.word(word_of(to)).amount(0x0102);
    const Bytes& bytes = call.bytes();
    ASSERT_EQ(bytes.size(), 4u + 64u);
    EXPECT_EQ(bytes[4 + 31], 0xab);
    EXPECT_EQ(bytes[4 + 62], 0x01);
    EXPECT_EQ(bytes[4 + 63], 0x02);
}

TEST(Calldata, ArraysOfStaticTuplesAreWhatCastEncodes) {
    auto small = [](uint64_t value) { return word_of(static_cast<Amount>(value)); };
    const std::string signature = "f(uint256,(uint256,uint64)[],uint256,(uint256,uint64)[])";
    Calldata call(signature);
    call.amount(7)
        .tuple_array({{small(1), small(2)}, {small(3), small(UINT64_MAX)}, {small(5), small(6)}})
        .amount(8)
        .tuple_array({});
    EXPECT_EQ(to_hex(call.bytes()),
              cast("calldata '" + signature + "' 7 '[(1,2),(3," + std::to_string(UINT64_MAX) +
                   "),(5,6)]' 8 '[]'"));

    Calldata alone("g((uint256,uint64)[])");
    alone.tuple_array({{small(9), small(10)}});
    EXPECT_EQ(to_hex(alone.bytes()), cast("calldata 'g((uint256,uint64)[])' '[(9,10)]'"));

    EXPECT_THROW(Calldata("h((uint256)[])").tuple_array({{small(1)}, {small(1), small(2)}}),
                 ChainError);
}

// The examples of the Ethereum RLP specification.
TEST(Rlp, SpecificationExamples) {
    EXPECT_EQ(to_hex(Rlp().bytes(text("dog")).items()), "0x83646f67");
    EXPECT_EQ(to_hex(Rlp().bytes(text("cat")).bytes(text("dog")).as_list()),
              "0xc88363617483646f67");
    EXPECT_EQ(to_hex(Rlp().bytes(Bytes()).items()), "0x80");
    EXPECT_EQ(to_hex(Rlp().as_list()), "0xc0");
    EXPECT_EQ(to_hex(Rlp().integer(0).items()), "0x80");
    EXPECT_EQ(to_hex(Rlp().bytes(Bytes{0}).items()), "0x00");
    EXPECT_EQ(to_hex(Rlp().integer(15).items()), "0x0f");
    EXPECT_EQ(to_hex(Rlp().integer(1024).items()), "0x820400");
    // [ [], [[]], [ [], [[]] ] ]
    Rlp inner;
    inner.list(Rlp()).list(Rlp().list(Rlp()));
    Rlp outer;
    outer.list(Rlp()).list(Rlp().list(Rlp())).list(inner);
    EXPECT_EQ(to_hex(outer.as_list()), "0xc7c0c1c0c3c0c1c0");
    const std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
    EXPECT_EQ(to_hex(Rlp().bytes(text(lorem)).items()).substr(0, 6), "0xb838");
}

TEST(Rlp, LongListHeaderCountsItsLengthBytes) {
    Rlp items;
    for (int i = 0; i < 300; ++i) items.bytes(text("ab"));
    const Bytes list = items.as_list();
    // 900 bytes of payload: 0xf7 + 2 length bytes, then 0x0384.
    EXPECT_EQ(to_hex(Bytes(list.begin(), list.begin() + 3)), "0xf90384");
    EXPECT_EQ(list.size(), 3u + 900u);
}

TEST(Quantity, StrictForm) {
    EXPECT_EQ(parse_quantity("0x0"), Amount(0));
    EXPECT_EQ(parse_quantity("0x1f"), Amount(31));
    EXPECT_EQ(parse_quantity("0xffffffffffffffffffffffffffffffff"), ~Amount(0));
    EXPECT_FALSE(parse_quantity("0x"));
    EXPECT_FALSE(parse_quantity("0x01"));
    EXPECT_FALSE(parse_quantity("1f"));
    EXPECT_FALSE(parse_quantity("0xg"));
    EXPECT_FALSE(parse_quantity("0x100000000000000000000000000000000"));
    EXPECT_EQ(to_quantity(0), "0x0");
    EXPECT_EQ(to_quantity(4096), "0x1000");
}

TEST(Amount, DecimalRoundTripAndOverflow) {
    const Amount max = ~Amount(0);
    EXPECT_EQ(amount_to_decimal(max), "340282366920938463463374607431768211455");
    EXPECT_EQ(parse_amount_decimal("340282366920938463463374607431768211455"), max);
    EXPECT_FALSE(parse_amount_decimal("340282366920938463463374607431768211456"));
    EXPECT_FALSE(parse_amount_decimal("007"));
    EXPECT_FALSE(parse_amount_decimal("-1"));
    EXPECT_FALSE(parse_amount_decimal(""));
    EXPECT_EQ(parse_amount_decimal("0"), Amount(0));
}

TEST(Hex, AddressAndBytes) {
    EXPECT_FALSE(Address::parse("0x1234"));
    EXPECT_FALSE(Address::parse("f39fd6e51aad88f6f4ce6ab8827279cfffb922660x"));
    EXPECT_EQ(Address::parse("0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266")->hex(),
              "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
    EXPECT_FALSE(from_hex("0x123"));
    EXPECT_FALSE(from_hex("0xzz"));
    EXPECT_EQ(from_hex("0x")->size(), 0u);
}

TEST(Words, IntegersMustFit) {
    const Word small = word_of(Amount(255));
    EXPECT_EQ(word_integer(small, 8, "x"), Amount(255));
    EXPECT_THROW(word_integer(word_of(Amount(256)), 8, "x"), ChainError);
    EXPECT_THROW(result_words(Bytes(33)), ChainError);
    libverify::Fr value;
    Word all_ones;
    all_ones.fill(0xff);
    EXPECT_FALSE(word_field(all_ones, value));
    EXPECT_TRUE(word_field(small, value));
    EXPECT_EQ(word_of(value), small);
}

}  // namespace
}  // namespace zkchain
