/* Views without aggregation (select = c1, c2, …): the source's rows as they are, keyed by
 * group_by (one row per key: a second row with the same key fails the run) or, with no
 * group_by, in source order (the engine then reads the source on one thread).
 *
 * Each shard keeps the selected rows that pass where and window, encoded as keys are
 * (key.h): the key columns and the other selected columns as two byte strings, with the
 * row's time and its place in the source. What is held is the output itself, so it is
 * bounded by max_snapshot_bytes: past it the shard stops keeping rows and the view fails
 * when written, saying so. Windows against the newest time are decided at the end (the
 * rows' times are kept), as the aggregating views do. */
#pragma once

#include "shard.h"
#include "snapshot_write.h"

typedef struct SelectRows SelectRows;

SelectRows *select_rows_free(SelectRows *sr);
/* The rows of a batch that pass the view's where and window, into vs (made on first use). */
int select_add_rows(Shard *s, ViewShard *vs, const Value *rows, size_t n, size_t nc);
/* Moves src's rows into dst (src must stay alive: dst points at its bytes). */
int select_merge(ViewShard *dst, ViewShard *src);
/* The window's cutoff once the newest time of the whole source is known. */
void select_apply_cutoff(ViewShard *vs, const int64_t *newest);

/* Outcomes beyond negative errno, with a sentence in why. */
enum {
        SELECT_DUPLICATE_KEY = 1, /* two rows share a group_by key */
        SELECT_TOO_LARGE = 2,     /* the rows exceed max_snapshot_bytes */
};
/* Writes the view: its rows sorted by key, or in source order. */
int select_out_write(SnapshotWriter *w, ShardSet *set, size_t vi, size_t *ret_rows, char *why,
                     size_t why_size);
