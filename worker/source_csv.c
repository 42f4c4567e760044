/* The CSV file source: a path or glob of CSV files, plain or gzip, each with a header that
 * names the columns (matched by name, in any order; extra columns are ignored).
 *
 * Plain files are mapped and split into tasks at line boundaries; threads take tasks from
 * a shared counter and fill their own shard, dropping the pages behind their cursor as
 * they go, so resident memory follows the groups, not the input size. Gzip files are
 * streamed through zlib (csv_stream.h), one task per file. */
#include <inttypes.h>

#include "csv_stream.h"
#include "input.h"
#include "log.h"
#include "parallel.h"
#include "scan.h"
#include "source.h"
#include "source_files.h"
#include "split.h"

#define SLICE_BYTES    (8u << 20) /* work between deadline checks and page drops */
#define POPULATE_AHEAD 65536      /* faulted in past a slice: the record straddling it */

typedef struct CsvFile {
        InputFile in;
        size_t data_start;     /* first byte after the header */
        uint64_t header_lines; /* lines the header took */
        bool empty;            /* no header at all */
        FileSchema schema;
} CsvFile;

typedef struct CsvSource {
        Source base;
        CsvFile *files;
        size_t n_files;
        FileScan scan;
} CsvSource;

#define csv_fail(cs, ...) file_scan_fail(&(cs)->scan, __VA_ARGS__)

static int check_header(CsvSource *cs, CsvFile *f, const CsvField *fields, size_t n)
{
        const SourceConfig *src = cs->base.plan->cfg;
        size_t missing;
        int r = file_schema_build(&f->schema, src, fields, n, &missing);
        if (r == -E2BIG)
                return csv_fail(cs, r, "%s: header has more than %d fields", f->in.path,
                                SCAN_MAX_FIELDS);
        if (r == SCHEMA_MISSING_COLUMN)
                return csv_fail(cs, SOURCE_BAD_CONFIG,
                                "%s: column '%s' declared in [source.%s] columns is missing "
                                "from the CSV header",
                                f->in.path, src->columns[missing].name, src->name);
        return r;
}

/* ---- open ---- */

static int file_open(CsvSource *cs, CsvFile *f, const char *path)
{
        *f = (CsvFile){.in = INPUT_FILE_NULL};
        const char *what;
        int r = input_open(&f->in, path, &what);
        if (r == -EINVAL)
                return csv_fail(cs, r, "%s: %s", path, what);
        if (r < 0)
                return csv_fail(cs, r, "%s: %s: %m", path, what);
        if (f->in.gz)
                return 0; /* the header is read by the task that streams it */
        if (f->in.size == 0) {
                f->empty = true;
                return 0;
        }
        CsvCursor c;
        CsvField fields[SCAN_MAX_FIELDS];
        size_t n = 0;
        csv_cursor_init(&c, f->in.map, f->in.size, true);
        r = csv_next(&c, fields, ELEMENTSOF(fields), &n);
        if (r == CSV_END)
                f->empty = true;
        else if (r == CSV_RECORD) {
                r = check_header(cs, f, fields, n);
                f->data_start = c.pos;
                f->header_lines = c.line - 1;
        } else if (r >= 0)
                r = csv_fail(cs, -EBADMSG, "%s: unreadable CSV header: %s", path,
                             csv_status_to_string(r));
        csv_cursor_done(&c);
        return r;
}

static int csv_open(Source *s, const SourceContext *ctx)
{
        CsvSource *cs = (CsvSource *)s;
        char **paths = NULL;
        size_t n = 0;
        int r = file_scan_list(&cs->scan, &paths, &n);
        if (r < 0)
                return r;
        cs->files = calloc(n, sizeof(CsvFile));
        if (!cs->files)
                r = -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                r = file_open(cs, &cs->files[i], paths[i]);
                cs->n_files = i + 1;
        }
        input_list_free(paths, n);
        return r;
}

/* ---- tasks ---- */

static int plan_tasks(CsvSource *cs, size_t threads, bool split)
{
        size_t cap = 0;
        for (size_t i = 0; i < cs->n_files; i++)
                cap += split && !cs->files[i].in.gz ? threads * 4 + 1 : 1;
        int r = file_scan_tasks_reset(&cs->scan, cap);
        if (r < 0)
                return r;
        for (size_t i = 0; i < cs->n_files; i++) {
                const CsvFile *f = &cs->files[i];
                if (f->empty)
                        continue;
                if (f->in.gz) {
                        file_scan_add_task(&cs->scan, i);
                        continue;
                }
                size_t pieces = split ? split_pieces(f->in.size - f->data_start, threads,
                                                     file_scan_min_task_bytes())
                                      : 1;
                file_scan_add_split(&cs->scan, i, f->in.map, f->data_start, f->in.size, pieces);
        }
        return 0;
}

/* Tasks of one file assumed each boundary starts a record. That holds when the task before
 * ended exactly there; a quoted line break across a boundary breaks it. */
static bool seams_hold(const CsvSource *cs)
{
        for (size_t i = 1; i < cs->scan.n_tasks; i++) {
                const ScanTask *a = &cs->scan.tasks[i - 1], *b = &cs->scan.tasks[i];
                if (a->file == b->file && !cs->files[a->file].in.gz && a->stop != b->start)
                        return false;
        }
        return true;
}

