/* Running tally-worker from tallyd itself (--spawn-worker), for containers and the demo
 * where no systemd timer exists. One run at a time: a run starts at once and then every
 * interval; a run still going when the next is due is skipped, not doubled. A run that
 * exceeds its timeout gets SIGTERM, then SIGKILL 5 s later. Every exit is logged with
 * its status; failures with MSGID_WORKER_FAILED. */
#pragma once

#include <event2/event.h>
#include <sys/resource.h>

#include "util.h"

typedef struct Spawner Spawner;

typedef struct SpawnOptions {
        const char *worker_path;
        const char *config_path;
        uint64_t interval_usec;
        uint64_t timeout_usec;
        /* Called on the loop after each run: ok if it exited 0. */
        void (*done)(void *userdata, bool ok);
        /* Also called after each run, before done: the wait status, how long it ran and
         * the child's rusage (the status page records failed runs with it). Optional. */
        void (*exited)(void *userdata, int wait_status, uint64_t duration_ms,
                       const struct rusage *ru);
        void *userdata;
} SpawnOptions;

int spawner_new(struct event_base *base, const SpawnOptions *o, Spawner **ret);
/* Kills a run in progress and waits for it. */
Spawner *spawner_free(Spawner *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Spawner *, spawner_free);
/* Runs so far, by result. */
void spawner_counts(const Spawner *s, uint64_t *ok, uint64_t *failed);
