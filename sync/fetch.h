/* Reassembling one snapshot file from its chunks on the stream, as a manifest names them.
 * Everything received is untrusted: a chunk must be on the manifest's subject, carry an
 * index in range, have exactly the size its place needs and arrive once; the whole must
 * then hash to the manifest's xxh3. Memory: one buffer of manifest.bytes, which the
 * caller has already bounded by max_snapshot_bytes. */
#pragma once

#include <nats/nats.h>

#include "nats_manifest.h"

enum {
        FETCH_OK = 0,
        FETCH_DAMAGED = 1, /* chunks missing, misplaced or not matching the checksum */
};

/* Fetches into a malloc'd *ret_buf of m->bytes. FETCH_OK, FETCH_DAMAGED with a reason (do
 * not retry this manifest), or negative errno (transient: NATS unavailable, retry). */
int fetch_snapshot(jsCtx *js, const char *stream, const NatsManifest *m, volatile const int *stop,
                   void **ret_buf, char *reason, size_t reason_size);
