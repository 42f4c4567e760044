/* The snapshot directory: listing generations, pruning old ones, sweeping stale temp files. */
#pragma once

#include "util.h"

/* Generations of the snapshot files in dirfd, newest first. *ret_gens is malloc'd. */
int snapshot_dir_list(int dirfd, uint64_t **ret_gens, size_t *ret_n);
/* Newest generation present, 0 if none. */
int snapshot_dir_newest(int dirfd, uint64_t *ret);
/* Removes all but the newest keep snapshots and the pinned one (pin.h); returns how many
 * were removed. */
int snapshot_dir_prune(int dirfd, unsigned keep);
/* Removes temp files a killed writer left behind. Call with the directory lock held. */
int snapshot_dir_remove_stale_tmp(int dirfd);
/* Takes the writers' lock (flock on the directory); blocks. The fd keeps the lock. */
int snapshot_dir_lock(int dirfd);
