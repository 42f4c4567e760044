/* The NDJSON file source: a path or glob of files with one JSON object per line
 * (ndjson.h), plain or gzip.
 *
 * A JSON string cannot hold a raw LF, so a mapped file splits between threads at any LF
 * with no seam to check (unlike CSV); each thread fills its own shard. Gzip files are
 * streamed through zlib, one task per file. */
#include <stdatomic.h>

#include "input.h"
#include "log.h"
#include "ndjson_rows.h"
#include "parallel.h"
#include "source.h"
#include "split.h"

#define SLICE_BYTES         (8u << 20)
#define MIN_TASK_BYTES      (16u << 20)
#define SINGLE_THREAD_BYTES (4u << 20)

typedef struct NdjsonSource {
        Source base;
        InputFile *files;
        size_t n_files;
        ScanTask *tasks;
        size_t n_tasks;
        const SourceContext *ctx;
        ShardSet *set;
        _Atomic size_t next_task;
        _Atomic int error;
} NdjsonSource;

static size_t min_task_bytes(void)
{
        const char *e = getenv("TALLY_WORKER_TASK_BYTES");
        uint64_t v;
        if (e && parse_uint(e, 1, UINT32_MAX, &v) == 0)
                return (size_t)v;
        return MIN_TASK_BYTES;
}

_printf_(3, 4) static int nd_fail(NdjsonSource *ns, int r, const char *fmt, ...)
{
        int expected = 0;
        if (!atomic_compare_exchange_strong(&ns->error, &expected, r))
                return r;
        va_list ap;
        va_start(ap, fmt);
        source_failv(&ns->base, r, fmt, ap);
        va_end(ap);
        return r;
}

static int nd_open(Source *s, const SourceContext *ctx)
{
        NdjsonSource *ns = (NdjsonSource *)s;
        const SourceConfig *src = s->plan->cfg;
        char **paths = NULL;
        size_t n = 0;
        int r = input_list(src->path, &paths, &n);
        if (r == -ENOENT)
                return nd_fail(ns, r, "source %s: no input file matches '%s'", src->name,
                               src->path);
        if (r == -EIO)
                return nd_fail(ns, r, "source %s: cannot list '%s'", src->name, src->path);
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
                        r = nd_fail(ns, r, "%s: %s", paths[i], what);
                else if (r < 0)
                        r = nd_fail(ns, r, "%s: %s: %m", paths[i], what);
        }
        input_list_free(paths, n);
        return r;
}

static int plan_tasks(NdjsonSource *ns, size_t threads)
{
        size_t cap = 0;
        for (size_t i = 0; i < ns->n_files; i++)
                cap += ns->files[i].gz ? 1 : threads * 4 + 1;
        ns->tasks = calloc(cap + 1, sizeof(ScanTask));
        if (!ns->tasks)
                return -ENOMEM;
        size_t bounds[PARALLEL_MAX * 4 + 1];
        for (size_t i = 0; i < ns->n_files; i++) {
                const InputFile *f = &ns->files[i];
                if (f->gz) {
                        ns->tasks[ns->n_tasks++] = (ScanTask){.file = i};
                        continue;
                }
                if (f->size == 0)
                        continue;
                size_t pieces = split_pieces(f->size, threads, min_task_bytes());
                size_t n = split_at_lines(f->map, 0, f->size, pieces, bounds);
                for (size_t k = 0; k < n; k++)
                        ns->tasks[ns->n_tasks++] =
                            (ScanTask){.file = i, .start = bounds[k], .end = bounds[k + 1]};
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
                if (source_expired(ns->ctx))
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
                return nd_fail(g->ns, r, "%s: cannot decompress: %s", g->f->path, msg);
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
        return ndjson_rows_stream(nr, gz_fill, &g, ns->ctx);
}

static int scan_part(size_t k, size_t n, void *userdata)
{
        NdjsonSource *ns = userdata;
        Shard *s = &ns->set->shards[k];
        for (;;) {
                if (atomic_load(&ns->error) != 0)
                        break;
                size_t i = atomic_fetch_add(&ns->next_task, 1);
                if (i >= ns->n_tasks)
                        break;
                ScanTask *t = &ns->tasks[i];
                NdjsonRows nr;
                int r = ndjson_rows_init(&nr, ns->base.plan->cfg, s, t);
                if (r == 0) {
                        r = ns->files[t->file].gz ? run_gz_task(ns, &nr) : run_mapped_task(ns, &nr);
                        int q = ndjson_rows_flush(&nr);
                        if (r == 0)
                                r = q;
                        ndjson_rows_done(&nr);
                }
                if (r != 0) {
                        int expected = 0;
                        atomic_compare_exchange_strong(&ns->error, &expected, r);
                }
        }
        return 0;
}

static void collect_samples(NdjsonSource *ns)
{
        BadSamples *bad = &ns->base.bad;
        bad->n = 0;
        for (size_t ti = 0; ti < ns->n_tasks && bad->n < SOURCE_BAD_SAMPLES; ti++) {
                const ScanTask *t = &ns->tasks[ti];
                uint64_t base = 0;
                for (size_t k = 0; k < ti; k++)
                        if (ns->tasks[k].file == t->file)
                                base += ns->tasks[k].lines;
                for (size_t i = 0; i < t->n_samples; i++)
                        bad_samples_add(bad, (BadSample){.reason = t->samples[i].reason,
                                                         .column = t->samples[i].column,
                                                         .position = POSITION_FILE_LINE,
                                                         .input = ns->files[t->file].path,
                                                         .n = base + t->samples[i].line});
        }
}

static int nd_read(Source *s, ShardSet *set, const SourceContext *ctx)
{
        NdjsonSource *ns = (NdjsonSource *)s;
        ns->ctx = ctx;
        ns->set = set;
        uint64_t bytes = 0;
        for (size_t i = 0; i < ns->n_files; i++)
                bytes += ns->files[i].size;
        size_t threads = 1;
        if (bytes >= MIN(SINGLE_THREAD_BYTES, min_task_bytes())) {
                long n = ctx->threads ? (long)ctx->threads : sysconf(_SC_NPROCESSORS_ONLN);
                threads = (size_t)MAX(1L, MIN(n, (long)PARALLEL_MAX));
        }
        int r = plan_tasks(ns, threads);
        if (r < 0)
                return r;
        if ((r = shard_set_reset(set, threads)) < 0)
                return r;
        (void)parallel_run(threads, scan_part, ns);
        if ((r = atomic_load(&ns->error)) != 0)
                return r;
        collect_samples(ns);
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
        free(ns->tasks);
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
        *ret = &ns->base;
        return 0;
}
