/* tally-worker's second publish: the snapshot it just wrote locally goes into the
 * JetStream bucket of [nats], chunked, with the manifest written last by compare-and-swap
 * (the wire contract is nats_manifest.h). Kept out of the engine: the local snapshot is
 * the run's result; this only copies the newest one outwards, so an outage loses nothing
 * and the next run simply publishes its own, newer one. It runs in tally-nats-publish
 * (nats_publish_main.c), which tally-worker starts (nats_spawn.h), so the worker itself
 * links no libnats. */
#pragma once

#include "config.h"
#include "nats_publish_exit.h"

enum {
        NATS_PUBLISHED = 0,
        NATS_PUBLISH_ALREADY = 1,    /* the bucket already names this generation */
        NATS_PUBLISH_SUPERSEDED = 2, /* the bucket names a newer generation (another worker) */
};

/* Wall-clock stamps (CLOCK_REALTIME, usec) of one publish, for bench/cluster's breakdown of
 * where the time goes between the worker's rename and the serving hosts. */
typedef struct NatsPublishTiming {
        uint64_t start, connected, read, chunks_stored, manifest_stored;
        uint64_t compressed; /* the last chunk deflated (overlaps storing the others) */
} NatsPublishTiming;

typedef struct NatsPublishResult {
        uint64_t generation;
        uint64_t bytes;      /* the file */
        uint64_t wire_bytes; /* what the chunks carry (each deflated when that saves) */
        uint64_t chunks;
        NatsPublishTiming timing;
        uint64_t revision;          /* of the manifest in the KV bucket */
        uint64_t bucket_generation; /* what the bucket named when superseded */
        unsigned attempts;
        char reason[384]; /* why, when not published */
} NatsPublishResult;

/* Publishes the newest snapshot of cfg->snapshot_dir. Retries (a leader re-election takes
 * seconds) until deadline_usec (CLOCK_MONOTONIC; 0: NATS_PUBLISH_DEFAULT_TIMEOUT from
 * now). One of the enum above, or negative errno with res->reason. */
#define NATS_PUBLISH_DEFAULT_TIMEOUT (60 * USEC_PER_SEC)
int nats_publish_newest(const Config *cfg, uint64_t deadline_usec, NatsPublishResult *res);
/* tally-nats-publish's whole job: publishes when [nats] is set, logs the outcome once (the
 * operator's line) and returns the exit status: 0, or EXIT_NATS_UNPUBLISHED. */
int nats_publish_step(const Config *cfg, uint64_t deadline_usec);
/* Asks a publish in progress (another thread or a signal handler) to give up. */
void nats_publish_request_stop(void);
