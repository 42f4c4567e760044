/* Publish guards: a run whose views came out empty or much smaller than the last published
 * ones publishes nothing, because the likeliest cause is an upstream outage (an empty
 * table, a half-written export), and serving the old numbers a while longer beats serving
 * none. Per view: min_rows = N (fewer rows break it) and max_shrink = P (fewer than
 * (1 - P) of the rows of the same view in the newest snapshot in snapshot_dir break it;
 * no snapshot, no such view in it, or a view that had no rows: it passes).
 *
 * The previous snapshot is read as untrusted input (snapshot_read.h), only when some view
 * has max_shrink. One that cannot be read makes max_shrink pass (*ret_unreadable says so,
 * for the caller to warn): a broken old file must not block every new run. */
#pragma once

#include "config.h"

typedef struct GuardBreak {
        size_t view;                  /* index into Config.views */
        const char *guard;            /* "min_rows" or "max_shrink" */
        uint64_t rows;                /* this run's */
        uint64_t reference;           /* min_rows, or the previous snapshot's rows */
        uint64_t previous_generation; /* max_shrink: the snapshot compared with */
} GuardBreak;

/* rows[i]: view i's rows in this run. Returns the number of breaks written to out (room
 * for cfg->n_views), or negative errno. */
int guard_check(const Config *cfg, const uint64_t *rows, GuardBreak *out, bool *ret_unreadable,
                char *reason, size_t reason_size);
