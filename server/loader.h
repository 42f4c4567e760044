/* Finding, validating and preparing the newest snapshot, off the request path.
 *
 * A scan lists the directory newest first and walks down to the generation being served:
 * the first file that reads, validates and renders becomes the next Served; a file that
 * fails is logged once (MSGID_SNAPSHOT_REJECTED with the reason and the file) and
 * remembered by (generation, inode, size, mtime) so polling does not retry it, and the
 * walk goes on to older ones. Files older than the one serving are only taken if the
 * serving one disappeared from disk (an operator rolling back by deleting newer files).
 *
 * loader_start() runs scans in a background thread: loader_request_scan() (any thread)
 * wakes it, scans requested while one runs coalesce into one more. A prepared snapshot
 * waits in a one-slot mailbox (a newer one replaces an older one not yet taken), and the
 * ready callback, called from the loader thread, tells the event loop to loader_take(). */
#pragma once

#include <stdatomic.h>

#include "served.h"

typedef struct Loader Loader;

typedef struct LoaderStats {
        atomic_ullong loaded;
        atomic_ullong rejected;
        atomic_ullong scans;
        atomic_ullong last_duration_usec;
        atomic_ullong duration_usec_sum;
} LoaderStats;

int loader_new(const char *dir, uint64_t max_bytes, Loader **ret);
/* Stops and joins the thread, drops any snapshot not taken. */
Loader *loader_free(Loader *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Loader *, loader_free);

/* One scan in the calling thread (startup, tests). 1 and *ret set if a snapshot newer
 * than the one serving was prepared, 0 if nothing changed. */
int loader_scan_now(Loader *l, Served **ret);

int loader_start(Loader *l, void (*ready)(void *userdata), void *userdata);
void loader_request_scan(Loader *l);
/* The prepared snapshot waiting in the mailbox, or NULL. */
Served *loader_take(Loader *l);
const LoaderStats *loader_stats(const Loader *l);
/* A served_set_retire_hook() receiver: queues sv for unmapping on the loader thread
 * (which must be running, or the loader freed later, which releases what is queued). */
void loader_retire(Served *sv, void *userdata);
