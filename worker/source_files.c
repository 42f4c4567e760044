/* The file-source plumbing the CSV and NDJSON sources share (source_files.h). */
#include <stdarg.h>

#include "input.h"
#include "parallel.h"
#include "source_files.h"
#include "split.h"

#define MIN_TASK_BYTES      (16u << 20) /* smaller files are not split */
#define SINGLE_THREAD_BYTES (4u << 20)  /* below this, threads cost more than they save */

size_t file_scan_min_task_bytes(void)
{
        const char *e = getenv("TALLY_WORKER_TASK_BYTES");
        uint64_t v;
        if (e && parse_uint(e, 1, UINT32_MAX, &v) == 0)
                return (size_t)v;
        return MIN_TASK_BYTES;
}

size_t file_scan_threads(uint64_t bytes, const SourceContext *ctx)
{
        if (bytes < MIN(SINGLE_THREAD_BYTES, file_scan_min_task_bytes()))
                return 1;
        long n = ctx->threads ? (long)ctx->threads : sysconf(_SC_NPROCESSORS_ONLN);
        return (size_t)MAX(1L, MIN(n, (long)PARALLEL_MAX));
}

int file_scan_set_error(FileScan *fs, int r)
{
        int expected = 0;
        atomic_compare_exchange_strong(&fs->error, &expected, r);
        return r;
}

int file_scan_fail(FileScan *fs, int r, const char *fmt, ...)
{
        int expected = 0;
        if (!atomic_compare_exchange_strong(&fs->error, &expected, r))
                return r; /* another thread failed first: its message stands */
        va_list ap;
        va_start(ap, fmt);
        source_failv(fs->source, r, fmt, ap);
        va_end(ap);
        return r;
}

int file_scan_list(FileScan *fs, char ***ret_paths, size_t *ret_n)
{
        const SourceConfig *src = fs->source->plan->cfg;
        int r = input_list(src->path, ret_paths, ret_n);
        if (r == -ENOENT)
                return file_scan_fail(fs, r, "source %s: no input file matches '%s'", src->name,
                                      src->path);
        if (r == -EIO)
                return file_scan_fail(fs, r, "source %s: cannot list '%s'", src->name, src->path);
        return r;
}

int file_scan_tasks_reset(FileScan *fs, size_t cap)
{
        free(fs->tasks);
        fs->n_tasks = 0;
        fs->tasks = calloc(cap + 1, sizeof(ScanTask));
        return fs->tasks ? 0 : -ENOMEM;
}

void file_scan_add_task(FileScan *fs, size_t file)
{
        fs->tasks[fs->n_tasks++] = (ScanTask){.file = file};
}

void file_scan_add_split(FileScan *fs, size_t file, const char *map, size_t start, size_t end,
                         size_t pieces)
{
        size_t bounds[PARALLEL_MAX * 4 + 1];
        size_t n = split_at_lines(map, start, end, pieces, bounds);
        for (size_t k = 0; k < n; k++)
                fs->tasks[fs->n_tasks++] =
                    (ScanTask){.file = file, .start = bounds[k], .end = bounds[k + 1]};
}

typedef struct RunArgs {
        FileScan *fs;
        FileTaskFn fn;
        void *userdata;
} RunArgs;

static int run_part(size_t k, size_t n, void *userdata)
{
        RunArgs *a = userdata;
        FileScan *fs = a->fs;
        Shard *s = &fs->set->shards[k];
        for (;;) {
                if (atomic_load(&fs->error) != 0)
                        break;
                size_t i = atomic_fetch_add(&fs->next_task, 1);
                if (i >= fs->n_tasks)
                        break;
                int r = a->fn(a->userdata, s, &fs->tasks[i]);
                if (r != 0)
                        file_scan_set_error(fs, r);
        }
        return 0;
}

int file_scan_run(FileScan *fs, ShardSet *set, size_t threads, FileTaskFn fn, void *userdata)
{
        fs->set = set;
        int r = shard_set_reset(set, threads);
        if (r < 0)
                return r;
        atomic_store(&fs->next_task, 0);
        atomic_store(&fs->error, 0);
        RunArgs a = {fs, fn, userdata};
        (void)parallel_run(threads, run_part, &a);
        return atomic_load(&fs->error);
}

void file_scan_samples(FileScan *fs, FileLinesFn fn, const void *userdata)
{
        BadSamples *bad = &fs->source->bad;
        bad->n = 0;
        for (size_t ti = 0; ti < fs->n_tasks && bad->n < SOURCE_BAD_SAMPLES; ti++) {
                const ScanTask *t = &fs->tasks[ti];
                uint64_t base;
                const char *path = fn(userdata, t->file, &base);
                for (size_t k = 0; k < ti; k++)
                        if (fs->tasks[k].file == t->file)
                                base += fs->tasks[k].lines;
                for (size_t i = 0; i < t->n_samples; i++)
                        bad_samples_add(bad, (BadSample){.reason = t->samples[i].reason,
                                                         .column = t->samples[i].column,
                                                         .position = POSITION_FILE_LINE,
                                                         .input = path,
                                                         .n = base + t->samples[i].line});
        }
}

void file_scan_done(FileScan *fs)
{
        free(fs->tasks);
        fs->tasks = NULL;
        fs->n_tasks = 0;
}
