/* PostgreSQL rows through COPY; see pg_copy.h for the choices. */
#include "pg_copy.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdarg.h>

#include "pg_decode.h"
#include "pq_dl.h"

#define BACKSTOP_USEC  USEC_PER_SEC /* our deadline check trails statement_timeout by this */
#define WAIT_SLICE_MS  100
#define ERROR_MSG_SIZE 1024

struct PgCopy {
        PGconn *conn;
        PgCopyOptions o;
        char target[512]; /* the redacted DSN */
        char *copy_sql;
        PgDecoder dec; /* its oids and row: per declared column */
        bool canceled_by_us;
        uint64_t rows, bad_rows;
        char error[ERROR_MSG_SIZE];
};

static int fail(PgCopy *c, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(PgCopy *c, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->error, sizeof(c->error), fmt, ap);
        va_end(ap);
        /* libpq's messages span lines ("…\n\tIs the server running…\n"): one log line */
        char *w = c->error;
        for (const char *p = c->error; *p; p++) {
                if (*p == '\n' || *p == '\t') {
                        if (w > c->error && w[-1] != ' ')
                                *w++ = ' ';
                } else
                        *w++ = *p;
        }
        while (w > c->error && w[-1] == ' ')
                w--;
        *w = 0;
        return r;
}

const char *pg_copy_error(const PgCopy *c)
{
        return c->error;
}

uint64_t pg_copy_rows(const PgCopy *c)
{
        return c->rows;
}

uint64_t pg_copy_bad_rows(const PgCopy *c)
{
        return c->bad_rows;
}

PgCopy *pg_copy_free(PgCopy *c)
{
        if (!c)
                return NULL;
        if (c->conn)
                PQfinish(c->conn);
        free(c->copy_sql);
        free(c->dec.oids);
        free(c->dec.row);
        free(c->dec.scratch);
        free(c);
        return NULL;
}

void pg_copy_redact_dsn(const char *dsn, char *buf, size_t n)
{
        if (pq_dl_load(NULL) < 0) {
                snprintf(buf, n, "(DSN not shown: libpq not loaded)");
                return;
        }
        char *err = NULL;
        PQconninfoOption *opts = PQconninfoParse(dsn, &err);
        PQfreemem(err); /* may quote the DSN, secrets and all */
        if (!opts) {
                snprintf(buf, n, "(unparsable DSN)");
                return;
        }
        size_t w = 0;
        buf[0] = 0;
        for (PQconninfoOption *o = opts; o->keyword && w + 1 < n; o++) {
                if (!o->val)
                        continue;
                bool secret = strcmp(o->keyword, "password") == 0;
                int k = snprintf(buf + w, n - w, "%s%s=%s", w ? " " : "", o->keyword,
                                 secret ? "***" : o->val);
                if (k < 0)
                        break;
                w += MIN((size_t)k, n - w - 1);
        }
        PQconninfoFree(opts);
}

/* ---- column types ---- */

static const char *cast_hint(ValueType t)
{
        switch (t) {
        case VALUE_STR: return "::text";
        case VALUE_INT: return "::bigint";
        case VALUE_NUM: return "::float8";
        case VALUE_TIME: return "::timestamptz";
        default: return "";
        }
}

/* ---- errors from the server ---- */

static int result_error(PgCopy *c, const PGresult *res, const char *what)
{
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        if (!msg)
                msg = PQresultErrorMessage(res);
        if (!state)
                state = "";
        if (strcmp(state, "57014") == 0 && !c->canceled_by_us)
                return fail(c, -ETIME, "PostgreSQL (%s): statement timeout: %s (SQLSTATE %s)",
                            c->target, msg, state);
        if (strncmp(state, "57P", 3) == 0 || PQstatus(c->conn) == CONNECTION_BAD)
                return fail(c, -ECONNRESET,
                            "PostgreSQL (%s): the server ended the stream after %" PRIu64
                            " rows: %s (SQLSTATE %s)",
                            c->target, c->rows + c->bad_rows, msg, *state ? state : "none");
        return fail(c, -EREMOTEIO, "PostgreSQL (%s): %s failed: %s%s%s (SQLSTATE %s)", c->target,
                    what, msg, detail ? ": " : "", detail ? detail : "", state);
}

