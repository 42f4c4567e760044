/* The command source: a program's stdout, CSV (with a header, as a file) or NDJSON, parsed
 * as it comes on one thread (child.h runs it: its own process group, a minimal
 * environment, stderr read in the same poll).
 *
 * The program's stderr lines go to the log at info, tagged with the source; a run fails,
 * naming how, when the program cannot be started, exits non-zero, is killed by a signal,
 * or is still running at the deadline or on SIGTERM (its whole group is then stopped:
 * SIGTERM, then SIGKILL). */
#include <inttypes.h>
#include <limits.h>

#include "child.h"
#include "csv_stream.h"
#include "log.h"
#include "ndjson_rows.h"
#include "source.h"

typedef struct CommandSource {
        Source base;
        char **argv;
        char input[256]; /* "command PROGRAM", as bad rows' positions name it */
        Child *child;
        const SourceContext *ctx;
} CommandSource;

static void on_stderr(void *userdata, const char *line, size_t len)
{
        CommandSource *cs = userdata;
        const char *name = cs->base.plan->cfg->name;
        log_struct(
            LOG_INFO, 0, NULL,
            LOG_FIELDS(log_field("TALLY_SOURCE=%s", name), log_field("TALLY_INPUT=%s", cs->input)),
            "source %s: %s: %.*s", name, cs->argv[0], (int)MIN(len, (size_t)INT_MAX), line);
}

static int cmd_open(Source *s, const SourceContext *ctx)
{
        CommandSource *cs = (CommandSource *)s;
        const SourceConfig *src = s->plan->cfg;
        const char *why = NULL;
        int r = child_split_argv(src->command, &cs->argv, &why);
        if (r == -EINVAL)
                return source_fail(s, SOURCE_BAD_CONFIG, "source %s: command: %s", src->name, why);
        if (r == -E2BIG)
                return source_fail(s, SOURCE_BAD_CONFIG, "source %s: command: more than %d words",
                                   src->name, CHILD_MAX_ARGS);
        if (r < 0)
                return r;
        snprintf(cs->input, sizeof(cs->input), "command %s", cs->argv[0]);
        cs->ctx = ctx;
        ChildOptions o = {
            .deadline_usec = ctx->deadline,
            .stop = ctx->stop,
            .on_stderr = on_stderr,
            .userdata = cs,
        };
        r = child_spawn(cs->argv, &o, &cs->child);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return source_fail(s, r, "source %s: cannot run '%s': %m", src->name, cs->argv[0]);
        return 0;
}

static int cmd_fill(void *userdata, char *buf, size_t *len, size_t cap, bool *eof)
{
        CommandSource *cs = userdata;
        if (*eof || *len >= cap)
                return 0;
        ssize_t n = child_read(cs->child, buf + *len, cap - *len);
        if (n < 0)
                return (int)n;
        if (n == 0)
                *eof = true;
        *len += (size_t)n;
        return 0;
}

static int cmd_header(void *userdata, int status, const CsvField *fields, size_t n,
                      FileSchema *schema)
{
        CommandSource *cs = userdata;
        const SourceConfig *src = cs->base.plan->cfg;
        if (status != CSV_RECORD)
                return source_fail(&cs->base, -EBADMSG,
                                   "source %s: %s printed an unreadable CSV header: %s", src->name,
                                   cs->argv[0], csv_status_to_string(status));
        size_t missing;
        int r = file_schema_build(schema, src, fields, n, &missing);
        if (r == -E2BIG)
                return source_fail(&cs->base, r,
                                   "source %s: %s printed a header of more than %d fields",
                                   src->name, cs->argv[0], SCAN_MAX_FIELDS);
        if (r == SCHEMA_MISSING_COLUMN)
                return source_fail(&cs->base, SOURCE_BAD_CONFIG,
                                   "source %s: column '%s' declared in [source.%s] columns is "
                                   "missing from the CSV header %s printed",
                                   src->name, src->columns[missing].name, src->name, cs->argv[0]);
        return r;
}

static int read_stdout(CommandSource *cs, Shard *shard, ScanTask *t)
{
        const SourceConfig *src = cs->base.plan->cfg;
        if (src->format == FORMAT_NDJSON) {
                NdjsonRows nr;
                int r = ndjson_rows_init(&nr, src, shard, t);
                if (r < 0)
                        return r;
                r = ndjson_rows_stream(&nr, cmd_fill, cs, cs->ctx);
                int q = ndjson_rows_flush(&nr);
                ndjson_rows_done(&nr);
                return r ? r : q;
        }
        CsvStream st = {.fill = cmd_fill, .header = cmd_header, .userdata = cs, .ctx = cs->ctx};
        uint64_t header_lines = 0;
        bool empty = false;
        int r = csv_stream_read(&st, shard, t, &header_lines, &empty);
        for (size_t i = 0; i < t->n_samples; i++)
                t->samples[i].line += header_lines;
        if (r == 0 && empty)
                log_notice("source %s: %s printed nothing, no rows", src->name, cs->argv[0]);
        return r;
}

static int cmd_read(Source *s, ShardSet *set, const SourceContext *ctx)
{
        CommandSource *cs = (CommandSource *)s;
        const char *name = s->plan->cfg->name, *prog = cs->argv[0];
        int r = shard_set_reset(set, 1);
        if (r < 0)
                return r;
        ScanTask t = {};
        r = read_stdout(cs, &set->shards[0], &t);
        for (size_t i = 0; i < t.n_samples; i++)
                bad_samples_add(&s->bad, (BadSample){.reason = t.samples[i].reason,
                                                     .column = t.samples[i].column,
                                                     .position = POSITION_LINE_OF,
                                                     .input = cs->input,
                                                     .n = t.samples[i].line});
        if (r == -ETIME || r == -ECANCELED) {
                child_kill(cs->child);
                return source_fail(s, -ETIME,
                                   "source %s: %s still running %s; its process group was stopped",
                                   name, prog, *ctx->stop ? "on SIGTERM" : "at the deadline");
        }
        if (r != 0) {
                child_kill(cs->child);
                return r;
        }
        int code = 0;
        int end = child_wait(cs->child, &code);
        switch (end) {
        case CHILD_EXITED:
                if (code == 0)
                        return 0;
                return source_fail(s, -EPROTO, "source %s: %s exited with status %d", name, prog,
                                   code);
        case CHILD_SIGNALED:
                return source_fail(s, -EPROTO, "source %s: %s was killed by signal %d (SIG%s)",
                                   name, prog, code, sigabbrev_np(code) ?: "?");
        case CHILD_TIMED_OUT:
        case CHILD_STOPPED:
                return source_fail(
                    s, -ETIME, "source %s: %s still running %s; its process group was stopped",
                    name, prog, end == CHILD_STOPPED ? "on SIGTERM" : "at the deadline");
        default:
                return source_fail(s, end < 0 ? end : -EIO, "source %s: waiting for %s: %m", name,
                                   prog);
        }
}

static size_t cmd_files(const Source *s)
{
        return 0;
}

static void cmd_close(Source *s)
{
        CommandSource *cs = (CommandSource *)s;
        child_free(cs->child);
        child_argv_free(cs->argv);
        free(cs);
}

static const SourceOps command_ops = {
    .type = "command",
    .open = cmd_open,
    .read = cmd_read,
    .files = cmd_files,
    .close = cmd_close,
};

int source_command_new(const SourcePlan *plan, Source **ret)
{
        CommandSource *cs = calloc(1, sizeof(CommandSource));
        if (!cs)
                return -ENOMEM;
        cs->base = (Source){.ops = &command_ops, .plan = plan};
        *ret = &cs->base;
        return 0;
}
