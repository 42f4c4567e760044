/* Writes the snapshot seed corpus: small valid snapshots (every column type, nil cells,
 * an empty view, non-ASCII text), each both as a whole file (mode byte 0) and as a bare
 * payload (mode byte 1, see fuzz-snapshot.c), and in version 2 (bodies pre-rendered by
 * the worker's prerender_transform) as a whole file and a bare payload (mode byte 2).
 * Run by hand when the format changes:
 *   build/tests/fuzz/fuzz-make-seeds tests/fuzz/corpus/snapshot */
#include <stdio.h>
#include <string.h>

#include "prerender.h"
#include "snapshot_write.h"

static int save(const char *dir, const char *name, uint8_t mode, const void *buf, size_t len)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(buf, 1, len, f) != len) {
                perror(path);
                return -1;
        }
        return fclose(f) == 0 ? 0 : -1;
}

/* NAME-file (mode 0) and NAME-payload (mode `mode`) from one encoded file. */
static int save_file_and_payload(const char *dir, const char *name, uint8_t mode, const void *buf,
                                 size_t len)
{
        char n[256];
        snprintf(n, sizeof(n), "%s-file", name);
        int r = save(dir, n, 0, buf, len);
        uint32_t payload_len;
        const void *payload;
        uint64_t version;
        if (r == 0 && snapshot_envelope_payload(buf, len, &version, &payload, &payload_len) == 0) {
                snprintf(n, sizeof(n), "%s-payload", name);
                return save(dir, n, mode, payload, payload_len);
        }
        return -1;
}

static int save_both(const char *dir, const char *name, SnapshotWriter *w)
{
        void *buf = NULL, *v2 = NULL;
        size_t len = 0, v2_len = 0;
        if (snapshot_writer_encode(w, 7, 1767225600000000, &buf, &len) < 0)
                return -1;
        int r = save_file_and_payload(dir, name, 1, buf, len);
        char n[256];
        snprintf(n, sizeof(n), "%s-v2", name);
        if (r == 0 && prerender_transform(buf, len, &v2, &v2_len) == 0)
                r = save_file_and_payload(dir, n, 2, v2, v2_len);
        else
                r = -1;
        free(v2);
        free(buf);
        return r;
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: %s DIR\n", argv[0]);
                return 2;
        }
        const char *dir = argv[1];
        SnapshotWriter *w = NULL;
        SnapshotStats st = {.rows_read = 10, .rows_rejected = 1, .duration_ms = 3, .host = "h"};
        SnapshotSource src = {.name = "events", .type = "csv", .files = 1, .rows_read = 10};
        SnapshotColumn cols[] = {
            {"region", VALUE_STR},
            {"day", VALUE_TIME},
            {"count", VALUE_INT},
            {"sum(amount)", VALUE_NUM},
        };
        SnapshotColumn one[] = {{"count", VALUE_INT}};

        if (snapshot_writer_new(&w) < 0)
                return 1;
        snapshot_writer_set_stats(w, &st);
        snapshot_writer_add_source(w, &src);
        snapshot_writer_begin_view(w, "sales", 2, 4, cols, 3);
        snapshot_writer_put_str(w, "eu-west", 7);
        snapshot_writer_put_time(w, 1767225600000000);
        snapshot_writer_put_int(w, 4);
        snapshot_writer_put_num(w, 12.5);
        snapshot_writer_put_str(w, "m\xc3\xbcnchen", 8);
        snapshot_writer_put_time(w, -1);
        snapshot_writer_put_int(w, INT64_MIN);
        snapshot_writer_put_nil(w);
        snapshot_writer_put_nil(w);
        snapshot_writer_put_nil(w);
        snapshot_writer_put_int(w, 0);
        snapshot_writer_put_num(w, -0.0);
        snapshot_writer_end_view(w);
        snapshot_writer_begin_view(w, "empty", 0, 1, one, 0);
        snapshot_writer_end_view(w);
        snapshot_writer_begin_view(w, "total", 0, 1, one, 1);
        snapshot_writer_put_int(w, 10);
        snapshot_writer_end_view(w);
        int r = save_both(dir, "three-views", w);
        snapshot_writer_free(w);

        w = NULL;
        if (r < 0 || snapshot_writer_new(&w) < 0)
                return 1;
        r = save_both(dir, "no-views", w);
        snapshot_writer_free(w);
        return r < 0 ? 1 : 0;
}
