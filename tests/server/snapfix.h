/* Builds small snapshots in memory for the server's unit tests. */
#pragma once

#include <math.h>

#include "snapshot_read.h"
#include "snapshot_write.h"

/* View "sales" (region, product | count, sum(amount), at) with n rows plus two odd ones:
 * a key with '/' and non-ASCII bytes, and a row with NaN, nil and a time cell.
 * View "by_id" keyed by an int. */
/* The file image (v1, malloc'd), or NULL. */
static inline void *snapfix_encode(uint64_t generation, size_t n, size_t *ret_len)
{
        SnapshotWriter *w = NULL;
        if (snapshot_writer_new(&w) < 0)
                return NULL;
        SnapshotStats st = {.rows_read = 100, .rows_rejected = 2, .duration_ms = 7, .host = "h"};
        snapshot_writer_set_stats(w, &st);
        SnapshotSource src = {
            .name = "events", .type = "csv", .files = 2, .rows_read = 100, .rows_rejected = 2};
        snapshot_writer_add_source(w, &src);
        SnapshotColumn cols[] = {{"region", VALUE_STR},
                                 {"product", VALUE_STR},
                                 {"count", VALUE_INT},
                                 {"sum(amount)", VALUE_NUM},
                                 {"at", VALUE_TIME}};
        snapshot_writer_begin_view(w, "sales", 2, 5, cols, n + 2);
        for (size_t i = 0; i < n; i++) {
                char p[32];
                snprintf(p, sizeof(p), "p%05zu", i);
                snapshot_writer_put_str(w, i % 2 ? "eu-west" : "us-east", 7);
                snapshot_writer_put_str(w, p, strlen(p));
                snapshot_writer_put_int(w, (int64_t)i);
                snapshot_writer_put_num(w, (double)i + 0.5);
                snapshot_writer_put_time(w, 1714564800000000 + (int64_t)i);
        }
        snapshot_writer_put_str(w, "a/b", 3);
        snapshot_writer_put_str(w, "\xc3\xa9t\xc3\xa9", 5);
        snapshot_writer_put_int(w, -1);
        snapshot_writer_put_num(w, NAN);
        snapshot_writer_put_nil(w);
        snapshot_writer_put_str(w, "a", 1);
        snapshot_writer_put_str(w, "b/c", 3);
        snapshot_writer_put_int(w, 2);
        snapshot_writer_put_nil(w);
        snapshot_writer_put_time(w, 1714564800000000);
        snapshot_writer_end_view(w);
        SnapshotColumn cols2[] = {{"id", VALUE_INT}, {"name", VALUE_STR}};
        snapshot_writer_begin_view(w, "by_id", 1, 2, cols2, 2);
        snapshot_writer_put_int(w, 42);
        snapshot_writer_put_str(w, "x", 1);
        snapshot_writer_put_int(w, -7);
        snapshot_writer_put_str(w, "y", 1);
        snapshot_writer_end_view(w);
        void *buf = NULL;
        int r = snapshot_writer_encode(w, generation, 1714564800000000, &buf, ret_len);
        snapshot_writer_free(w);
        return r < 0 ? NULL : buf;
}

static inline Snapshot *snapfix_build(uint64_t generation, size_t n)
{
        size_t len = 0;
        void *buf = snapfix_encode(generation, n, &len);
        if (!buf)
                return NULL;
        Snapshot *s = NULL;
        char reason[128];
        int r = snapshot_read_buffer(buf, len, &s, reason, sizeof(reason));
        free(buf);
        if (r < 0) {
                fprintf(stderr, "# snapfix: %s\n", reason);
                return NULL;
        }
        return s;
}
