/* Sources: where a source's rows come from. The engine drives every source type through
 * the small vtable below and never learns which type it runs: it opens the source, lets
 * it read into a set of shards, logs the first malformed rows the source kept, reads its
 * counts from the shards, and closes it.
 *
 * The contract every source type keeps:
 * - Rows: batches of Values in the source's declared column order, VALUE_NIL for a
 *   missing value, into the shards of the ShardSet (shard_add_rows, or row at a time with
 *   shard_row / shard_row_commit). A string Value may point into the source's buffer only
 *   until the next shard_flush. A row's strings total at most SHARD_MAX_ROW_BYTES: a
 *   longer row is rejected (BAD_TOO_LONG), never passed on. Memory grows with the
 *   groups, never with the input: read a bounded window at a time.
 * - Malformed rows: counted with shard_row_reject(shard, reason); the first
 *   SOURCE_BAD_SAMPLES of them, in input order, kept in Source.bad with their position,
 *   for the engine to log. Every row seen, good or bad, counts in Shard.rows_read (the
 *   shard_row_ calls do it), so the engine can apply max_bad_ratio.
 * - Deadline and SIGTERM: source_expired(ctx) checked at least every few MiB or thousand
 *   rows; when it is true, stop and return -ETIME (and stop any child or query). The
 *   SIGTERM handler restarts system calls: wait for input with poll() and a short
 *   timeout (100 ms), never in a read() that can block for good.
 * - Failures: negative errno, with a message (no trailing period) in Source.error via
 *   source_fail(); the engine logs it once. A declared column the input does not offer is
 *   SOURCE_BAD_CONFIG, its message naming the column and the input. Nothing is published
 *   on any failure, and a source leaves nothing behind (no temp files, no processes)
 *   once closed.
 * - Logging: nothing above debug but notices about an input as a whole (an empty file).
 *
 * How to add a source type:
 * 1. config: a SourceType value and its keys, parsed and validated in common/.
 * 2. worker/source_TYPE.c: a struct that starts with `Source base;`, a static SourceOps
 *    (type is the string the snapshot's `sources` entry carries), and
 *    `int source_TYPE_new(const SourcePlan *plan, Source **ret)`, declared below.
 * 3. One line in source.c's constructor table; the file in worker/meson.build; a test.
 * Streams read on one thread: shard_set_reset(set, 1) and feed set->shards[0]. CSV over
 * a stream (a program's stdout) is csv_stream_read() with a fill callback; rows of
 * another format go through shard_row()/shard_row_commit(). A type that can split its
 * input may reset to more shards and fill them with parallel_run(). */
#pragma once

#include <signal.h>
#include <stdarg.h>

#include "shard.h"

#define SOURCE_BAD_SAMPLES 5
#define SOURCE_ERROR_MAX   1024

/* Outcomes beyond negative errno. */
enum {
        SOURCE_OK = 0,
        SOURCE_BAD_CONFIG = 1, /* the input does not offer a declared column (exit 78) */
};

/* How a malformed row's position reads in the log. */
typedef enum SourcePosition {
        POSITION_FILE_LINE, /* "PATH:N" */
        POSITION_LINE_OF,   /* "line N of INPUT", e.g. INPUT = "command /usr/bin/x" */
        POSITION_ROW_OF,    /* "row N of INPUT", e.g. INPUT = "query" */
} SourcePosition;

typedef struct BadSample {
        BadReason reason;
        int column; /* declared column whose value was malformed, -1 for the row */
        SourcePosition position;
        const char *input; /* owned by the source, valid until it is closed */
        uint64_t n;        /* 1-based line or row */
} BadSample;

typedef struct BadSamples {
        BadSample v[SOURCE_BAD_SAMPLES];
        size_t n;
} BadSamples;

/* Keeps the sample if fewer than SOURCE_BAD_SAMPLES are kept. */
static inline void bad_samples_add(BadSamples *b, BadSample x)
{
        if (b->n < SOURCE_BAD_SAMPLES)
                b->v[b->n++] = x;
}

/* What a source reads under. */
typedef struct SourceContext {
        uint64_t deadline;                 /* CLOCK_MONOTONIC usec, 0 for none */
        const volatile sig_atomic_t *stop; /* set from the SIGTERM handler */
        unsigned threads;                  /* [worker] threads; 0: one per CPU */
} SourceContext;

static inline bool source_expired(const SourceContext *ctx)
{
        return *ctx->stop || (ctx->deadline && now_monotonic_usec() >= ctx->deadline);
}

typedef struct Source Source;

typedef struct SourceOps {
        const char *type; /* as the snapshot's `sources` entry names it: "csv" */
        /* Reaches the input (lists and opens files, connects, spawns) and checks the
         * declared columns against what it offers. SOURCE_OK, SOURCE_BAD_CONFIG or
         * negative errno. */
        int (*open)(Source *s, const SourceContext *ctx);
        /* Reads every row into set (the source picks the number of shards with
         * shard_set_reset; it may reset again to start over). SOURCE_OK,
         * SOURCE_BAD_CONFIG (an input found out late: a gzip file's header) or negative
         * errno, -ETIME past the deadline or on SIGTERM. */
        int (*read)(Source *s, ShardSet *set, const SourceContext *ctx);
        /* Files read, for the snapshot; 0 for a source that is not files. */
        size_t (*files)(const Source *s);
        /* Releases everything the source holds, s included. */
        void (*close)(Source *s);
} SourceOps;

struct Source {
        const SourceOps *ops;
        const SourcePlan *plan;
        BadSamples bad;               /* filled by read */
        char error[SOURCE_ERROR_MAX]; /* why open or read failed, "" if no reason given */
};

/* The source for plan->cfg->type, not yet opened. -EPROTONOSUPPORT for a type this
 * worker cannot read. */
int source_new(const SourcePlan *plan, Source **ret);
Source *source_free(Source *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Source *, source_free);

/* Sets s->error from a printf format (%m is strerror(-r)) and returns r. Not thread-safe:
 * a source failing on several threads decides first which failure is reported. */
int source_fail(Source *s, int r, const char *fmt, ...) _printf_(3, 4);
int source_failv(Source *s, int r, const char *fmt, va_list ap) _printf_(3, 0);

/* The source types */
int source_csv_new(const SourcePlan *plan, Source **ret);
int source_ndjson_new(const SourcePlan *plan, Source **ret);
int source_command_new(const SourcePlan *plan, Source **ret);
int source_postgres_new(const SourcePlan *plan, Source **ret); /* only with libpq (pq_dl.h) */
