#include <gtest/gtest.h>

#include "ngx_http_zkcredit_elapsed.h"

namespace {

timespec at(time_t sec, long nsec) {
    timespec t{};
    t.tv_sec = sec;
    t.tv_nsec = nsec;
    return t;
}

TEST(ElapsedUsec, WithinOneSecond) {
    const timespec start = at(100, 250000000), end = at(100, 251500000);
    EXPECT_EQ(ngx_http_zkcredit_elapsed_usec(&start, &end), 1500u);
}

// The verification-time histogram once summed garbage: a reading that
// crossed a second boundary subtracted the nanoseconds as unsigned numbers.
TEST(ElapsedUsec, AcrossASecondBoundaryBorrows) {
    const timespec start = at(100, 999000000), end = at(101, 1000000);
    EXPECT_EQ(ngx_http_zkcredit_elapsed_usec(&start, &end), 2000u);
}

TEST(ElapsedUsec, SecondsAndNanoseconds) {
    const timespec start = at(7, 900000000), end = at(10, 100000000);
    EXPECT_EQ(ngx_http_zkcredit_elapsed_usec(&start, &end), 2200000u);
}

TEST(ElapsedUsec, NotAfterStartIsZero) {
    const timespec start = at(5, 10), end = at(5, 10), earlier = at(4, 999999999);
    EXPECT_EQ(ngx_http_zkcredit_elapsed_usec(&start, &end), 0u);
    EXPECT_EQ(ngx_http_zkcredit_elapsed_usec(&start, &earlier), 0u);
}

}  // namespace
