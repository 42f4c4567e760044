/* tally-worker's second publish: the snapshot it just wrote locally goes into the
 * JetStream bucket of [nats], chunked, with the manifest written last by compare-and-swap
 * (the wire contract is nats_manifest.h). Kept out of the engine: the local snapshot is
 * the run's result; this only copies the newest one outwards, so an outage loses nothing
 * and the next run simply publishes its own, newer one. */
#pragma once

#include "config.h"
#include "log.h"
#include "tally-config.h"

/* Exit status of a run whose snapshot was written locally but could not be put into NATS
 * (unreachable past the deadline, or another worker published a newer generation). */
#define EXIT_NATS_UNPUBLISHED 75 /* EX_TEMPFAIL */

enum {
        NATS_PUBLISHED = 0,
        NATS_PUBLISH_ALREADY = 1,    /* the bucket already names this generation */
        NATS_PUBLISH_SUPERSEDED = 2, /* the bucket names a newer generation (another worker) */
};

typedef struct NatsPublishResult {
        uint64_t generation;
        uint64_t bytes;
        uint64_t chunks;
        uint64_t revision;          /* of the manifest in the KV bucket */
        uint64_t bucket_generation; /* what the bucket named when superseded */
        unsigned attempts;
        char reason[384]; /* why, when not published */
} NatsPublishResult;

/* Publishes the newest snapshot of cfg->snapshot_dir. Retries (a leader re-election takes
 * seconds) until deadline_usec (CLOCK_MONOTONIC; 0: NATS_PUBLISH_DEFAULT_TIMEOUT from
 * now). One of the enum above, or negative errno with res->reason. */
#if HAVE_NATS
#define NATS_PUBLISH_DEFAULT_TIMEOUT (60 * USEC_PER_SEC)
int nats_publish_newest(const Config *cfg, uint64_t deadline_usec, NatsPublishResult *res);
/* The run's step after a local publish, for main(): publishes when [nats] is set, logs
 * the outcome once (the operator's line) and returns the run's exit status: 0, or
 * EXIT_NATS_UNPUBLISHED. Without libnats in the build, a [nats] section is refused here. */
int nats_publish_step(const Config *cfg, uint64_t deadline_usec);
/* Asks a publish in progress (another thread or a signal handler) to give up. */
void nats_publish_request_stop(void);
#else
static inline int nats_publish_step(const Config *cfg, uint64_t deadline_usec)
{
        if (!nats_config_enabled(&cfg->nats))
                return 0;
        log_error("%s: [nats] is set but this tally-worker was built without libnats "
                  "(-Dnats=disabled); snapshot written locally only",
                  cfg->path);
        return EXIT_NATS_UNPUBLISHED;
}
static inline void nats_publish_request_stop(void)
{
}
#endif
