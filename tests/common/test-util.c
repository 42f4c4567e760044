/* The small shared helpers, each once: time conversions, the warning rate limit, the
 * compensated sum, a snapshot's age. */
#include "neumaier.h"
#include "ratelimit.h"
#include "snapshot.h"
#include "test.h"

static void timeval_splits_seconds_and_micros(void)
{
        struct timeval tv = timeval_from_usec(90 * USEC_PER_SEC + 250);
        CHECK_EQ_INT(tv.tv_sec, 90);
        CHECK_EQ_INT(tv.tv_usec, 250);
        tv = timeval_from_usec(999999);
        CHECK(tv.tv_sec == 0 && tv.tv_usec == 999999);
}

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

static void compensated_sum_keeps_small_terms(void)
{
        /* Naively 1e16 + 1 + 1 - 1e16 is 0 (each 1 is lost); compensated it is 2. */
        double sum = 0, comp = 0;
        const double xs[] = {1e16, 1, 1, -1e16};
        for (size_t i = 0; i < ELEMENTSOF(xs); i++)
                comp += neumaier_add(&sum, xs[i]);
        CHECK(sum + comp == 2);
        /* Merging two partial sums keeps both compensations. */
        double a = 0, ca = 0, b = 0, cb = 0;
        ca += neumaier_add(&a, 1e16);
        ca += neumaier_add(&a, 1);
        cb += neumaier_add(&b, 1);
        cb += neumaier_add(&b, -1e16);
        ca += neumaier_add(&a, b) + cb;
        CHECK(a + ca == 2);
}

static void snapshot_age_is_zero_for_a_clock_ahead(void)
{
        CHECK_EQ_INT(snapshot_age_usec(1000, 4000), 3000);
        CHECK_EQ_INT(snapshot_age_usec(5000, 4000), 0);
}

TEST_MAIN(TEST_CASE(timeval_splits_seconds_and_micros),
          TEST_CASE(ratelimit_passes_once_per_interval),
          TEST_CASE(compensated_sum_keeps_small_terms),
          TEST_CASE(snapshot_age_is_zero_for_a_clock_ahead))
