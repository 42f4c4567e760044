/* The PostgreSQL source: one query's rows through COPY (pg_copy.h), on one thread.
 *
 * pg_copy hands a row at a time with strings in its own buffer, valid only during the
 * callback; rows are batched into the shard (shard_row) with their strings copied into a
 * window of ours, flushed before it fills, so memory stays at the window. Every libpq
 * failure keeps pg_copy's own sentence (redacted DSN, server message, SQLSTATE). */
#include <inttypes.h>

#include "pg_copy.h"
#include "source.h"

#define STRING_WINDOW (2 * SHARD_MAX_ROW_BYTES) /* a row of the longest strings always fits */
#define INPUT_NAME    "query"

typedef struct PgSource {
        Source base;
        PgCopyColumn *columns;
        PgCopy *copy;
        /* while reading */
        Shard *shard;
        char *window;
        size_t used;
} PgSource;

static int pg_failed(PgSource *ps, int r, char *msg)
{
        const SourceConfig *src = ps->base.plan->cfg;
        source_fail(&ps->base, r, "source %s: %s", src->name, msg ? msg : strerror(-r));
        free(msg);
        /* a query whose columns do not fit the declared ones is a configuration mistake */
        return r == -EMEDIUMTYPE ? SOURCE_BAD_CONFIG : r;
}

static int pg_open(Source *s, const SourceContext *ctx)
{
        PgSource *ps = (PgSource *)s;
        const SourceConfig *src = s->plan->cfg;
        ps->columns = calloc(src->n_columns, sizeof(PgCopyColumn));
        if (!ps->columns)
                return -ENOMEM;
        for (size_t i = 0; i < src->n_columns; i++)
                ps->columns[i] = (PgCopyColumn){src->columns[i].name, src->columns[i].type};
        PgCopyOptions o = {
            .dsn = src->dsn,
            .query = src->query,
            .columns = ps->columns,
            .n_columns = src->n_columns,
            .deadline_usec = ctx->deadline,
            .stop = ctx->stop,
            .format = PG_COPY_BINARY,
        };
        char *msg = NULL;
        int r = pg_copy_open(&o, &ps->copy, &msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return pg_failed(ps, r, msg);
        return 0;
}

static int on_row(void *userdata, const Value *row, size_t n)
{
        PgSource *ps = userdata;
        size_t bytes = 0;
        for (size_t i = 0; i < n; i++)
                if (row[i].type == VALUE_STR)
                        bytes += row[i].len;
        if (bytes > SHARD_MAX_ROW_BYTES) {
                shard_row_reject(ps->shard, BAD_TOO_LONG);
                bad_samples_add(&ps->base.bad, (BadSample){.reason = BAD_TOO_LONG,
                                                           .column = -1,
                                                           .position = POSITION_ROW_OF,
                                                           .input = INPUT_NAME,
                                                           .n = pg_copy_rows(ps->copy) +
                                                                pg_copy_bad_rows(ps->copy)});
                return 0;
        }
        int r;
        if (ps->used + bytes > STRING_WINDOW) {
                if ((r = shard_flush(ps->shard)) < 0)
                        return r;
                ps->used = 0;
        }
        Value *out = shard_row(ps->shard);
        for (size_t i = 0; i < n; i++) {
                out[i] = row[i];
                if (row[i].type == VALUE_STR) {
                        memcpy(ps->window + ps->used, row[i].s, row[i].len);
                        out[i].s = ps->window + ps->used;
                        ps->used += row[i].len;
                }
        }
        r = shard_row_commit(ps->shard);
        if (ps->shard->n_batch == 0)
                ps->used = 0; /* the batch was flushed */
        return r;
}

static bool starts(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* pg_copy's reasons start with the type that failed to decode. */
static BadReason reason_of(const char *why)
{
        if (starts(why, "timestamp") || starts(why, "date"))
                return BAD_TIME;
        if (starts(why, "smallint") || starts(why, "integer") || starts(why, "bigint"))
                return BAD_INT;
        if (starts(why, "real") || starts(why, "double") || starts(why, "numeric"))
                return BAD_NUM;
        return BAD_FIELD_COUNT;
}

static int on_bad(void *userdata, uint64_t row_number, const char *why)
{
        PgSource *ps = userdata;
        BadReason reason = reason_of(why);
        shard_row_reject(ps->shard, reason);
        bad_samples_add(&ps->base.bad, (BadSample){.reason = reason,
                                                   .column = -1,
                                                   .position = POSITION_ROW_OF,
                                                   .input = INPUT_NAME,
                                                   .n = row_number});
        return 0;
}

static int pg_read(Source *s, ShardSet *set, const SourceContext *ctx)
{
        PgSource *ps = (PgSource *)s;
        int r = shard_set_reset(set, 1);
        if (r < 0)
                return r;
        ps->shard = &set->shards[0];
        ps->window = malloc(STRING_WINDOW);
        if (!ps->window)
                return -ENOMEM;
        ps->used = 0;
        r = pg_copy_stream(ps->copy, on_row, on_bad, ps);
        if (r == 0)
                r = shard_flush(ps->shard);
        free(ps->window);
        ps->window = NULL;
        if (r == -ENOMEM || r == 0)
                return r;
        if (r == -ECANCELED)
                r = -ETIME; /* SIGTERM: the engine's "stopped" path */
        return source_fail(s, r, "source %s: %s", s->plan->cfg->name, pg_copy_error(ps->copy));
}

static size_t pg_files(const Source *s)
{
        return 0;
}

static void pg_close(Source *s)
{
        PgSource *ps = (PgSource *)s;
        pg_copy_free(ps->copy);
        free(ps->columns);
        free(ps->window);
        free(ps);
}

static const SourceOps pg_ops = {
    .type = "postgres",
    .open = pg_open,
    .read = pg_read,
    .files = pg_files,
    .close = pg_close,
};

int source_postgres_new(const SourcePlan *plan, Source **ret)
{
        PgSource *ps = calloc(1, sizeof(PgSource));
        if (!ps)
                return -ENOMEM;
        ps->base = (Source){.ops = &pg_ops, .plan = plan};
        *ret = &ps->base;
        return 0;
}
