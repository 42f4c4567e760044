/* tallyctl show (the header) and dump (the rows) of one snapshot. JSON goes through
 * tallyd's own document writer (server/doc.c), so a dumped view has the cells tallyd
 * serves; CSV uses the same cell text. */
#include <inttypes.h>

#include "buf.h"
#include "ctl.h"
#include "doc.h"
#include "log.h"
#include "snapshot_describe.h"
#include "snapshot_read.h"
#include "timeparse.h"

static int load_or_report(const Ctl *c, const char *arg, Snapshot **ret)
{
        char label[512], reason[256];
        int r = ctl_load(c, arg, ret, label, sizeof(label), reason, sizeof(reason));
        if (r < 0)
                log_error("%s: invalid: %s", label, reason);
        return r;
}

static int emit(Buf *b)
{
        buf_putc(b, '\n');
        if (!buf_ok(b))
                return log_error_errno(ENOMEM, "Cannot render: %m");
        if (fwrite(b->data, 1, b->len, stdout) != b->len)
                return log_error_errno(EIO, "Cannot write the output: %m");
        return 0;
}

static uint64_t age_usec(const Ctl *c, const Snapshot *s)
{
        return snapshot_age_usec(s->created_usec, c->now_usec);
}

static int show_json(const Ctl *c, const Snapshot *s)
{
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, DOC_JSON);
        doc_map(&d, 7);
        describe_generation_created(&d, s);
        doc_key(&d, "age_seconds");
        doc_uint(&d, age_usec(c, s) / USEC_PER_SEC);
        doc_key(&d, "file_bytes");
        doc_uint(&d, s->file_bytes);
        describe_worker(&d, s, false);
        describe_sources(&d, s);
        doc_key(&d, "views");
        doc_array(&d, (uint32_t)s->n_views);
        for (size_t i = 0; i < s->n_views; i++) {
                doc_map(&d, 4);
                doc_key(&d, "name");
                doc_cstr(&d, s->views[i].name);
                doc_key(&d, "rows");
                doc_uint(&d, s->views[i].n_rows);
                describe_keys(&d, &s->views[i]);
                describe_columns(&d, &s->views[i]);
                doc_end(&d);
        }
        doc_end(&d);
        doc_end(&d);
        return emit(&b);
}

static void show_text(const Ctl *c, const Snapshot *s)
{
        char created[48], age[16], size[24];
        format_time_rfc3339(created, sizeof(created), s->created_usec);
        printf("generation  %" PRIu64 "\n", s->generation);
        printf("created     %s (%s ago)\n", created,
               ctl_format_age(age, sizeof(age), age_usec(c, s)));
        printf("size        %s (%" PRIu64 " bytes)\n",
               ctl_format_bytes(size, sizeof(size), s->file_bytes), s->file_bytes);
        printf("worker      %" PRIu64 " rows read, %" PRIu64 " rejected, %" PRIu64 " ms, host %s\n",
               s->stats.rows_read, s->stats.rows_rejected, s->stats.duration_ms,
               s->stats.host && *s->stats.host ? s->stats.host : "-");
        printf("sources     %zu\n", s->n_sources);
        for (size_t i = 0; i < s->n_sources; i++) {
                const SnapshotSource *src = &s->sources[i];
                printf("  %s (%s): %" PRIu64 " files, %" PRIu64 " rows read, %" PRIu64
                       " rejected\n",
                       src->name, src->type, src->files, src->rows_read, src->rows_rejected);
        }
        printf("views       %zu\n", s->n_views);
        for (size_t i = 0; i < s->n_views; i++) {
                const SnapshotView *v = &s->views[i];
                printf("  %s: %zu rows, %zu key column%s\n", v->name, v->n_rows, v->n_keys,
                       v->n_keys == 1 ? "" : "s");
                for (size_t k = 0; k < v->n_columns; k++)
                        printf("    %-24s %s%s\n", v->columns[k].name,
                               value_type_to_string(v->columns[k].type),
                               k < v->n_keys ? "  key" : "");
        }
}

int ctl_show(const Ctl *c, int argc, char **argv)
{
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        if (load_or_report(c, argv[0], &s) < 0)
                return CTL_EXIT_FAILURE;
        if (c->json)
                return show_json(c, s) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
        show_text(c, s);
        return CTL_EXIT_OK;
}

/* One view as tallyd's GET /v1/views/{view} has it, without offset and limit. */
static void dump_view_json(Doc *d, const Snapshot *s, const SnapshotView *v, bool with_gen)
{
        doc_map(d, with_gen ? 6 : 5);
        doc_key(d, "view");
        doc_cstr(d, v->name);
        if (with_gen) {
                doc_key(d, "generation");
                doc_uint(d, s->generation);
        }
        describe_keys(d, v);
        describe_columns(d, v);
        doc_key(d, "total_rows");
        doc_uint(d, v->n_rows);
        doc_key(d, "rows");
        doc_array(d, (uint32_t)v->n_rows);
        for (size_t r = 0; r < v->n_rows; r++) {
                const Value *row = snapshot_view_row(v, r);
                doc_map(d, (uint32_t)v->n_columns);
                for (size_t i = 0; i < v->n_columns; i++) {
                        doc_key(d, v->columns[i].name);
                        doc_value(d, &row[i]);
                }
                doc_end(d);
        }
        doc_end(d);
        doc_end(d);
}

static int dump_csv(const SnapshotView *v)
{
        for (size_t i = 0; i < v->n_columns; i++) {
                if (i)
                        putchar(',');
                ctl_csv_name(stdout, v->columns[i].name);
        }
        fputs("\r\n", stdout);
        for (size_t r = 0; r < v->n_rows; r++) {
                const Value *row = snapshot_view_row(v, r);
                for (size_t i = 0; i < v->n_columns; i++) {
                        if (i)
                                putchar(',');
                        ctl_csv_field(stdout, &row[i]);
                }
                fputs("\r\n", stdout);
        }
        return ferror(stdout) ? log_error_errno(EIO, "Cannot write the output: %m") : 0;
}

int ctl_dump(const Ctl *c, int argc, char **argv)
{
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        if (load_or_report(c, argv[0], &s) < 0)
                return CTL_EXIT_FAILURE;
        const SnapshotView *v = NULL;
        if (c->view) {
                v = snapshot_find_view(s, c->view);
                if (!v) {
                        log_error("Generation %" PRIu64 " has no view named '%s'", s->generation,
                                  c->view);
                        return CTL_EXIT_FAILURE;
                }
        }
        if (c->format == CTL_FORMAT_CSV) {
                if (!v && s->n_views == 1)
                        v = &s->views[0];
                if (!v) {
                        log_error("--format csv writes one view: name it with --view");
                        return CTL_EXIT_USAGE;
                }
                return dump_csv(v) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
        }
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, DOC_JSON);
        if (v)
                dump_view_json(&d, s, v, true);
        else {
                doc_map(&d, 2);
                doc_key(&d, "generation");
                doc_uint(&d, s->generation);
                doc_key(&d, "views");
                doc_array(&d, (uint32_t)s->n_views);
                for (size_t i = 0; i < s->n_views; i++)
                        dump_view_json(&d, s, &s->views[i], false);
                doc_end(&d);
                doc_end(&d);
        }
        return emit(&b) < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