static int connection_error(PgCopy *c)
{
        return fail(c, -ECONNRESET,
                    "PostgreSQL (%s): the server ended the stream after %" PRIu64 " rows: %s",
                    c->target, c->rows + c->bad_rows, PQerrorMessage(c->conn));
}

/* Runs a command that returns no rows. */
static int exec_command(PgCopy *c, const char *sql, const char *what)
{
        PGresult *res = PQexec(c->conn, sql);
        int r = 0;
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                r = res ? result_error(c, res, what) : connection_error(c);
        PQclear(res);
        return r;
}

/* The rest of the deadline as statement_timeout; nothing without a deadline. */
static int set_statement_timeout(PgCopy *c)
{
        if (!c->o.deadline_usec)
                return 0;
        uint64_t now = now_monotonic_usec();
        if (now >= c->o.deadline_usec)
                return fail(c, -ETIME, "PostgreSQL (%s): deadline passed before the query",
                            c->target);
        char sql[64];
        snprintf(sql, sizeof(sql), "SET statement_timeout = %" PRIu64,
                 MAX((c->o.deadline_usec - now) / USEC_PER_MSEC, (uint64_t)1));
        return exec_command(c, sql, "setting statement_timeout");
}

/* ---- connecting ---- */

static int connect_db(PgCopy *c)
{
        char timeout[32] = "";
        if (c->o.deadline_usec) {
                uint64_t now = now_monotonic_usec();
                if (now >= c->o.deadline_usec)
                        return fail(c, -ETIME, "PostgreSQL (%s): deadline passed before connecting",
                                    c->target);
                snprintf(timeout, sizeof(timeout), "%" PRIu64,
                         MAX((c->o.deadline_usec - now) / USEC_PER_SEC, (uint64_t)1));
        }
        /* later keywords override the DSN's: ours are the session's invariants */
        const char *keys[] = {"dbname", "fallback_application_name", "client_encoding",
                              timeout[0] ? "connect_timeout" : NULL, NULL};
        const char *vals[] = {c->o.dsn, "tally-worker", "UTF8", timeout, NULL};
        c->conn = PQconnectdbParams(keys, vals, 1);
        if (!c->conn)
                return fail(c, -ENOMEM, "PostgreSQL (%s): out of memory", c->target);
        if (PQstatus(c->conn) == CONNECTION_OK)
                return 0;
        const char *msg = PQerrorMessage(c->conn);
        if (PQconnectionNeedsPassword(c->conn))
                return fail(c, -EACCES,
                            "PostgreSQL (%s): authentication failed: the server asks for a "
                            "password and none was found (.pgpass, PGPASSFILE or a service "
                            "file): %s",
                            c->target, msg);
        if (PQconnectionUsedPassword(c->conn) || strstr(msg, "authentication failed") ||
            strstr(msg, "pg_hba.conf"))
                return fail(c, -EACCES, "PostgreSQL (%s): authentication failed: %s", c->target,
                            msg);
        return fail(c, -ECONNREFUSED, "PostgreSQL (%s): cannot connect: %s", c->target, msg);
}

/* ---- describing and checking the columns ---- */

static int check_columns(PgCopy *c, const char *query)
{
        PGresult *res = PQprepare(c->conn, "", query, 0, NULL);
        int r = 0;
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                r = res ? result_error(c, res, "the query") : connection_error(c);
        PQclear(res);
        if (r < 0)
                return r;
        res = PQdescribePrepared(c->conn, "");
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                r = res ? result_error(c, res, "describing the query") : connection_error(c);
                PQclear(res);
                return r;
        }
        int nf = PQnfields(res);
        char have[256] = "";
        for (int f = 0, w = 0; f < nf && w < (int)sizeof(have); f++)
                w += snprintf(have + w, sizeof(have) - (size_t)w, "%s%s", f ? ", " : "",
                              PQfname(res, f));
        for (size_t i = 0; i < c->o.n_columns && r == 0; i++) {
                const PgCopyColumn *col = &c->o.columns[i];
                const char *tname = value_type_to_string(col->type);
                int found = -1, count = 0;
                for (int f = 0; f < nf; f++)
                        if (strcmp(PQfname(res, f), col->name) == 0) {
                                found = found < 0 ? f : found;
                                count++;
                        }
                char buf[32];
                if (count == 0)
                        r = fail(c, -EMEDIUMTYPE,
                                 "PostgreSQL (%s): declared column \"%s\" (%s) is not in the "
                                 "query's output (%s)",
                                 c->target, col->name, tname, nf ? have : "no columns");
                else if (count > 1)
                        r = fail(c, -EMEDIUMTYPE,
                                 "PostgreSQL (%s): declared column \"%s\" (%s) appears %d times "
                                 "in the query's output",
                                 c->target, col->name, tname, count);
                else if (!pg_type_gives(PQftype(res, found), col->type))
                        r = fail(c, -EMEDIUMTYPE,
                                 "PostgreSQL (%s): declared column \"%s\" is %s but the query "
                                 "gives %s (cast it, e.g. %s%s, or declare another type)",
                                 c->target, col->name, tname,
                                 pg_type_name(PQftype(res, found), buf, sizeof(buf)), col->name,
                                 cast_hint(col->type));
                else
                        c->dec.oids[i] = PQftype(res, found);
        }
        PQclear(res);
        return r;
}

