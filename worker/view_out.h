/* A view's result into the snapshot: its groups sorted by key, the final value of every
 * aggregate (sorting for distinct, selection for quantiles: the costly part, so computed
 * by every shard's thread, a block of groups at a time), then written in key order. */
#pragma once

#include "shard.h"
#include "snapshot_write.h"

/* Writes view vi of the source read into set, whose groups are all in set->shards[0]
 * (merged); the other shards lend their scratch space and threads. *ret_rows: rows
 * written. -E2BIG for a view with more than SNAPSHOT_MAX_COLUMNS columns. */
int view_out_write(SnapshotWriter *w, ShardSet *set, size_t vi, size_t *ret_rows);
