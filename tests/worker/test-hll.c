/* HyperLogLog: exact in its small range, within its error bound when large, across a merge. */
#include <math.h>

#include "hll.h"
#include "rng.h"
#include "test.h"

static void test_hll_exact_when_small_and_close_when_large(void)
{
        _cleanup_(hll_freep) Hll *h = NULL;
        _cleanup_(hll_freep) Hll *g = NULL;
        CHECK(hll_new(&h) == 0 && hll_new(&g) == 0);
        for (uint64_t i = 0; i < 1000; i++)
                CHECK(hll_add(h, next()) == 0);
        CHECK_EQ_INT(hll_count(h), 1000);
        rng = 7;
        for (uint64_t i = 0; i < 200000; i++)
                CHECK(hll_add(i % 2 ? h : g, next()) == 0);
        CHECK(hll_merge(h, g) == 0);
        double est = (double)hll_count(h), want = 201000;
        CHECK(fabs(est - want) / want < 0.03); /* > 3.5 standard errors */
}

TEST_MAIN(TEST_CASE(test_hll_exact_when_small_and_close_when_large))
