/* The quantile sketch: within its 1% relative bound of the rank value, across a merge. */
#include <math.h>

#include "rng.h"
#include "sketch.h"
#include "test.h"

static void test_sketch_within_one_percent_of_the_rank_value(void)
{
        _cleanup_(sketch_freep) Sketch *a = NULL;
        _cleanup_(sketch_freep) Sketch *b = NULL;
        CHECK(sketch_new(&a) == 0 && sketch_new(&b) == 0);
        size_t n = 50000;
        double *v = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++) {
                v[i] = exp((double)(next() % 100000) / 10000.0) - 3; /* negatives, zero, tail */
                if (i % 97 == 0)
                        v[i] = 0;
                CHECK(sketch_add(i % 2 ? a : b, v[i]) == 0);
        }
        CHECK(sketch_merge(a, b) == 0);
        qsort(v, n, sizeof(double), cmp_double);
        static const double qs[] = {0.01, 0.5, 0.9, 0.95, 0.99};
        for (size_t qi = 0; qi < ELEMENTSOF(qs); qi++) {
                double x = v[(size_t)floor(qs[qi] * (double)(n - 1))];
                double got = sketch_quantile(a, qs[qi]);
                if (fabs(got - x) > 0.01 * fabs(x) + 1e-12) {
                        fprintf(stderr, "# q=%g got %g want %g\n", qs[qi], got, x);
                        CHECK(false);
                }
        }
        CHECK_EQ_INT(sketch_count(a), n);
        free(v);
}

TEST_MAIN(TEST_CASE(test_sketch_within_one_percent_of_the_rank_value))
