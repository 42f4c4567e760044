/* A rate-limited warning passes once per interval, the first one at once. */
#include "ratelimit.h"
#include "test.h"

static void ratelimit_passes_once_per_interval(void)
{
        _Atomic uint64_t last = 0;
        CHECK(ratelimit_pass(&last, 10 * USEC_PER_SEC)); /* the first one */
        CHECK(!ratelimit_pass(&last, 10 * USEC_PER_SEC));
        CHECK(!ratelimit_pass(&last, 10 * USEC_PER_SEC));
        uint64_t t0 = now_monotonic_usec();
        while (now_monotonic_usec() - t0 < 2000) /* a 1 ms interval passes after 1 ms */
                ;
        CHECK(ratelimit_pass(&last, 1000));
        CHECK(!ratelimit_pass(&last, 10 * USEC_PER_SEC));
}

TEST_MAIN(TEST_CASE(ratelimit_passes_once_per_interval))
