/* One thread's share of a source: a group table per view, the accumulators behind each
 * group, rows held back for windows, and bad-row counts. Threads fill their own shard
 * without locks; at the end the shards are merged into the first.
 *
 * Windows against the newest time: the newest time is only known after the last row, so
 * rows of such views are kept as compact records (group, time, inputs) and applied once
 * it is. Rows already older than the newest time this thread has seen minus the window
 * can never qualify and are dropped at once; the rest are pruned the same way whenever
 * the buffer fills, so it holds about the rows of one window, not of the input. */
#pragma once

#include "groups.h"
#include "intern.h"
#include "plan.h"
#include "vlist.h"

typedef struct Summary {
        uint64_t n;
        int64_t isum;     /* int and time columns */
        bool overflow;    /* isum wrapped: the int sum is reported as missing */
        double sum, comp; /* Neumaier-compensated sum (num columns; avg of int ones) */
        union {
                int64_t i;
                double d;
        } min, max;
} Summary;

typedef struct DistinctSet {
        VList list;
        uint64_t next_dedup; /* sort and deduplicate when the list reaches this length */
} DistinctSet;

typedef struct ViewShard {
        const ViewPlan *plan;
        GroupTable groups;
        uint64_t *deferred; /* records of 3 + n_accs words: group, missing mask, time, inputs */
        size_t n_deferred, cap_deferred; /* in records */
} ViewShard;

typedef enum BadReason {
        BAD_FIELD_COUNT,
        BAD_QUOTING,
        BAD_TOO_LONG,
        BAD_INT,
        BAD_NUM,
        BAD_TIME,
        _BAD_REASON_MAX,
} BadReason;

typedef struct Shard {
        const SourcePlan *plan;
        Bump *arena; /* group keys and states */
        VPool pool;
        Intern intern;
        ViewShard *views;
        int64_t newest[CONFIG_MAX_COLUMNS]; /* per tracked time column, INT64_MIN if none */
        uint64_t rows_read;
        uint64_t bad[_BAD_REASON_MAX];
        char *keybuf;
        size_t keybuf_size;
        Value *batch; /* SHARD_BATCH rows being collected by the scanner */
        size_t n_batch;
        uint64_t *scratch;
        size_t scratch_size;
} Shard;

const char *bad_reason_to_string(BadReason r);

int shard_init(Shard *s, const SourcePlan *plan);
void shard_done(Shard *s);
uint64_t shard_rows_rejected(const Shard *s);

#define SHARD_BATCH 128

/* Valid rows (n_columns Values each, VALUE_NIL when missing, n <= SHARD_BATCH) into every
 * view. Rows go through each view as a batch, in passes that prefetch what the next pass
 * reads (hash slot, group record, the value chunks' next slot): the lookups of a batch
 * then wait on memory together instead of one after another. */
int shard_add_rows(Shard *s, const Value *rows, size_t n);
/* Applies held-back rows with newest[] the newest time per column over all shards. */
int shard_apply_deferred(Shard *s, const int64_t *newest);
/* Moves src's groups into dst. src must stay alive (dst points at its keys) but is
 * otherwise spent. */
int shard_merge(Shard *dst, Shard *src);

/* The aggregate values of one group, one Value per aggregate of the view (VALUE_NIL where
 * undefined). May reorder the group's stored values. */
int shard_group_values(Shard *s, const ViewPlan *vp, void *state, Value *out);
static inline uint64_t group_rows(const void *state)
{
        return *(const uint64_t *)state;
}
