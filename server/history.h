/* What the status page remembers: tallyd's own RSS over the last day and the last worker
 * runs, in fixed-size rings allocated once.
 *
 * Bounded by construction (8640 samples of 8 bytes, 500 runs), so a tallyd that runs for
 * months holds the same few hundred kilobytes of history as one started a minute ago, and
 * adding a sample or a run never allocates. Index 0 is the oldest entry. */
#pragma once

#include "util.h"

#define HISTORY_RSS_SAMPLES   8640 /* 24 h at the default 10 s */
#define HISTORY_RUNS          500
#define HISTORY_INTERVAL_USEC (10 * USEC_PER_SEC)

/* One sample as read back: time to the millisecond, RSS saturated at 4 GiB. */
typedef struct RssSample {
        int64_t t_usec; /* realtime, a whole millisecond (0 for times before 1970) */
        uint64_t rss_kib;
} RssSample;

/* As stored: milliseconds since 1970 (good until 2109) and KiB in one word, half of what
 * the two full-width fields took (a day's ring: 69 kB instead of 138 kB of RSS). */
#define HISTORY_MS_BITS  42
#define HISTORY_KIB_BITS 22
typedef uint64_t RssSlot;

typedef enum RunOutcome {
        RUN_OK,     /* learnt from the snapshot it published */
        RUN_FAILED, /* seen exiting non-zero by tallyd --spawn-worker */
} RunOutcome;

typedef struct RunRecord {
        int64_t when_usec;    /* when it finished: the snapshot's created time, or the exit */
        uint64_t generation;  /* 0 for a failed run */
        uint64_t duration_ms; /* the engine's, from the header (failed runs: the exit's) */
        uint64_t wall_ms;     /* process start to publish, when has_usage */
        uint64_t rows_read, rows_rejected;
        bool has_usage; /* peak_rss_kib and cpu_ms are known */
        uint64_t peak_rss_kib;
        uint64_t cpu_ms;
        RunOutcome outcome;
        int exit_status; /* failed runs: the exit status, or -signal */
} RunRecord;

typedef struct History {
        uint64_t interval_usec; /* the sampling interval, to tell a gap from a sample */
        size_t rss_cap, rss_head, rss_n;
        RssSlot *rss;
        size_t runs_cap, runs_head, runs_n;
        RunRecord *runs;
        uint64_t rss_total, runs_total; /* ever added: changes whenever the rings do */
} History;

int history_new(size_t rss_cap, size_t runs_cap, uint64_t interval_usec, History **ret);
History *history_free(History *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(History *, history_free);

void history_add_rss(History *h, int64_t t_usec, uint64_t rss_kib);
/* 1 if added; 0 if a run of the same (non-zero) generation is already in the ring, as
 * when a snapshot is loaded again after a rollback or a restart of the watch. */
int history_add_run(History *h, const RunRecord *run);

static inline RssSample history_rss_at(const History *h, size_t i)
{
        RssSlot v = h->rss[(h->rss_head + h->rss_cap - h->rss_n + i) % h->rss_cap];
        return (RssSample){(int64_t)(v >> HISTORY_KIB_BITS) * (int64_t)USEC_PER_MSEC,
                           v & ((UINT64_C(1) << HISTORY_KIB_BITS) - 1)};
}
static inline const RunRecord *history_run_at(const History *h, size_t i)
{
        return &h->runs[(h->runs_head + h->runs_cap - h->runs_n + i) % h->runs_cap];
}
/* True if sample i (i > 0) came more than three intervals (and more than one interval
 * plus a second) after sample i - 1, or before it: tallyd was stopped, the machine
 * suspended or the clock stepped, and a line through the gap would invent data. */
bool history_rss_gap_before(const History *h, size_t i);