/* ---- reading ---- */

static int run_mapped_task(CsvSource *cs, Shard *s, ScanTask *t)
{
        const CsvFile *f = &cs->files[t->file];
        CsvCursor c;
        csv_cursor_init(&c, f->in.map, f->in.size, true);
        c.pos = t->start;
        size_t dropped = t->start & ~(size_t)4095;
        int r = 0;
        while (r == 0 && c.pos < t->end) {
                if (source_expired(cs->scan.ctx)) {
                        r = -ETIME;
                        break;
                }
                input_populate(&f->in, c.pos, SLICE_BYTES + POPULATE_AHEAD);
                r = scan_records(s, &f->schema, &c, MIN(c.pos + SLICE_BYTES, t->end), t);
                input_drop_behind(&f->in, &dropped, c.pos);
        }
        t->stop = c.pos;
        t->lines = c.line - 1;
        csv_cursor_done(&c);
        return r < 0 ? r : 0;
}

typedef struct GzTask {
        CsvSource *cs;
        CsvFile *file;
        GzStream *z;
} GzTask;

static int gz_fill(void *userdata, char *buf, size_t *len, size_t cap, bool *eof)
{
        GzTask *g = userdata;
        const char *msg = NULL;
        int r = gz_stream_fill(g->z, buf, len, cap, eof, &msg);
        if (r < 0)
                return csv_fail(g->cs, r, "%s: cannot decompress: %s", g->file->in.path, msg);
        return 0;
}

static int gz_header(void *userdata, int status, const CsvField *fields, size_t n,
                     FileSchema *schema)
{
        GzTask *g = userdata;
        if (status != CSV_RECORD)
                return csv_fail(g->cs, -EBADMSG, "%s: unreadable CSV header: %s", g->file->in.path,
                                csv_status_to_string(status));
        int r = check_header(g->cs, g->file, fields, n);
        *schema = g->file->schema;
        return r;
}

static int run_gz_task(CsvSource *cs, Shard *s, ScanTask *t)
{
        CsvFile *f = &cs->files[t->file];
        _cleanup_(gz_stream_freep) GzStream *z = NULL;
        int r = gz_stream_new(&f->in, &z);
        if (r < 0)
                return r;
        GzTask g = {cs, f, z};
        CsvStream st = {.fill = gz_fill, .header = gz_header, .userdata = &g, .ctx = cs->scan.ctx};
        return csv_stream_read(&st, s, t, &f->header_lines, &f->empty);
}

static int run_task(void *userdata, Shard *s, ScanTask *t)
{
        CsvSource *cs = userdata;
        return cs->files[t->file].in.gz ? run_gz_task(cs, s, t) : run_mapped_task(cs, s, t);
}

static const char *file_lines(const void *userdata, size_t file, uint64_t *ret_header_lines)
{
        const CsvFile *f = &((const CsvSource *)userdata)->files[file];
        *ret_header_lines = f->header_lines;
        return f->in.path;
}

static int csv_read(Source *s, ShardSet *set, const SourceContext *ctx)
{
        CsvSource *cs = (CsvSource *)s;
        cs->scan.ctx = ctx;
        uint64_t bytes = 0;
        for (size_t i = 0; i < cs->n_files; i++)
                bytes += cs->files[i].in.size;
        size_t threads = file_scan_threads(bytes, ctx);
        int r = plan_tasks(cs, threads, true);
        if (r < 0)
                return r;
        r = file_scan_run(&cs->scan, set, threads, run_task, cs);
        if (r == 0 && !seams_hold(cs)) {
                log_debug("source %s: a quoted line break crosses a split point, rescanning "
                          "sequentially",
                          s->plan->cfg->name);
                if ((r = plan_tasks(cs, 1, false)) < 0)
                        return r;
                r = file_scan_run(&cs->scan, set, 1, run_task, cs);
        }
        if (r != 0)
                return r;
        file_scan_samples(&cs->scan, file_lines, cs);
        for (size_t i = 0; i < cs->n_files; i++)
                if (cs->files[i].empty)
                        log_notice("%s: empty file (no header), no rows", cs->files[i].in.path);
        return 0;
}

static size_t csv_files(const Source *s)
{
        return ((const CsvSource *)s)->n_files;
}

static void csv_close(Source *s)
{
        CsvSource *cs = (CsvSource *)s;
        for (size_t i = 0; i < cs->n_files; i++)
                input_done(&cs->files[i].in);
        free(cs->files);
        file_scan_done(&cs->scan);
        free(cs);
}

static const SourceOps csv_ops = {
    .type = "csv",
    .open = csv_open,
    .read = csv_read,
    .files = csv_files,
    .close = csv_close,
};

int source_csv_new(const SourcePlan *plan, Source **ret)
{
        CsvSource *cs = calloc(1, sizeof(CsvSource));
        if (!cs)
                return -ENOMEM;
        cs->base = (Source){.ops = &csv_ops, .plan = plan};
        cs->scan = FILE_SCAN_NULL(&cs->base);
        *ret = &cs->base;
        return 0;
}
