/* A view's result into the snapshot: its groups sorted by key, the final value of every
 * aggregate (sorting for distinct, selection for quantiles: the costly part, so computed
 * by every shard's thread, a block of groups at a time), then written in key order.
 *
 * having and top decide which groups are rows, so a view with either has all its final
 * values computed before the first row is written: having keeps the groups whose values
 * match, then top ranks what is left within each partition (the groups sharing the first
 * top_per keys: contiguous, as groups are in key order) by one aggregate, ties broken by
 * key order, nil last in either direction, and keeps the first top_n. The rows stay in
 * key order, so a key prefix is still one slice of the view; their rank is a column. */
#pragma once

#include "shard.h"
#include "snapshot_write.h"

/* Writes view vi of the source read into set, whose groups are all in set->shards[0]
 * (merged); the other shards lend their scratch space and threads. *ret_rows: rows
 * written. -E2BIG for a view with more than SNAPSHOT_MAX_COLUMNS columns. */
int view_out_write(SnapshotWriter *w, ShardSet *set, size_t vi, size_t *ret_rows);

/* Top-N within one partition: vals[i] is the ranking value of the partition's i-th group
 * in key order. Writes the rank (1..top_n) of each group into rank[i], 0 for a group
 * that is not kept. scratch: room for n entries. */
typedef struct RankEntry {
        Value v;
        size_t index;
} RankEntry;
void view_out_rank(const Value *vals, size_t n, size_t stride, uint32_t top_n, bool asc,
                   RankEntry *scratch, uint32_t *rank);
