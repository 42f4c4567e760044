/* Builds small snapshots in memory for the server's unit tests. */
#pragma once

#include <math.h>

#include "served.h"
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

/* snapfix_build's snapshot prepared for serving, the snapshot itself already freed (the
 * prepared copy must not depend on it), or NULL. */
static inline Served *snapfix_served(uint64_t generation, size_t n)
{
        Snapshot *s = snapfix_build(generation, n);
        if (!s)
                return NULL;
        Served *sv = NULL;
        int r = served_new(s, &sv);
        snapshot_free(s);
        return r < 0 ? NULL : sv;
}

/* Views with a time key, rows in key order (as the worker writes them): "series" keyed by
 * (region, bucket) with buckets 5 minutes apart from 2026-01-01T00:00:00Z, 3 per region
 * for "a" (after a row with no bucket), "b" and "c/d"; "by_user" keyed by (user: int,
 * bucket) with users -1 and 7. */
static inline Snapshot *snapfix_series(uint64_t generation)
{
        SnapshotWriter *w = NULL;
        if (snapshot_writer_new(&w) < 0)
                return NULL;
        const int64_t t0 = 1767225600000000, min5 = 300000000;
        SnapshotColumn cols[] = {
            {"region", VALUE_STR}, {"bucket", VALUE_TIME}, {"count", VALUE_INT}};
        static const char *const regions[] = {"a", "b", "c/d"};
        snapshot_writer_begin_view(w, "series", 2, 3, cols, 10);
        snapshot_writer_put_str(w, "a", 1);
        snapshot_writer_put_nil(w);
        snapshot_writer_put_int(w, -1);
        for (size_t r = 0; r < 3; r++)
                for (int64_t b = 0; b < 3; b++) {
                        snapshot_writer_put_str(w, regions[r], strlen(regions[r]));
                        snapshot_writer_put_time(w, t0 + b * min5);
                        snapshot_writer_put_int(w, (int64_t)r * 10 + b);
                }
        snapshot_writer_end_view(w);
        SnapshotColumn cols2[] = {{"user", VALUE_INT}, {"bucket", VALUE_TIME}, {"n", VALUE_INT}};
        snapshot_writer_begin_view(w, "by_user", 2, 3, cols2, 4);
        static const int64_t users[] = {-1, 7};
        for (size_t u = 0; u < 2; u++)
                for (int64_t b = 0; b < 2; b++) {
                        snapshot_writer_put_int(w, users[u]);
                        snapshot_writer_put_time(w, t0 + b * min5);
                        snapshot_writer_put_int(w, b);
                }
        snapshot_writer_end_view(w);
        void *buf = NULL;
        size_t len = 0;
        int r = snapshot_writer_encode(w, generation, t0, &buf, &len);
        snapshot_writer_free(w);
        if (r < 0)
                return NULL;
        Snapshot *s = NULL;
        char reason[128];
        r = snapshot_read_buffer(buf, len, &s, reason, sizeof(reason));
        free(buf);
        return r < 0 ? NULL : s;
}
