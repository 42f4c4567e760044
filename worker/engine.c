/* The run: for each source, its files are split into tasks at line boundaries, threads take
 * tasks and fill their own shard, the shards are merged, and each view of the source is
 * written into the snapshot. Then the snapshot is published.
 *
 * Plain files are mapped and the pages behind each thread's cursor are dropped as it goes,
 * so resident memory follows the groups, not the input size. Gzip files are streamed
 * through zlib, one task per file. */
#include "engine.h"

#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include "log.h"
#include "plan.h"
#include "scan.h"
#include "snapshot_write.h"
#include "usage.h"

#define SLICE_BYTES         (8u << 20)  /* work between deadline checks and page drops */
#define MIN_TASK_BYTES      (16u << 20) /* smaller files are not split */
#define GZ_BUFFER_BYTES     (4u << 20)  /* inflated bytes held per gzip stream */
#define SINGLE_THREAD_BYTES (4u << 20)  /* below this, threads cost more than they save */

static volatile sig_atomic_t stop_requested;

void engine_request_stop(void)
{
        stop_requested = 1;
}

typedef struct InputFile {
        char *path;
        int fd;
        bool gz;
        const char *map;
        size_t size;
        size_t data_start;     /* first byte after the header */
        uint64_t header_lines; /* lines the header took */
        bool empty;            /* no header at all */
        FileSchema schema;
} InputFile;

typedef struct SourceRun {
        const Config *cfg;
        const SourcePlan *plan;
        uint64_t deadline;
        InputFile *files;
        size_t n_files;
        ScanTask *tasks;
        size_t n_tasks;
        _Atomic size_t next_task;
        _Atomic int error; /* first failure, negative errno or ENGINE_BAD_CONFIG */
        Shard *shards;
        size_t n_shards;
} SourceRun;

static bool past_deadline(const SourceRun *run)
{
        return stop_requested || (run->deadline && now_monotonic_usec() >= run->deadline);
}

static void set_error(SourceRun *run, int r)
{
        int expected = 0;
        atomic_compare_exchange_strong(&run->error, &expected, r);
}

/* Tests shrink the split thresholds to exercise task seams on small files. */
static size_t min_task_bytes(void)
{
        const char *e = getenv("TALLY_WORKER_TASK_BYTES");
        uint64_t v;
        if (e && parse_uint(e, 1, UINT32_MAX, &v) == 0)
                return (size_t)v;
        return MIN_TASK_BYTES;
}

/* ---- files ---- */

static bool is_gz(const char *path)
{
        size_t n = strlen(path);
        return n >= 3 && strcmp(path + n - 3, ".gz") == 0;
}

static void input_done(InputFile *f)
{
        if (f->map && f->size)
                munmap((void *)f->map, f->size);
        if (f->fd >= 0)
                close(f->fd);
        free(f->path);
}

static int check_header(const SourceRun *run, InputFile *f, const CsvField *fields, size_t n)
{
        const SourceConfig *src = run->plan->cfg;
        int missing = file_schema_build(&f->schema, src, fields, n);
        if (missing == -E2BIG) {
                log_error("%s: header has more than %d fields", f->path, SCAN_MAX_FIELDS);
                return -E2BIG;
        }
        if (missing >= 0) {
                log_error("%s: column '%s' declared in [source.%s] columns is missing from the "
                          "CSV header",
                          f->path, src->columns[missing].name, src->name);
                return ENGINE_BAD_CONFIG;
        }
        return 0;
}