static int build_copy_sql(PgCopy *c, const char *query)
{
        size_t cap = strlen(query) + 128;
        for (size_t i = 0; i < c->o.n_columns; i++)
                cap += 2 * strlen(c->o.columns[i].name) + 8;
        _cleanup_free_ char *sql = malloc(cap);
        if (!sql)
                return -ENOMEM;
        size_t w = (size_t)snprintf(sql, cap, "COPY (SELECT ");
        for (size_t i = 0; i < c->o.n_columns; i++) {
                char *id =
                    PQescapeIdentifier(c->conn, c->o.columns[i].name, strlen(c->o.columns[i].name));
                if (!id)
                        return fail(c, -ENOMEM, "PostgreSQL (%s): %s", c->target,
                                    PQerrorMessage(c->conn));
                w += (size_t)snprintf(sql + w, cap - w, "%sq.%s", i ? ", " : "", id);
                PQfreemem(id);
        }
        snprintf(sql + w, cap - w, " FROM (%s) AS q) TO STDOUT%s", query,
                 c->o.format == PG_COPY_BINARY ? " (FORMAT binary)" : "");
        c->copy_sql = TAKE_PTR(sql);
        return 0;
}

int pg_copy_open(const PgCopyOptions *o, PgCopy **ret, char **ret_error)
{
        _cleanup_(pg_copy_freep) PgCopy *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->o = *o;
        int r = 0;
        if (!o->dsn || !o->query || o->n_columns == 0)
                return -EINVAL;
        c->dec.oids = calloc(o->n_columns, sizeof(Oid));
        c->dec.row = calloc(o->n_columns, sizeof(Value));
        c->dec.n_columns = o->n_columns;
        if (!c->dec.oids || !c->dec.row)
                return -ENOMEM;
        const char *dl_error = NULL;
        if ((r = pq_dl_load(&dl_error)) < 0) {
                if (ret_error)
                        *ret_error = strdup(dl_error);
                return r;
        }

        char *perr = NULL;
        PQconninfoOption *opts = PQconninfoParse(o->dsn, &perr);
        PQfreemem(perr);
        if (!opts)
                r = fail(c, -EINVAL,
                         "PostgreSQL: the DSN does not parse as a libpq conninfo "
                         "(key=value …) or URI (postgresql://…)");
        PQconninfoFree(opts);
        if (r == 0) {
                pg_copy_redact_dsn(o->dsn, c->target, sizeof(c->target));
                if (!c->target[0]) /* all from the environment: PGHOST, PGDATABASE, … */
                        snprintf(c->target, sizeof(c->target), "libpq defaults");
                r = connect_db(c);
        }
        /* read-only: COPY (INSERT … RETURNING) would write; UTC and ISO for text COPY */
        if (r == 0)
                r = exec_command(c,
                                 "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; "
                                 "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; "
                                 "SET extra_float_digits = 3",
                                 "setting up the session");
        /* describing waits for the tables' locks: bounded by the deadline too */
        if (r == 0)
                r = set_statement_timeout(c);

        /* a trailing ';' would end the COPY's subquery early */
        _cleanup_free_ char *query = NULL;
        if (r == 0) {
                query = strdup(o->query);
                if (!query)
                        return -ENOMEM;
                size_t len = strlen(query);
                while (len > 0 && strchr(" \t\r\n;", query[len - 1]))
                        query[--len] = 0;
                if (len == 0)
                        r = fail(c, -EREMOTEIO, "PostgreSQL (%s): the query is empty", c->target);
        }
        if (r == 0)
                r = check_columns(c, query);
        if (r == 0)
                r = build_copy_sql(c, query);
        if (r < 0) {
                if (ret_error)
                        *ret_error = strdup(c->error[0] ? c->error : strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- streaming ---- */

static void cancel_query(PgCopy *c)
{
        char buf[256];
        PGcancel *k = PQgetCancel(c->conn);
        if (k) {
                c->canceled_by_us = true;
                (void)PQcancel(k, buf, sizeof(buf));
                PQfreeCancel(k);
        }
}

static int check_stop(PgCopy *c)
{
        if (c->o.stop && *c->o.stop) {
                cancel_query(c);
                return fail(c, -ECANCELED, "PostgreSQL (%s): stopped after %" PRIu64 " rows",
                            c->target, c->rows + c->bad_rows);
        }
        if (c->o.deadline_usec && now_monotonic_usec() >= c->o.deadline_usec + BACKSTOP_USEC) {
                cancel_query(c);
                return fail(c, -ETIME, "PostgreSQL (%s): deadline passed after %" PRIu64 " rows",
                            c->target, c->rows + c->bad_rows);
        }
        return 0;
}

/* Waits for input on the connection in slices, watching stop and the deadline. */
static int wait_input(PgCopy *c)
{
        for (;;) {
                int r = check_stop(c);
                if (r < 0)
                        return r;
                struct pollfd p = {.fd = PQsocket(c->conn), .events = POLLIN};
                if (p.fd < 0)
                        return connection_error(c);
                r = poll(&p, 1, WAIT_SLICE_MS);
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0) {
                        if (!PQconsumeInput(c->conn))
                                return connection_error(c);
                        return 0;
                }
        }
}

int pg_copy_stream(PgCopy *c, PgCopyRowFn on_row, PgCopyBadFn on_bad, void *userdata)
{
        int r;
        c->error[0] = 0;
        c->canceled_by_us = false;
        c->dec.header_seen = false;
        /* statement_timeout counts from the statement's start: set it again just before */
        r = set_statement_timeout(c);
        if (r < 0)
                return r;
        if (!PQsendQuery(c->conn, c->copy_sql))
                return connection_error(c);
        while (PQisBusy(c->conn)) {
                r = wait_input(c);
                if (r < 0)
                        return r;
        }
        PGresult *res = PQgetResult(c->conn);
        if (PQresultStatus(res) != PGRES_COPY_OUT) {
                r = res ? result_error(c, res, "the query") : connection_error(c);
                PQclear(res);
                while ((res = PQgetResult(c->conn)))
                        PQclear(res);
                return r;
        }
        PQclear(res);

        for (;;) {
                char *buf = NULL;
                int n = PQgetCopyData(c->conn, &buf, 1);
                if (n == 0) {
                        r = wait_input(c);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (n == -2)
                        return connection_error(c);
                if (n == -1)
                        break;
                const char *why = NULL;
                r = c->o.format == PG_COPY_BINARY
                        ? pg_decode_binary(&c->dec, (uint8_t *)buf, (size_t)n, &why)
                        : pg_decode_text(&c->dec, buf, (size_t)n, &why);
                if (r == PG_DECODE_ROW) {
                        c->rows++;
                        r = on_row(userdata, c->dec.row, c->o.n_columns);
                } else if (r == PG_DECODE_BAD) {
                        c->bad_rows++;
                        r = on_bad ? on_bad(userdata, c->rows + c->bad_rows, why) : 0;
                }
                PQfreemem(buf);
                if (r != 0) {
                        cancel_query(c);
                        return r;
                }
                if (c->o.stop && *c->o.stop)
                        return check_stop(c);
                if (c->o.deadline_usec && (c->rows & 1023) == 0 && (r = check_stop(c)) < 0)
                        return r;
        }
        /* the end of the copy: the command's result says whether it ended well */
        r = 0;
        while (PQisBusy(c->conn) && r == 0)
                r = wait_input(c);
        if (r < 0)
                return r;
        while ((res = PQgetResult(c->conn))) {
                if (r == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
                        r = result_error(c, res, "the query");
                PQclear(res);
        }
        if (r == 0 && PQstatus(c->conn) == CONNECTION_BAD)
                r = connection_error(c);
        return r;
}
