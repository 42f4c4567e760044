/* The aggregation run: every source read once, every view computed, one snapshot written.
 *
 * Outcomes beyond negative errno (a failure: unreadable input, write error, deadline):
 *   ENGINE_BAD_CONFIG   a declared column is missing from a source's input, or the source
 *                       type is one this worker cannot read (exit 78)
 *   ENGINE_BAD_ROWS     a source's malformed rows exceeded max_bad_ratio (exit 65)
 *   ENGINE_GUARD        a view broke a publish guard, min_rows or max_shrink (guard.h);
 *                       nothing published (exit 66)
 *   ENGINE_BAD_VIEW     a select view's rows share a group_by key, or exceed
 *                       max_snapshot_bytes (exit 65: the data, not the config, is wrong) */
#pragma once

#include "config.h"

enum {
        ENGINE_OK = 0,
        ENGINE_BAD_CONFIG = 1,
        ENGINE_BAD_ROWS = 2,
        ENGINE_GUARD = 3,
        ENGINE_BAD_VIEW = 4,
};

typedef struct EngineResult {
        uint64_t generation;
        uint64_t bytes;
        uint64_t rows_read;
        uint64_t rows_rejected;
} EngineResult;

/* deadline_usec: CLOCK_MONOTONIC, 0 for none; force: publish even when a guard breaks
 * (logged). Logs detail itself. */
int engine_run(const Config *cfg, uint64_t deadline_usec, bool force, EngineResult *ret);
/* Async-signal-safe: makes a running engine stop at its next check and publish nothing. */
void engine_request_stop(void);