static int input_open(SourceRun *run, InputFile *f, const char *path)
{
        *f = (InputFile){.fd = -1, .gz = is_gz(path)};
        f->path = strdup(path);
        if (!f->path)
                return -ENOMEM;
        f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (f->fd < 0)
                return log_error_errno(errno, "%s: cannot open input: %m", path);
        struct stat st;
        if (fstat(f->fd, &st) < 0)
                return log_error_errno(errno, "%s: cannot stat input: %m", path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "%s: input is not a regular file", path);
        f->size = (size_t)st.st_size;
        if (f->gz)
                return 0; /* the header is read by the task that streams it */
        if (f->size == 0) {
                f->empty = true;
                return 0;
        }
        void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
        if (m == MAP_FAILED)
                return log_error_errno(errno, "%s: cannot map input: %m", path);
        f->map = m;
        (void)madvise(m, f->size, MADV_SEQUENTIAL);
        CsvCursor c;
        CsvField fields[SCAN_MAX_FIELDS];
        size_t n = 0;
        csv_cursor_init(&c, f->map, f->size, true);
        int r = csv_next(&c, fields, ELEMENTSOF(fields), &n);
        if (r == CSV_END) {
                csv_cursor_done(&c);
                f->empty = true;
                return 0;
        }
        if (r != CSV_RECORD) {
                csv_cursor_done(&c);
                return log_error_errno(EBADMSG, "%s: unreadable CSV header: %s", path,
                                       csv_status_to_string(r));
        }
        r = check_header(run, f, fields, n);
        f->data_start = c.pos;
        f->header_lines = c.line - 1;
        csv_cursor_done(&c);
        return r;
}

static int cmp_path(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files(SourceRun *run)
{
        const SourceConfig *src = run->plan->cfg;
        if (!strpbrk(src->path, "*?[")) {
                /* a plain path: its own open error says more than "no match" */
                run->files = calloc(1, sizeof(InputFile));
                if (!run->files)
                        return -ENOMEM;
                run->n_files = 1;
                return input_open(run, &run->files[0], src->path);
        }
        glob_t g = {};
        int k = glob(src->path, GLOB_ERR | GLOB_NOSORT, NULL, &g);
        if (k == GLOB_NOMATCH || (k == 0 && g.gl_pathc == 0)) {
                globfree(&g);
                log_error("source %s: no input file matches '%s'", src->name, src->path);
                return -ENOENT;
        }
        if (k != 0) {
                globfree(&g);
                log_error("source %s: cannot list '%s'", src->name, src->path);
                return -EIO;
        }
        /* sorted, so line numbers in logs and the order of work are reproducible */
        qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_path);
        run->files = calloc(g.gl_pathc, sizeof(InputFile));
        if (!run->files) {
                globfree(&g);
                return -ENOMEM;
        }
        int r = 0;
        for (size_t i = 0; i < g.gl_pathc && r == 0; i++) {
                r = input_open(run, &run->files[i], g.gl_pathv[i]);
                run->n_files = i + 1;
        }
        globfree(&g);
        return r;
}

/* ---- tasks ---- */

static int plan_tasks(SourceRun *run, size_t threads, bool split)
{
        size_t cap = 0;
        for (size_t i = 0; i < run->n_files; i++)
                cap += split && !run->files[i].gz ? threads * 4 + 1 : 1;
        run->tasks = calloc(cap + 1, sizeof(ScanTask));
        if (!run->tasks)
                return -ENOMEM;
        run->n_tasks = 0;
        for (size_t i = 0; i < run->n_files; i++) {
                InputFile *f = &run->files[i];
                if (f->empty)
                        continue;
                if (f->gz) {
                        run->tasks[run->n_tasks++] = (ScanTask){.file = i};
                        continue;
                }
                size_t len = f->size - f->data_start;
                size_t pieces = 1;
                if (split && len > min_task_bytes())
                        pieces = MIN(threads * 4, len / min_task_bytes() + 1);
                size_t start = f->data_start;
                for (size_t k = 1; k <= pieces && start < f->size; k++) {
                        size_t end = f->size;
                        if (k < pieces) {
                                /* the next task starts after the first LF past its share */
                                size_t nominal = f->data_start + len / pieces * k;
                                if (nominal <= start)
                                        continue;
                                const char *nl = memchr(f->map + nominal, '\n', f->size - nominal);
                                end = nl ? (size_t)(nl - f->map) + 1 : f->size;
                        }
                        run->tasks[run->n_tasks++] =
                            (ScanTask){.file = i, .start = start, .end = end};
                        start = end;
                }
        }
        return 0;
}

