/* Reassembling one snapshot file from its chunks on the stream, as a manifest names them.
 * Everything received is untrusted: a chunk must be on the manifest's subject, carry an
 * index in range, have the size its place allows and arrive once. deflate-chunks: each
 * chunk is inflated (inflate.h) into its slice of the file as it arrives, so inflating
 * hides behind fetching, and must fill exactly that slice. The whole-file encodings: the
 * wire bytes must hash to wire_xxh3 and (deflate) inflate to exactly raw_bytes. The chunks
 * must add up to the manifest's bytes, and the file must hash to its xxh3.
 *
 * Chunks are fetched by direct get, FETCH_WINDOW requests outstanding at once: one at a
 * time would pay a round trip (and the responder's scheduling on a busy host) per chunk.
 * Memory: deflate-chunks needs only the file (raw_bytes, bounded by the caller against
 * max_snapshot_bytes); the whole-file deflate needs the wire bytes too while inflating,
 * gone before fetch_snapshot returns. At most FETCH_WINDOW chunks wait in libnats.
 *
 * The replies arrive on one subscription per connection (FetchInbox), never one per
 * fetch: libnats before 3.6.1 (Debian 12 ships 3.4.1) looks an inbound message's
 * subscription up, drops the lock that keeps it alive, copies the message and only then
 * locks the subscription (nats.c issue 637). Destroying a subscription while a reply is
 * arriving for it frees it under the read loop, which then crashes. A fetch that refuses
 * its first chunk ends with FETCH_WINDOW - 1 replies (a MiB each) still on their way, so
 * each fetch numbers its reply subjects instead, and replies to an earlier fetch are
 * dropped as they come. */
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

typedef struct FetchInbox FetchInbox;

/* The reply subscription of connection nc, for the connection's lifetime. 0 or negative
 * errno with a reason. */
int fetch_inbox_new(natsConnection *nc, FetchInbox **ret, char *reason, size_t reason_size);
/* Only once the connection is closed (natsConnection_Close joins its read loop): see
 * above. Accepts NULL; returns NULL. */
FetchInbox *fetch_inbox_free(FetchInbox *in);
DEFINE_TRIVIAL_CLEANUP_FUNC(FetchInbox *, fetch_inbox_free);

/* Fetches into a malloc'd *ret_buf of m->raw_bytes. FETCH_OK, FETCH_DAMAGED with a reason
 * (do not retry this manifest), or negative errno (transient: NATS unavailable, retry). */
int fetch_snapshot(FetchInbox *in, jsCtx *js, const char *stream, const NatsManifest *m,
                   volatile const int *stop, void **ret_buf, FetchTiming *timing, char *reason,
                   size_t reason_size);
