/* Reassembling one snapshot file from its chunks on the stream, as a manifest names them.
 * Everything received is untrusted: a chunk must be on the manifest's subject, carry an
 * index in range, have exactly the size its place needs and arrive once; the wire bytes
 * must then hash to the manifest's wire_xxh3, inflate (inflate.h) to exactly raw_bytes
 * when deflated, and the file must hash to its xxh3.
 *
 * Chunks are fetched by direct get, FETCH_WINDOW requests outstanding at once: one at a
 * time would pay a round trip (and the responder's scheduling on a busy host) per chunk.
 * Memory: the wire bytes (manifest.bytes) and, while inflating, the file (raw_bytes),
 * both bounded by the caller against max_snapshot_bytes; the wire buffer is gone before
 * fetch_snapshot returns, and at most FETCH_WINDOW chunks wait in libnats. */
#pragma once

#include <nats/nats.h>

#include "nats_manifest.h"

#ifndef FETCH_WINDOW /* -DFETCH_WINDOW=1 for bench/cluster's before and after */
#define FETCH_WINDOW 4
#endif

enum {
        FETCH_OK = 0,
        FETCH_DAMAGED = 1, /* chunks missing, misplaced, not inflating or not matching */
};

/* Wall-clock stamps (usec) for bench/cluster's breakdown. */
typedef struct FetchTiming {
        uint64_t fetched, inflated;
} FetchTiming;

/* Fetches into a malloc'd *ret_buf of m->raw_bytes. FETCH_OK, FETCH_DAMAGED with a reason
 * (do not retry this manifest), or negative errno (transient: NATS unavailable, retry). */
int fetch_snapshot(natsConnection *nc, jsCtx *js, const char *stream, const NatsManifest *m,
                   volatile const int *stop, void **ret_buf, FetchTiming *timing, char *reason,
                   size_t reason_size);
