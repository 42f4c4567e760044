/* At most one warning per interval for events that can repeat thousands of times a second
 * (a full connection table, accept() out of fds): the first is logged, the rest would
 * only flood the journal. Safe from several threads: exactly one caller wins a slot. */
#pragma once

#include <stdatomic.h>

#include "util.h"

/* True when more than interval_usec (CLOCK_MONOTONIC) passed since the last true for *last;
 * a zeroed *last lets the first call pass. */
static inline bool ratelimit_pass(_Atomic uint64_t *last, uint64_t interval_usec)
{
        uint64_t now = now_monotonic_usec(), prev = atomic_load(last);
        return now - prev > interval_usec && atomic_compare_exchange_strong(last, &prev, now);
}