static int run_mapped_task(SourceRun *run, Shard *s, ScanTask *t)
{
        const InputFile *f = &run->files[t->file];
        CsvCursor c;
        csv_cursor_init(&c, f->map, f->size, true);
        c.pos = t->start;
        size_t dropped = t->start & ~(size_t)4095;
        int r = 0;
        while (r == 0 && c.pos < t->end) {
                if (past_deadline(run)) {
                        r = -ETIME;
                        break;
                }
#ifdef MADV_POPULATE_READ
                /* one call maps the slice's pages instead of a fault per 64 KiB; page faults
                 * are dear under virtualisation (best effort: older kernels say EINVAL) */
                size_t pa = c.pos & ~(size_t)4095;
                size_t pe = MIN(c.pos + SLICE_BYTES + 65536, f->size);
                if (pe > pa)
                        (void)madvise((void *)(f->map + pa), pe - pa, MADV_POPULATE_READ);
#endif
                r = scan_records(s, &f->schema, &c, MIN(c.pos + SLICE_BYTES, t->end), t);
                /* Pages behind the cursor will not be read again by this task: drop them
                 * from our resident set (they stay in the page cache). */
                size_t upto = c.pos & ~(size_t)4095;
                if (upto > dropped) {
                        (void)madvise((void *)(f->map + dropped), upto - dropped, MADV_DONTNEED);
                        dropped = upto;
                }
        }
        t->stop = c.pos;
        t->lines = c.line - 1;
        csv_cursor_done(&c);
        return r < 0 ? r : 0;
}

static int gz_fill(gzFile gz, char *buf, size_t *len, size_t cap, bool *eof, const char *path)
{
        while (*len < cap && !*eof) {
                int k = gzread(gz, buf + *len, (unsigned)MIN(cap - *len, (size_t)INT32_MAX));
                if (k < 0) {
                        int zerr;
                        const char *msg = gzerror(gz, &zerr);
                        log_error("%s: cannot decompress: %s", path, msg);
                        return -EBADMSG;
                }
                if (k == 0)
                        *eof = true;
                *len += (size_t)k;
        }
        return 0;
}

