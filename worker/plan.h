/* Views compiled against their source: which accumulators each group carries, where in
 * its state block they live, and the type of every output column.
 *
 * An accumulator is the per-group state one or more aggregates read: sum, avg, min and max
 * of a column share one summary; p50 and p95 of a column share one value list. */
#pragma once

#include "config.h"

#define PLAN_MAX_ACCS 64 /* a windowed row keeps a 64-bit mask of missing inputs */

typedef enum AccKind {
        ACC_SUMMARY, /* n, sum, min, max */
        ACC_VALUES,  /* every value: exact quantiles */
        ACC_SET,     /* distinct values: exact distinct */
        ACC_SKETCH,  /* approximate quantiles */
        ACC_HLL,     /* approximate distinct */
} AccKind;

typedef struct Acc {
        AccKind kind;
        int column;
        ValueType type; /* the column's */
        size_t offset;  /* in the group state block */
        unsigned slot;  /* ACC_VALUES, ACC_SET: its word in a row of the view's value rows */
} Acc;

typedef struct AggPlan {
        const AggregateDef *def;
        int acc; /* -1 for count */
        ValueType out_type;
} AggPlan;

typedef struct ViewPlan {
        const ViewConfig *cfg;
        size_t index; /* in Config.views */
        Acc accs[PLAN_MAX_ACCS];
        size_t n_accs;
        AggPlan *aggs;
        size_t state_size; /* uint64 row count first, then the accumulators */
        /* The first hot_size bytes of the state are what a row's update reads: the count,
         * the summaries, sketch pointers and the append position of the value lists; the
         * rest (list heads, distinct sets' dedup marks) waits for a new chunk or the end. */
        size_t hot_size;
        /* Two or more list accumulators (exact quantiles, exact distinct): their inputs go
         * in as one row of n_lists words, list_acc[slot] the accumulator of each word, into
         * the ValueRows at rows_offset (accum.h); 0 otherwise. list_mask: a bit per list
         * accumulator. */
        size_t rows_offset;
        unsigned n_lists;
        uint8_t list_acc[PLAN_MAX_ACCS];
        uint64_t list_mask;
        bool rows_split_at_dedup; /* one of them is a distinct set (ValueRows.split) */
        /* Exactly two list accumulators, over int or num columns: a value row is one word,
         * each input 32 bits (accum.h, narrow rows); narrow_num[slot]: that input is a num,
         * kept as a scaled int. */
        bool rows_narrow;
        bool narrow_num[2];
        /* rows_narrow with only summaries besides the two lists: accum_add_row's direct
         * path reads the lists' columns (narrow_col; narrow_zero: a distinct set over a num
         * column, whose -0.0 is 0) and the summaries (summary_acc, n_summaries) without the
         * loop over kinds */
        bool narrow_direct;
        bool narrow_zero[2];
        int narrow_col[2];
        unsigned n_summaries;
        uint8_t summary_acc[PLAN_MAX_ACCS];
        bool deferred;   /* window against the newest time: decided after the scan */
        bool window_now; /* window against the current time: cutoff known up front */
        int64_t now_cutoff;
        bool select;        /* select = …: rows kept as they are (select.h) */
        uint64_t max_bytes; /* select views: rows held at most ([tally] max_snapshot_bytes) */
} ViewPlan;

typedef struct SourcePlan {
        const SourceConfig *cfg;
        size_t index;
        ViewPlan *views;
        size_t n_views;
        bool interns;                       /* some exact distinct() reads a str column */
        bool track_max[CONFIG_MAX_COLUMNS]; /* time columns some window reads */
        /* columns some view reads (group_by, select, where, window, aggregates): the others are
         * only counted as fields, never converted, so a bad value there rejects no row */
        bool used[CONFIG_MAX_COLUMNS];
        bool ordered; /* a select view without group_by: read on one thread, in order */
} SourcePlan;

typedef struct Plan {
        SourcePlan *sources;
        size_t n_sources;
} Plan;

/* now_usec: realtime, for time_reference = now. Errors are logged; -EINVAL for a view the
 * engine cannot run (e.g. more than PLAN_MAX_ACCS accumulators). */
int plan_build(const Config *cfg, int64_t now_usec, Plan **ret);
Plan *plan_free(Plan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Plan *, plan_free);
