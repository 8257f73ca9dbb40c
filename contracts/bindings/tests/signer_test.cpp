#include "zkchain/signer.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "oracle.hpp"

namespace zkchain {
namespace {

std::string decimal(Amount value) { return amount_to_decimal(value); }

// What `cast mktx` signs for the same fields: cast takes the call as a
// signature and arguments, which `arguments` spells.
std::string cast_raw(const Transaction& t, const std::string& call) {
    return cast(std::string("mktx --private-key ") + kAnvilKey + " --chain " +
                std::to_string(t.chain_id) + " --nonce " + std::to_string(t.nonce) +
                " --gas-limit " + std::to_string(t.gas_limit) + " --priority-gas-price " +
                decimal(t.max_priority_fee_per_gas) + " --gas-price " +
                decimal(t.max_fee_per_gas) + " --value " + decimal(t.value) + " " + t.to.hex() +
                " " + call);
}

TEST(Signer, AddressOfAKnownKey) {
    EXPECT_EQ(Signer::from_hex(kAnvilKey).address().hex(), kAnvilAddress);
}

TEST(Signer, TransactionsAreByteForByteThoseOfCast) {
    const Signer signer = Signer::from_hex(kAnvilKey);
    Transaction t;
    t.chain_id = 31337;
    t.to = *Address::parse("0x5fbdb2315678afecb367f032d93f642f64180aa3");

    // A payable deposit: short data, small integers.
    t.nonce = 7;
    t.gas_limit = 300000;
    t.max_priority_fee_per_gas = 1000000000;
    t.max_fee_per_gas = 3000000000;
    t.value = 12345;
    t.data = Calldata("deposit(uint256)").amount(42).bytes();
    EXPECT_EQ(to_hex(signer.sign(t)), cast_raw(t, "'deposit(uint256)' 42"));

    // A slash: 21 words of data (a long RLP string), no value, nonce 0,
    // a value of ether that needs more than 64 bits elsewhere.
    t.nonce = 0;
    t.value = 0;
    t.chain_id = 1;
    Calldata slash("slash(uint256,uint256[20])");
    std::string arguments = "12345678901234567890 '[";
    slash.amount(Amount(12345678901234567890ull));
    for (int i = 0; i < 20; ++i) {
        slash.amount(static_cast<Amount>(i) * 1000003);
        arguments += (i ? "," : "") + std::to_string(i * 1000003);
    }
    arguments += "]'";
    t.data = slash.bytes();
    EXPECT_EQ(to_hex(signer.sign(t)), cast_raw(t, "'slash(uint256,uint256[20])' " + arguments));

    t.value = static_cast<Amount>(1) << 70;
    t.nonce = 1u << 20;
    t.data = Calldata("payTreasury()").bytes();
    EXPECT_EQ(to_hex(signer.sign(t)), cast_raw(t, "'payTreasury()'"));
}

class KeyFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/zkchain-key-XXXXXX";
        ASSERT_NE(mkdtemp(pattern), nullptr);
        dir_ = pattern;
        path_ = dir_ + "/key";
    }
    void TearDown() override {
        ::unlink(path_.c_str());
        ::unlink((dir_ + "/link").c_str());
        ::rmdir(dir_.c_str());
    }
    void write(const std::string& contents, mode_t mode) {
        ::unlink(path_.c_str());
        std::ofstream(path_) << contents;
        ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    }
    // The refusal, which must not quote the file's contents.
    std::string refusal(const std::string& path) {
        try {
            Signer::from_file(path);
        } catch (const ChainError& e) {
            EXPECT_EQ(e.kind(), ChainErrorKind::key);
            return e.what();
        }
        ADD_FAILURE() << "the key file " << path << " was accepted";
        return {};
    }
    std::string dir_;
    std::string path_;
};

TEST_F(KeyFileTest, AcceptsTheKeyWithOrWithoutPrefixAndNewline) {
    const std::string digits = std::string(kAnvilKey).substr(2);
    for (const std::string& text : {std::string(kAnvilKey), digits, digits + "\n",
                                    std::string(kAnvilKey) + "\n"}) {
        write(text, 0600);
        EXPECT_EQ(Signer::from_file(path_).address().hex(), kAnvilAddress);
    }
}

TEST_F(KeyFileTest, RefusesWhatIsNotOneOwnerOnlyKey) {
    const std::string digits = std::string(kAnvilKey).substr(2);
    write(kAnvilKey, 0644);
    EXPECT_NE(refusal(path_).find("chmod 600"), std::string::npos);
    write(kAnvilKey, 0640);
    refusal(path_);
    for (const std::string& bad : std::vector<std::string>{
             digits.substr(1), digits + "0", "0x" + digits.substr(0, 63) + "g", digits + "\n\n",
             std::string(64, '0'),
             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
             digits + " " + digits}) {
        write(bad, 0600);
        const std::string message = refusal(path_);
        EXPECT_EQ(message.find(digits.substr(0, 16)), std::string::npos) << message;
    }
    write(kAnvilKey, 0600);
    ASSERT_EQ(::symlink(path_.c_str(), (dir_ + "/link").c_str()), 0);
    refusal(dir_ + "/link");
    refusal(dir_ + "/absent");
}

}  // namespace
}  // namespace zkchain
