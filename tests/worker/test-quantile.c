/* Exact quantiles against a full sort, and the sort-and-deduplicate exact distinct uses. */
#include <math.h>

#include "quantile.h"
#include "rng.h"
#include "test.h"

static double sorted_quantile(const double *sorted, size_t n, double q)
{
        double pos = q * (double)(n - 1);
        size_t lo = (size_t)floor(pos);
        if (lo + 1 >= n)
                return sorted[n - 1];
        return sorted[lo] + (pos - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static void test_quantile_cont_matches_full_sort(void)
{
        static const size_t sizes[] = {1, 2, 3, 10, 17, 100, 1001, 5000};
        static const double qs[] = {0, 0.5, 0.9, 0.95, 0.99, 1};
        for (size_t si = 0; si < ELEMENTSOF(sizes); si++) {
                size_t n = sizes[si];
                double *v = malloc(n * sizeof(double)), *s = malloc(n * sizeof(double));
                for (size_t i = 0; i < n; i++)
                        v[i] = (double)(next() % 1000) / 10; /* many ties */
                memcpy(s, v, n * sizeof(double));
                qsort(s, n, sizeof(double), cmp_double);
                for (size_t qi = 0; qi < ELEMENTSOF(qs); qi++) {
                        double got = quantile_cont_double(v, n, qs[qi]);
                        double want = sorted_quantile(s, n, qs[qi]);
                        if (fabs(got - want) > 1e-12 * fmax(1, fabs(want))) {
                                free(v);
                                free(s);
                                CHECK(!"quantile differs from the sorted definition");
                        }
                }
                free(v);
                free(s);
        }
}

static void test_quantile_of_ints_interpolates(void)
{
        int64_t v[] = {4, 1, 3, 2};
        CHECK(quantile_cont_int(v, 4, 0.5) == 2.5);
        int64_t w[] = {10};
        CHECK(quantile_cont_int(w, 1, 0.95) == 10);
}

static void test_sort_unique_counts_distinct(void)
{
        size_t n = 20000;
        uint64_t *v = malloc(n * sizeof(uint64_t));
        for (size_t i = 0; i < n; i++)
                v[i] = next() % 5000;
        bool seen[5000] = {};
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
                if (!seen[v[i]]) {
                        seen[v[i]] = true;
                        want++;
                }
        size_t got = sort_unique_u64(v, n);
        bool sorted = true;
        for (size_t i = 1; i < got; i++)
                sorted &= v[i - 1] < v[i];
        free(v);
        CHECK_EQ_INT(got, want);
        CHECK(sorted);
        uint64_t small[] = {3, 1, 3, 3, 2, 1};
        CHECK_EQ_INT(sort_unique_u64(small, 6), 3);
}

TEST_MAIN(TEST_CASE(test_quantile_cont_matches_full_sort),
          TEST_CASE(test_quantile_of_ints_interpolates),
          TEST_CASE(test_sort_unique_counts_distinct))
