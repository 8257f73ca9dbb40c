/*
 * zkcredit: elapsed time between two CLOCK_MONOTONIC readings. Kept apart
 * from the nginx headers so that a unit test can reach it: the nanosecond
 * parts must be subtracted with a borrow, not as unsigned numbers.
 */

#ifndef NGX_HTTP_ZKCREDIT_ELAPSED_H
#define NGX_HTTP_ZKCREDIT_ELAPSED_H

#include <stdint.h>
#include <time.h>


/* microseconds from start to end; 0 if end is not after start */
static inline uint64_t
ngx_http_zkcredit_elapsed_usec(const struct timespec *start,
    const struct timespec *end)
{
    int64_t  ns;

    ns = (static_cast<int64_t>(end->tv_sec) - start->tv_sec) * 1000000000
         + (static_cast<int64_t>(end->tv_nsec) - start->tv_nsec);

    return ns > 0 ? static_cast<uint64_t>(ns) / 1000 : 0;
}


#endif /* NGX_HTTP_ZKCREDIT_ELAPSED_H */
