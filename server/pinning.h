/* tallyd's side of the pin (common/pin.h): which generations a scan may load, and what
 * /v1/snapshot, /metrics and STATUS= say about it.
 *
 * The loader offers each scan's candidates (newest first) to pinning_filter(), which
 * reads the pin file every time: the pin lives in the watched directory, so writing or
 * removing it wakes a scan through the same inotify watch, SIGHUP or poll as a new
 * snapshot does. While a pin is in effect the pinned generation is the only candidate;
 * if its file is missing, or the pin file itself is unusable, tallyd keeps serving what
 * it serves and says why, once per change (an invalid pinned snapshot is rejected and
 * logged by the loader like any other). Only while nothing is served yet does the scan
 * fall back to the newest good snapshot after the pinned one, so a bad pin never leaves
 * tallyd without data.
 *
 * The pin state read by the last scan is one process-wide word, so the request path and
 * /metrics read it without a lock. */
#pragma once

#include "buf.h"
#include "doc.h"

#define PINNING_NONE       UINT64_C(0)
#define PINNING_UNREADABLE UINT64_MAX /* a pin file is there but does not parse */

typedef struct Pinning {
        uint64_t logged_state; /* what was last logged, so a poll does not repeat it */
        int logged_error;
        bool logged_present;
        bool logged_any;
} Pinning;

/* Narrows gens[0..n) in place; returns how many candidates remain. Loader thread only. */
size_t pinning_filter(Pinning *p, int dirfd, const char *dir, uint64_t serving, uint64_t *gens,
                      size_t n);
/* PINNING_NONE, PINNING_UNREADABLE or the pinned generation, as of the last scan. */
uint64_t pinning_current(void);

/* After /v1/snapshot's top-level age value: "pinned" and "pinned_generation" members. */
void pinning_doc(Doc *d, uint64_t pin);
/* tally_snapshot_pinned and tally_pinned_generation. */
void pinning_metrics(Buf *b, uint64_t pin);
/* ", pinned to generation N" (or ", pin file unusable") for STATUS=; "" unpinned. */
const char *pinning_status(char *buf, size_t n, uint64_t pin);
