/* Byte-class scans eight bytes at a time for the HTTP wire code (request.c's request
 * line, conn.c's header values): a byte loop with a compare per byte was a sixth of
 * tallyd's user-space instructions per single-row request (callgrind, bench rows at
 * c50), the words cut that to a compare per eight bytes. Header-only: both callers are on
 * the per-request path and want it inlined. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Whether one of the 8 bytes at p is below `below` (at most 0x80) or is DEL (0x7f).
 * Exact as an "any": the borrow of a subtraction only ever starts at a byte that is
 * below. */
static inline bool bytescan_word(const char *p, unsigned below)
{
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t y = x ^ (ones * 0x7f);
        return ((x - ones * below) & ~x & highs) | ((y - ones) & ~y & highs);
}

/* Whether p[0..n) may hold a byte below `below` or DEL: false is exact, true means "look
 * at the bytes" (always true below 8 bytes). */
static inline bool bytescan_maybe(const char *p, size_t n, unsigned below)
{
        if (n < 8)
                return true;
        for (size_t i = 0; i + 8 <= n; i += 8)
                if (bytescan_word(p + i, below))
                        return true;
        return n % 8 && bytescan_word(p + n - 8, below); /* the tail, overlapping */
}
