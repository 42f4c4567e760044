/* Putting a received snapshot where tallyd looks: validated exactly as tallyd validates a
 * file it finds (snapshot_read_buffer, and the generation it claims), then published into
 * snapshot_dir with the same temp, fsync, rename, fsync-dir steps a local worker uses, so
 * tallyd's inotify sees one complete file appear. */
#pragma once

#include "util.h"

enum {
        INSTALL_OK = 0,
        INSTALL_REFUSED = 1,   /* not a valid snapshot of that generation: reason says why */
        INSTALL_NOT_NEWER = 2, /* the directory already holds it or a newer one */
};

/* *verified_usec: when validation ended (CLOCK_REALTIME), for bench/cluster's breakdown. */
int install_snapshot(const char *dir, unsigned keep, uint64_t generation, const void *buf,
                     size_t len, uint64_t *verified_usec, char *reason, size_t reason_size);
