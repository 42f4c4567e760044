#include "quantile.h"

#include <math.h>

/* Hoare-style quickselect with median-of-three pivots; after it v[k] is the k-th smallest
 * and everything right of k is >= it. Generated for double and int64 from one body. */
#define DEFINE_SELECT(name, T)                                                                     \
        static void name(T *v, size_t n, size_t k)                                                 \
        {                                                                                          \
                size_t lo = 0, hi = n - 1;                                                         \
                while (hi > lo) {                                                                  \
                        if (hi - lo < 16) {                                                        \
                                for (size_t i = lo + 1; i <= hi; i++) {                            \
                                        T x = v[i];                                                \
                                        size_t j = i;                                              \
                                        while (j > lo && v[j - 1] > x) {                           \
                                                v[j] = v[j - 1];                                   \
                                                j--;                                               \
                                        }                                                          \
                                        v[j] = x;                                                  \
                                }                                                                  \
                                return;                                                            \
                        }                                                                          \
                        size_t mid = lo + (hi - lo) / 2;                                           \
                        T a = v[lo], b = v[mid], c = v[hi];                                        \
                        T pivot =                                                                  \
                            a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b)); \
                        size_t i = lo, j = hi;                                                     \
                        for (;;) {                                                                 \
                                while (v[i] < pivot)                                               \
                                        i++;                                                       \
                                while (v[j] > pivot)                                               \
                                        j--;                                                       \
                                if (i >= j)                                                        \
                                        break;                                                     \
                                T t = v[i];                                                        \
                                v[i] = v[j];                                                       \
                                v[j] = t;                                                          \
                                i++;                                                               \
                                j--;                                                               \
                        }                                                                          \
                        /* now v[lo..j] <= pivot <= v[j+1..hi] */                                  \
                        if (k <= j)                                                                \
                                hi = j;                                                            \
                        else                                                                       \
                                lo = j + 1;                                                        \
                }                                                                                  \
        }

DEFINE_SELECT(select_double, double)
DEFINE_SELECT(select_int, int64_t)

/* Linear interpolation between the order statistics around q * (n - 1), as Polars' and
 * DuckDB's quantile_cont: select the lower one, then the upper is the minimum above it. */
#define DEFINE_QUANTILE_CONT(name, type, select)                                 \
        double name(type *v, size_t n, double q)                                 \
        {                                                                        \
                double pos = q * (double)(n - 1);                                \
                size_t lo = (size_t)floor(pos);                                  \
                if (lo >= n - 1)                                                 \
                        lo = n - 1;                                              \
                select(v, n, lo);                                                \
                type a = v[lo];                                                  \
                if (lo == n - 1 || pos == (double)lo)                            \
                        return (double)a;                                        \
                type b = v[lo + 1];                                              \
                for (size_t i = lo + 2; i < n; i++)                              \
                        if (v[i] < b)                                            \
                                b = v[i];                                        \
                return (double)a + (pos - (double)lo) * ((double)b - (double)a); \
        }

DEFINE_QUANTILE_CONT(quantile_cont_double, double, select_double)
DEFINE_QUANTILE_CONT(quantile_cont_int, int64_t, select_int)

/* LSD radix sort, 8 passes of 8 bits, skipping passes where every key has the same byte:
 * distinct counts sort millions of small integers, where this beats qsort several times. */
static void radix_sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
        size_t counts[8][256] = {};
        for (size_t i = 0; i < n; i++)
                for (unsigned b = 0; b < 8; b++)
                        counts[b][(v[i] >> (b * 8)) & 0xff]++;
        uint64_t *src = v, *dst = tmp;
        for (unsigned b = 0; b < 8; b++) {
                if (counts[b][(v[0] >> (b * 8)) & 0xff] == n)
                        continue;
                size_t off[256], sum = 0;
                for (unsigned d = 0; d < 256; d++) {
                        off[d] = sum;
                        sum += counts[b][d];
                }
                for (size_t i = 0; i < n; i++)
                        dst[off[(src[i] >> (b * 8)) & 0xff]++] = src[i];
                uint64_t *t = src;
                src = dst;
                dst = t;
        }
        if (src != v)
                memcpy(v, src, n * sizeof(uint64_t));
}

/* Quicksort with an insertion-sort cutoff, inline compares (qsort's callback costs more
 * than the comparison itself), recursing into the smaller side so depth stays O(log n). */
static void quick_sort_u64(uint64_t *v, size_t n)
{
        while (n > 24) {
                uint64_t a = v[0], b = v[n / 2], c = v[n - 1];
                uint64_t pivot =
                    a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
                size_t i = 0, j = n - 1;
                for (;;) {
                        while (v[i] < pivot)
                                i++;
                        while (v[j] > pivot)
                                j--;
                        if (i >= j)
                                break;
                        uint64_t t = v[i];
                        v[i] = v[j];
                        v[j] = t;
                        i++;
                        j--;
                }
                size_t left = j + 1;
                if (left < n - left) {
                        quick_sort_u64(v, left);
                        v += left;
                        n -= left;
                } else {
                        quick_sort_u64(v + left, n - left);
                        n = left;
                }
        }
        for (size_t i = 1; i < n; i++) {
                uint64_t x = v[i];
                size_t j = i;
                while (j > 0 && v[j - 1] > x) {
                        v[j] = v[j - 1];
                        j--;
                }
                v[j] = x;
        }
}

size_t sort_unique_u64(uint64_t *v, size_t n)
{
        if (n < 2)
                return n;
        uint64_t *tmp = n >= 4096 ? malloc(n * sizeof(uint64_t)) : NULL;
        if (tmp) {
                radix_sort_u64(v, tmp, n);
                free(tmp);
        } else
                quick_sort_u64(v, n);
        size_t k = 1;
        for (size_t i = 1; i < n; i++)
                if (v[i] != v[k - 1])
                        v[k++] = v[i];
        return k;
}
