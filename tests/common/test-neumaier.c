/* The compensated sum keeps what a naive sum of doubles loses, merged sums included. */
#include "neumaier.h"
#include "test.h"
#include "util.h"

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

TEST_MAIN(TEST_CASE(compensated_sum_keeps_small_terms))
