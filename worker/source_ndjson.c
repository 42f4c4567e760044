/* The NDJSON file source: a path or glob of files with one JSON object per line
 * (ndjson.h), plain or gzip.
 *
 * A JSON string cannot hold a raw LF, so a mapped file splits between threads at any LF
 * with no seam to check (unlike CSV); each thread fills its own shard. Gzip files are
 * streamed through zlib, one task per file. */
#include "input.h"
#include "log.h"
#include "ndjson_rows.h"
#include "source.h"
#include "source_files.h"
#include "split.h"

#define SLICE_BYTES (8u << 20)

typedef struct NdjsonSource {
        Source base;
        InputFile *files;
        size_t n_files;
        FileScan scan;
} NdjsonSource;

static int nd_open(Source *s, const SourceContext *ctx)
{
        NdjsonSource *ns = (NdjsonSource *)s;
        char **paths = NULL;
        size_t n = 0;
        int r = file_scan_list(&ns->scan, &paths, &n);
        if (r < 0)
                return r;
        ns->files = calloc(n, sizeof(InputFile));
        if (!ns->files)
                r = -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                const char *what;
                ns->files[i] = INPUT_FILE_NULL;
                ns->n_files = i + 1;
                r = input_open(&ns->files[i], paths[i], &what);
                if (r == -EINVAL)
                        r = file_scan_fail(&ns->scan, r, "%s: %s", paths[i], what);
                else if (r < 0)
                        r = file_scan_fail(&ns->scan, r, "%s: %s: %m", paths[i], what);
        }
        input_list_free(paths, n);
        return r;
}

static int plan_tasks(NdjsonSource *ns, size_t threads)
{
        size_t cap = 0;
        for (size_t i = 0; i < ns->n_files; i++)
                cap += ns->files[i].gz ? 1 : threads * 4 + 1;
        int r = file_scan_tasks_reset(&ns->scan, cap);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ns->n_files; i++) {
                const InputFile *f = &ns->files[i];
                if (f->gz) {
                        file_scan_add_task(&ns->scan, i);
                        continue;
                }
                if (f->size == 0)
                        continue;
                size_t pieces = split_pieces(f->size, threads, file_scan_min_task_bytes());
                file_scan_add_split(&ns->scan, i, f->map, 0, f->size, pieces);
        }
        return 0;
}

static int run_mapped_task(NdjsonSource *ns, NdjsonRows *nr)
{
        const ScanTask *t = nr->task;
        const InputFile *f = &ns->files[t->file];
        size_t pos = t->start, dropped = t->start & ~(size_t)4095;
        int r = 0;
        while (r == 0 && pos < t->end) {
                if (source_expired(ns->scan.ctx))
                        return -ETIME;
                size_t lim = MIN(pos + SLICE_BYTES, t->end);
                if (lim < t->end) {
                        const char *lf = memchr(f->map + lim, '\n', t->end - lim);
                        lim = lf ? (size_t)(lf - f->map) + 1 : t->end;
                }
                input_populate(f, pos, lim - pos);
                size_t used;
                r = ndjson_rows_lines(nr, f->map + pos, lim - pos, true, &used);
                if (r == 0)
                        r = ndjson_rows_flush(nr);
                pos = lim;
                input_drop_behind(f, &dropped, pos);
        }
        return r;
}

typedef struct GzFill {
        NdjsonSource *ns;
        const InputFile *f;
        GzStream *z;
} GzFill;

static int gz_fill(void *userdata, char *buf, size_t *len, size_t cap, bool *eof)
{
        GzFill *g = userdata;
        const char *msg = NULL;
        int r = gz_stream_fill(g->z, buf, len, cap, eof, &msg);
        if (r < 0)
                return file_scan_fail(&g->ns->scan, r, "%s: cannot decompress: %s", g->f->path,
                                      msg);
        return 0;
}

static int run_gz_task(NdjsonSource *ns, NdjsonRows *nr)
{
        const InputFile *f = &ns->files[nr->task->file];
        _cleanup_(gz_stream_freep) GzStream *z = NULL;
        int r = gz_stream_new(f, &z);
        if (r < 0)
                return r;
        GzFill g = {ns, f, z};
        return ndjson_rows_stream(nr, gz_fill, &g, ns->scan.ctx);
}

static int run_task(void *userdata, Shard *s, ScanTask *t)
{
        NdjsonSource *ns = userdata;
        NdjsonRows nr;
        int r = ndjson_rows_init(&nr, ns->base.plan->cfg, s, t);
        if (r != 0)
                return r;
        r = ns->files[t->file].gz ? run_gz_task(ns, &nr) : run_mapped_task(ns, &nr);
        int q = ndjson_rows_flush(&nr);
        if (r == 0)
                r = q;
        ndjson_rows_done(&nr);
        return r;
}

static const char *file_lines(const void *userdata, size_t file, uint64_t *ret_header_lines)
{
        *ret_header_lines = 0;
        return ((const NdjsonSource *)userdata)->files[file].path;
}

static int nd_read(Source *s, ShardSet *set, const SourceContext *ctx)
{
        NdjsonSource *ns = (NdjsonSource *)s;
        ns->scan.ctx = ctx;
        uint64_t bytes = 0;
        for (size_t i = 0; i < ns->n_files; i++)
                bytes += ns->files[i].size;
        size_t threads = file_scan_threads(bytes, ctx);
        int r = plan_tasks(ns, threads);
        if (r < 0)
                return r;
        if ((r = file_scan_run(&ns->scan, set, threads, run_task, ns)) != 0)
                return r;
        file_scan_samples(&ns->scan, file_lines, ns);
        for (size_t i = 0; i < ns->n_files; i++)
                if (ns->files[i].size == 0)
                        log_notice("%s: empty file, no rows", ns->files[i].path);
        return 0;
}

static size_t nd_files(const Source *s)
{
        return ((const NdjsonSource *)s)->n_files;
}

static void nd_close(Source *s)
{
        NdjsonSource *ns = (NdjsonSource *)s;
        for (size_t i = 0; i < ns->n_files; i++)
                input_done(&ns->files[i]);
        free(ns->files);
        file_scan_done(&ns->scan);
        free(ns);
}

static const SourceOps ndjson_ops = {
    .type = "ndjson",
    .open = nd_open,
    .read = nd_read,
    .files = nd_files,
    .close = nd_close,
};

int source_ndjson_new(const SourcePlan *plan, Source **ret)
{
        NdjsonSource *ns = calloc(1, sizeof(NdjsonSource));
        if (!ns)
                return -ENOMEM;
        ns->base = (Source){.ops = &ndjson_ops, .plan = plan};
        ns->scan = FILE_SCAN_NULL(&ns->base);
        *ret = &ns->base;
        return 0;
}
