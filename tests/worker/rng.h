/* Deterministic test data: a SplitMix64 stream (same seed, same numbers on every machine)
 * and the double ordering the tests sort their expectations with. */
#pragma once

#include <stdint.h>

static uint64_t rng = 42;

static inline uint64_t next(void)
{
        uint64_t z = (rng += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        return z ^ (z >> 31);
}

static inline int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}