static int run_gz_task(SourceRun *run, Shard *s, ScanTask *t)
{
        InputFile *f = &run->files[t->file];
        /* a rescan reads the stream again: the dup shares the file offset, so rewind it */
        int fd = dup(f->fd);
        if (fd < 0)
                return -errno;
        if (lseek(fd, 0, SEEK_SET) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        gzFile gz = gzdopen(fd, "rb");
        if (!gz) {
                close(fd);
                return -ENOMEM;
        }
        gzbuffer(gz, 256 * 1024);
        char *buf = malloc(GZ_BUFFER_BYTES);
        size_t len = 0;
        bool eof = false, header = false;
        uint64_t lines_before = 0; /* lines of earlier buffers */
        CsvCursor c;
        csv_cursor_init(&c, buf, 0, false);
        int r = buf ? 0 : -ENOMEM;
        while (r == 0) {
                if (past_deadline(run)) {
                        r = -ETIME;
                        break;
                }
                r = gz_fill(gz, buf, &len, GZ_BUFFER_BYTES, &eof, f->path);
                if (r < 0)
                        break;
                csv_cursor_reset(&c, buf, len, eof);
                if (!header) {
                        CsvField fields[SCAN_MAX_FIELDS];
                        size_t n = 0;
                        int k = csv_next(&c, fields, ELEMENTSOF(fields), &n);
                        if (k == CSV_END) {
                                f->empty = true;
                                break;
                        }
                        if (k != CSV_RECORD) {
                                r = log_error_errno(EBADMSG, "%s: unreadable CSV header: %s",
                                                    f->path, csv_status_to_string(k));
                                break;
                        }
                        r = check_header(run, f, fields, n);
                        if (r != 0)
                                break;
                        header = true;
                        f->header_lines = c.line - 1;
                        c.line = 1; /* data lines count from here, as in mapped tasks */
                }
                r = scan_records(s, &f->schema, &c, SIZE_MAX, t);
                if (r < 0)
                        break;
                if (r == 0)
                        break; /* end of stream */
                r = 0;
                if (c.pos == 0 && len == GZ_BUFFER_BYTES) {
                        /* one record larger than the buffer: count it bad, skip to a LF */
                        const char *nl = memchr(buf, '\n', len);
                        s->rows_read++;
                        s->bad[BAD_TOO_LONG]++;
                        c.pos = nl ? (size_t)(nl - buf) + 1 : len;
                        c.line++;
                }
                memmove(buf, buf + c.pos, len - c.pos);
                len -= c.pos;
        }
        (void)lines_before;
        t->lines = c.line - 1;
        csv_cursor_done(&c);
        free(buf);
        gzclose(gz);
        return r;
}

typedef struct Worker {
        SourceRun *run;
        Shard *shard;
} Worker;

static void *worker_main(void *userdata)
{
        Worker *w = userdata;
        SourceRun *run = w->run;
        for (;;) {
                if (atomic_load(&run->error) != 0)
                        break;
                size_t i = atomic_fetch_add(&run->next_task, 1);
                if (i >= run->n_tasks)
                        break;
                ScanTask *t = &run->tasks[i];
                int r = run->files[t->file].gz ? run_gz_task(run, w->shard, t)
                                               : run_mapped_task(run, w->shard, t);
                if (r != 0)
                        set_error(run, r);
        }
        return NULL;
}

static int scan_all(SourceRun *run, size_t threads)
{
        run->shards = calloc(threads, sizeof(Shard));
        if (!run->shards)
                return -ENOMEM;
        run->n_shards = threads;
        for (size_t i = 0; i < threads; i++) {
                int r = shard_init(&run->shards[i], run->plan);
                if (r < 0)
                        return r;
        }
        atomic_store(&run->next_task, 0);
        atomic_store(&run->error, 0);
        Worker workers[256];
        pthread_t tids[256];
        size_t started = 0;
        for (size_t i = 1; i < threads; i++) {
                workers[i] = (Worker){run, &run->shards[i]};
                if (pthread_create(&tids[i], NULL, worker_main, &workers[i]) != 0)
                        break;
                started = i;
        }
        workers[0] = (Worker){run, &run->shards[0]};
        worker_main(&workers[0]);
        for (size_t i = 1; i <= started; i++)
                pthread_join(tids[i], NULL);
        return atomic_load(&run->error);
}

static void free_shards(SourceRun *run)
{
        for (size_t i = 0; i < run->n_shards; i++)
                shard_done(&run->shards[i]);
        free(run->shards);
        run->shards = NULL;
        run->n_shards = 0;
}

/* Runs fn(run, k, n, userdata) for k in 0..n-1 on n threads, one per shard (the caller's
 * thread is k = 0). Returns the first failure. */
typedef int (*PartFn)(SourceRun *run, size_t k, size_t n, void *userdata);

typedef struct Part {
        SourceRun *run;
        PartFn fn;
        void *userdata;
        size_t k, n;
        int r;
} Part;

static void *part_main(void *userdata)
{
        Part *p = userdata;
        p->r = p->fn(p->run, p->k, p->n, p->userdata);
        return NULL;
}

static int run_parts(SourceRun *run, PartFn fn, void *userdata)
{
        size_t n = run->n_shards;
        Part parts[256];
        pthread_t tids[256];
        bool started[256] = {};
        for (size_t k = 0; k < n; k++)
                parts[k] = (Part){run, fn, userdata, k, n, 0};
        for (size_t k = 1; k < n; k++)
                started[k] = pthread_create(&tids[k], NULL, part_main, &parts[k]) == 0;
        for (size_t k = 1; k < n; k++)
                if (!started[k])
                        part_main(&parts[k]); /* no thread: do its share here */
        part_main(&parts[0]);
        int r = 0;
        for (size_t k = 1; k < n; k++) {
                if (started[k])
                        pthread_join(tids[k], NULL);
                if (parts[k].r < 0 && r == 0)
                        r = parts[k].r;
        }
        return parts[0].r < 0 ? parts[0].r : r;
}

/* Tasks of one file assumed each boundary starts a record. That holds when the task before
 * ended exactly there; a quoted line break across a boundary breaks it. */
static bool seams_hold(const SourceRun *run)
{
        for (size_t i = 1; i < run->n_tasks; i++) {
                const ScanTask *a = &run->tasks[i - 1], *b = &run->tasks[i];
                if (a->file == b->file && !run->files[a->file].gz && a->stop != b->start)
                        return false;
        }
        return true;
}

/* ---- results ---- */

static int cmp_keys(const char *a, size_t alen, const char *b, size_t blen)
{
        size_t i = 0, j = 0;
        while (i < alen && j < blen) {
                uint8_t ta = (uint8_t)a[i++], tb = (uint8_t)b[j++];
                if (ta != tb) /* missing first; types of one column never differ otherwise */
                        return ta < tb ? -1 : 1;
                if (ta == VALUE_NIL)
                        continue;
                if (ta == VALUE_STR) {
                        uint32_t la, lb;
                        memcpy(&la, a + i, 4);
                        memcpy(&lb, b + j, 4);
                        int c = memcmp(a + i + 4, b + j + 4, MIN(la, lb));
                        if (c || la != lb)
                                return c ? c : la < lb ? -1 : 1;
                        i += 4 + la;
                        j += 4 + lb;
                } else if (ta == VALUE_NUM) {
                        double x, y;
                        memcpy(&x, a + i, 8);
                        memcpy(&y, b + j, 8);
                        if (x != y)
                                return x < y ? -1 : 1;
                        i += 8;
                        j += 8;
                } else {
                        int64_t x, y;
                        memcpy(&x, a + i, 8);
                        memcpy(&y, b + j, 8);
                        if (x != y)
                                return x < y ? -1 : 1;
                        i += 8;
                        j += 8;
                }
        }
        return 0;
}

static int cmp_group(const void *a, const void *b)
{
        const Group *x = *(const Group *const *)a, *y = *(const Group *const *)b;
        return cmp_keys(x->key, x->key_len, y->key, y->key_len);
}

static int put_key(SnapshotWriter *w, const Group *g, size_t n_keys)
{
        size_t off = 0;
        int r = 0;
        for (size_t i = 0; i < n_keys && r >= 0; i++) {
                uint8_t t = (uint8_t)g->key[off++];
                if (t == VALUE_NIL)
                        r = snapshot_writer_put_nil(w);
                else if (t == VALUE_STR) {
                        uint32_t len;
                        memcpy(&len, g->key + off, 4);
                        r = snapshot_writer_put_str(w, g->key + off + 4, len);
                        off += 4 + len;
                } else {
                        Value x = {.type = t};
                        memcpy(&x.i, g->key + off, 8);
                        off += 8;
                        r = snapshot_writer_put_value(w, &x);
                }
        }
        return r;
}

#define FINISH_BLOCK 16384

typedef struct FinishJob {
        const ViewPlan *vp;
        Group **order;
        size_t from, n;
        Value *vals;
} FinishJob;

static int finish_part(SourceRun *run, size_t k, size_t nk, void *userdata)
{
        FinishJob *j = userdata;
        size_t na = j->vp->cfg->n_aggregates;
        for (size_t i = j->n * k / nk; i < j->n * (k + 1) / nk; i++) {
                int r = shard_group_values(&run->shards[k], j->vp, j->order[j->from + i]->state,
                                           &j->vals[i * na]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_view(SnapshotWriter *w, SourceRun *run, ViewShard *vs, uint64_t scan_usec)
{
        Shard *s = &run->shards[0];
        uint64_t t0 = now_monotonic_usec();
        const ViewPlan *vp = vs->plan;
        const ViewConfig *v = vp->cfg;
        const SourceConfig *src = s->plan->cfg;
        SnapshotColumn cols[SNAPSHOT_MAX_COLUMNS];
        size_t nc = 0;
        if (v->n_group_by + v->n_aggregates > SNAPSHOT_MAX_COLUMNS)
                return log_error_errno(E2BIG, "view %s: more than %d columns", v->name,
                                       SNAPSHOT_MAX_COLUMNS);
        for (size_t i = 0; i < v->n_group_by; i++)
                cols[nc++] = (SnapshotColumn){src->columns[v->group_by[i]].name,
                                              src->columns[v->group_by[i]].type};
        for (size_t a = 0; a < v->n_aggregates; a++)
                cols[nc++] = (SnapshotColumn){v->aggregates[a].label, vp->aggs[a].out_type};

        if (v->n_group_by == 0 && vs->groups.n == 0) {
                bool fresh; /* one global row even over no input */
                if (!group_table_get(&vs->groups, "", 0, group_key_hash("", 0), true, &fresh))
                        return -ENOMEM;
        }
        _cleanup_free_ Group **order = malloc((vs->groups.n + 1) * sizeof(Group *));
        _cleanup_free_ Value *vals = calloc(FINISH_BLOCK * v->n_aggregates + 1, sizeof(Value));
        if (!order || !vals)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < vs->groups.n; i++)
                if (v->n_group_by == 0 || group_rows(vs->groups.groups[i]->state) > 0)
                        order[n++] = vs->groups.groups[i];
        qsort(order, n, sizeof(Group *), cmp_group);
        int r = snapshot_writer_begin_view(w, v->name, v->n_group_by, nc, cols, n);
        /* Final values (sorting for distinct, selection for quantiles) are computed by all
         * threads, a block of groups at a time, then written in key order. */
        FinishJob job = {.vp = vp, .order = order, .vals = vals};
        for (size_t from = 0; from < n && r >= 0; from += FINISH_BLOCK) {
                job.from = from;
                job.n = MIN((size_t)FINISH_BLOCK, n - from);
                r = run_parts(run, finish_part, &job);
                for (size_t i = 0; i < job.n && r >= 0; i++) {
                        r = put_key(w, order[from + i], v->n_group_by);
                        for (size_t a = 0; a < v->n_aggregates && r >= 0; a++)
                                r = snapshot_writer_put_value(w, &vals[i * v->n_aggregates + a]);
                }
        }
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        if (r < 0)
                return log_error_errno(r, "view %s: cannot encode: %m", v->name);
        uint64_t ms = (scan_usec + now_monotonic_usec() - t0) / USEC_PER_MSEC;
        log_struct(LOG_INFO, 0, NULL,
                   LOG_FIELDS(log_field("TALLY_VIEW=%s", v->name), log_field("TALLY_ROWS=%zu", n),
                              log_field("TALLY_DURATION_MS=%" PRIu64, ms)),
                   "view %s: %zu rows in %" PRIu64 " ms", v->name, n, ms);
        return 0;
}

/* ---- one source ---- */

static int apply_deferred_part(SourceRun *run, size_t k, size_t nk, void *userdata)
{
        return shard_apply_deferred(&run->shards[k], userdata);
}

static void log_bad_rows(const SourceRun *run, const Shard *s)
{
        const SourceConfig *src = run->plan->cfg;
        size_t logged = 0;
        for (size_t ti = 0; ti < run->n_tasks && logged < SCAN_SAMPLES; ti++) {
                const ScanTask *t = &run->tasks[ti];
                const InputFile *f = &run->files[t->file];
                uint64_t base = f->header_lines;
                for (size_t k = 0; k < ti; k++)
                        if (run->tasks[k].file == t->file)
                                base += run->tasks[k].lines;
                for (size_t i = 0; i < t->n_samples && logged < SCAN_SAMPLES; i++, logged++) {
                        const BadSample *b = &t->samples[i];
                        log_struct(LOG_WARNING, 0, NULL,
                                   LOG_FIELDS(log_field("TALLY_SOURCE=%s", src->name),
                                              log_field("TALLY_FILE=%s", f->path),
                                              log_field("TALLY_LINE=%" PRIu64, base + b->line)),
                                   "%s:%" PRIu64 ": malformed row skipped: %s%s%s", f->path,
                                   base + b->line, bad_reason_to_string(b->reason),
                                   b->column >= 0 ? " in column " : "",
                                   b->column >= 0 ? src->columns[b->column].name : "");
                }
        }
        uint64_t bad = shard_rows_rejected(s);
        if (bad == 0)
                return;
        char summary[512] = "";
        size_t len = 0;
        for (int i = 0; i < _BAD_REASON_MAX; i++)
                if (s->bad[i] && len < sizeof(summary))
                        len +=
                            (size_t)snprintf(summary + len, sizeof(summary) - len, "%s%s: %" PRIu64,
                                             len ? ", " : "", bad_reason_to_string(i), s->bad[i]);
        log_warning("source %s: %" PRIu64 " of %" PRIu64 " rows malformed (%s)", src->name, bad,
                    s->rows_read, summary);
}

static size_t thread_count(const Config *cfg, const SourceRun *run)
{
        uint64_t bytes = 0;
        for (size_t i = 0; i < run->n_files; i++)
                bytes += run->files[i].size;
        if (bytes < MIN(SINGLE_THREAD_BYTES, min_task_bytes()))
                return 1;
        long n = cfg->worker.threads ? (long)cfg->worker.threads : sysconf(_SC_NPROCESSORS_ONLN);
        return (size_t)MAX(1L, MIN(n, 256L));
}

static int run_source(SourceRun *run, SnapshotWriter *w, EngineResult *res)
{
        const SourceConfig *src = run->plan->cfg;
        uint64_t t0 = now_monotonic_usec();
        int r = list_files(run);
        if (r != 0)
                return r;
        size_t threads = thread_count(run->cfg, run);
        if ((r = plan_tasks(run, threads, true)) < 0)
                return r;
        r = scan_all(run, threads);
        if (r == 0 && !seams_hold(run)) {
                log_debug("source %s: a quoted line break crosses a split point, rescanning "
                          "sequentially",
                          src->name);
                free_shards(run);
                free(run->tasks);
                if ((r = plan_tasks(run, 1, false)) < 0)
                        return r;
                r = scan_all(run, 1);
        }
        if (r == -ETIME)
                return log_error_errno(r, "source %s: deadline passed while reading", src->name);
        if (r != 0)
                return r;

        /* The newest time per column is a property of the whole source: only now can
         * windows against it be applied, in every shard, before they are merged. */
        int64_t newest[CONFIG_MAX_COLUMNS];
        for (size_t c = 0; c < CONFIG_MAX_COLUMNS; c++) {
                newest[c] = INT64_MIN;
                for (size_t i = 0; i < run->n_shards; i++)
                        newest[c] = MAX(newest[c], run->shards[i].newest[c]);
        }
        if ((r = run_parts(run, apply_deferred_part, newest)) < 0)
                return r;
        Shard *s = &run->shards[0];
        for (size_t i = 1; i < run->n_shards; i++)
                if ((r = shard_merge(s, &run->shards[i])) < 0)
                        return r;
        uint64_t bad = shard_rows_rejected(s);
        res->rows_read += s->rows_read;
        res->rows_rejected += bad;
        log_bad_rows(run, s);
        for (size_t i = 0; i < run->n_files; i++)
                if (run->files[i].empty)
                        log_notice("%s: empty file (no header), no rows", run->files[i].path);
        if (s->rows_read > 0 && (double)bad / (double)s->rows_read > src->max_bad_ratio) {
                log_struct(LOG_ERR, 0, MSGID_BAD_ROWS,
                           LOG_FIELDS(log_field("TALLY_SOURCE=%s", src->name),
                                      log_field("TALLY_ROWS_READ=%" PRIu64, s->rows_read),
                                      log_field("TALLY_ROWS_REJECTED=%" PRIu64, bad)),
                           "source %s: %" PRIu64 " of %" PRIu64
                           " rows malformed, above max_bad_ratio %g; no snapshot written",
                           src->name, bad, s->rows_read, src->max_bad_ratio);
                return ENGINE_BAD_ROWS;
        }
        if (past_deadline(run))
                return log_error_errno(ETIME, "source %s: deadline passed", src->name);
        uint64_t scan_usec = now_monotonic_usec() - t0;
        for (size_t vi = 0; vi < run->plan->n_views && r >= 0; vi++)
                r = write_view(w, run, &s->views[vi], scan_usec);
        if (r < 0)
                return r;
        SnapshotSource info = {.name = src->name,
                               .type = "csv",
                               .files = run->n_files,
                               .rows_read = s->rows_read,
                               .rows_rejected = bad};
        return snapshot_writer_add_source(w, &info);
}

static void source_run_done(SourceRun *run)
{
        free_shards(run);
        for (size_t i = 0; i < run->n_files; i++)
                input_done(&run->files[i]);
        free(run->files);
        free(run->tasks);
}

int engine_run(const Config *cfg, uint64_t deadline_usec, EngineResult *ret)
{
        uint64_t t0 = now_monotonic_usec();
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r = plan_build(cfg, (int64_t)now_realtime_usec(), &plan);
        if (r == -EINVAL)
                return ENGINE_BAD_CONFIG;
        if (r < 0)
                return r;
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        if ((r = snapshot_writer_new(&w)) < 0)
                return r;
        for (size_t si = 0; si < plan->n_sources && r == 0; si++) {
                if (cfg->sources[si].type != SOURCE_CSV) {
                        log_error("source %s: only type = csv is supported by this worker",
                                  cfg->sources[si].name);
                        r = ENGINE_BAD_CONFIG;
                        break;
                }
                SourceRun run = {.cfg = cfg, .plan = &plan->sources[si], .deadline = deadline_usec};
                r = run_source(&run, w, ret);
                source_run_done(&run);
        }
        if (r != 0)
                return r;
        char host[256] = "";
        (void)gethostname(host, sizeof(host) - 1);
        SnapshotStats stats = {.rows_read = ret->rows_read,
                               .rows_rejected = ret->rows_rejected,
                               .duration_ms = (now_monotonic_usec() - t0) / USEC_PER_MSEC,
                               .host = host};
        usage_measure(&stats);
        snapshot_writer_set_stats(w, &stats);
        if (stop_requested)
                return log_error_errno(ECANCELED, "stopped by signal before publishing");
        r = snapshot_writer_publish(w, cfg->snapshot_dir, cfg->keep, deadline_usec,
                                    &ret->generation, &ret->bytes);
        if (r == -ETIME)
                return log_error_errno(r, "deadline passed while publishing, nothing written");
        if (r < 0)
                return log_error_errno(r, "cannot publish snapshot into %s: %s", cfg->snapshot_dir,
                                       r == -EOVERFLOW ? "a snapshot file there already carries "
                                                         "the largest generation; remove it"
                                                       : strerror(-r));
        return 0;
}
