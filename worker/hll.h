/* approx_distinct: HyperLogLog over 64-bit hashes, exact while small.
 *
 * Up to HLL_SPARSE_MAX distinct hashes per group are kept in a small hash set, so the
 * count is exact (barring 64-bit hash collisions: about n^2 / 2^65). Past that the set
 * turns into 2^HLL_P one-byte registers (16 KiB) and the count is estimated with Ertl's
 * improved estimator (2017), which needs no bias tables: standard error
 * 1.04 / sqrt(2^14) = 0.81%, so 99.7% of estimates fall within about 2.5%. Memory per
 * group is at most 16 KiB. Registers merge by maximum, so per-thread HLLs combine into
 * exactly the HLL of all the values. */
#pragma once

#include "util.h"

#define HLL_P          14
#define HLL_SPARSE_MAX 1024

typedef struct Hll Hll;

int hll_new(Hll **ret);
Hll *hll_free(Hll *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hll *, hll_free);
int hll_add(Hll *h, uint64_t hash);
int hll_merge(Hll *dst, const Hll *src);
uint64_t hll_count(const Hll *h);
