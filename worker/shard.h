/* One thread's share of a source: a group table per view, the accumulators behind each
 * group, rows held back for windows, and counts of rows read and rejected. Threads fill
 * their own shard without locks; at the end the shards are merged into the first.
 *
 * This is the typed-row path every source feeds: rows of Values in the source's declared
 * column order, VALUE_NIL where a value is missing.
 *
 * Windows against the newest time: the newest time is only known after the last row, so
 * rows of such views are kept as compact records (group, time, inputs) and applied once
 * it is. Rows already older than the newest time this thread has seen minus the window
 * can never qualify and are dropped at once; the rest are pruned the same way whenever
 * the buffer fills, so it holds about the rows of one window, not of the input. */
#pragma once

#include "accum.h"
#include "bump.h"
#include "fastkey.h"
#include "groups.h"

#define SHARD_BATCH 128
/* The string bytes one row may carry in all, the bound the key buffer is sized by (a CSV
 * record's limit). A source rejects a longer row as BAD_TOO_LONG before it gets here. */
#define SHARD_MAX_ROW_BYTES (UINT32_C(1) << 20)

typedef struct ViewShard {
        const ViewPlan *plan;
        GroupTable groups;
        FastIndex fast;     /* packed keys -> state, in front of groups */
        uint64_t *deferred; /* held-back rows: state and missing mask, time, inputs (shard.c) */
        size_t n_deferred, cap_deferred; /* in records */
        bool deferred_wide;              /* held rows in full words (shard.c, defer) */
        uint16_t deferred_nums;          /* packed: a bit per input packed as a num */
        int64_t deferred_base;           /* packed: the time packed times count from */
        struct SelectRows *select;       /* select views (select.h) instead of groups */
} ViewShard;

/* Why a row was rejected; the log and the malformed-rows summary name these. */
typedef enum BadReason {
        BAD_FIELD_COUNT,
        BAD_QUOTING,
        BAD_TOO_LONG,
        BAD_INT,
        BAD_NUM,
        BAD_TIME,
        BAD_JSON, /* NDJSON: not an object of scalars, or bad JSON */
        _BAD_REASON_MAX,
} BadReason;

typedef struct Shard {
        const SourcePlan *plan;
        Bump *bump; /* group keys and states */
        AccumStore store;
        ViewShard *views;
        int64_t newest[CONFIG_MAX_COLUMNS]; /* per tracked time column, INT64_MIN if none */
        uint64_t rows_read;                 /* valid and rejected */
        uint64_t bad[_BAD_REASON_MAX];
        char *keybuf;
        size_t keybuf_size;
        Value *batch; /* SHARD_BATCH rows collected by shard_row_commit */
        size_t n_batch;
} Shard;

const char *bad_reason_to_string(BadReason r);

int shard_init(Shard *s, const SourcePlan *plan);
void shard_done(Shard *s);
uint64_t shard_rows_rejected(const Shard *s);

/* Valid rows (n_columns Values each, n <= SHARD_BATCH) into every view. Rows go through
 * each view as a batch, in passes that prefetch what the next pass reads (hash slot, group
 * record, the value chunks' next slot): the lookups of a batch then wait on memory
 * together instead of one after another. */
int shard_add_rows(Shard *s, const Value *rows, size_t n);

/* Row at a time into the shard's own batch: write every column of shard_row(), then
 * shard_row_commit(); or count a malformed row with shard_row_reject(). String values
 * point into the source's buffer: shard_flush() before that buffer changes. */
int shard_flush(Shard *s);
static inline Value *shard_row(Shard *s)
{
        return s->batch + s->n_batch * s->plan->cfg->n_columns;
}
static inline int shard_row_commit(Shard *s)
{
        s->rows_read++;
        return ++s->n_batch == SHARD_BATCH ? shard_flush(s) : 0;
}
static inline void shard_row_reject(Shard *s, BadReason why)
{
        s->rows_read++;
        s->bad[why]++;
}

/* Applies held-back rows with newest[] the newest time per column over all shards. */
int shard_apply_deferred(Shard *s, const int64_t *newest);
/* Moves src's groups into dst. src must stay alive (dst points at its keys) but is
 * otherwise spent. */
int shard_merge(Shard *dst, Shard *src);

/* The shards of one source read: one per thread the source reads with. */
typedef struct ShardSet {
        const SourcePlan *plan;
        Shard *shards;
        size_t n;
} ShardSet;

int shard_set_new(const SourcePlan *plan, ShardSet **ret);
ShardSet *shard_set_free(ShardSet *set);
DEFINE_TRIVIAL_CLEANUP_FUNC(ShardSet *, shard_set_free);
/* Drops every shard and makes n fresh ones (a source starting, or starting over). */
int shard_set_reset(ShardSet *set, size_t n);
