/* PostgreSQL rows through COPY; see pg_copy.h for the choices. */
#include "pg_copy.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>

#include "numparse.h"
#include "timeparse.h"

/* pg_type OIDs (stable since forever: src/include/catalog/pg_type.dat) */
enum {
        OID_NAME = 19,
        OID_INT8 = 20,
        OID_INT2 = 21,
        OID_INT4 = 23,
        OID_TEXT = 25,
        OID_FLOAT4 = 700,
        OID_FLOAT8 = 701,
        OID_BPCHAR = 1042,
        OID_VARCHAR = 1043,
        OID_DATE = 1082,
        OID_TIMESTAMP = 1114,
        OID_TIMESTAMPTZ = 1184,
        OID_NUMERIC = 1700,
};

#define PG_EPOCH_USEC  INT64_C(946684800000000) /* 2000-01-01 in Unix µs */
#define PG_EPOCH_DAYS  10957
#define BACKSTOP_USEC  USEC_PER_SEC /* our deadline check trails statement_timeout by this */
#define WAIT_SLICE_MS  100
#define ERROR_MSG_SIZE 1024

struct PgCopy {
        PGconn *conn;
        PgCopyOptions o;
        char target[512]; /* the redacted DSN */
        char *copy_sql;
        Oid *oids; /* per declared column */
        Value *row;
        char *scratch; /* text COPY: unescaped fields */
        size_t scratch_cap;
        bool header_seen;
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
        free(c->oids);
        free(c->row);
        free(c->scratch);
        free(c);
        return NULL;
}

void pg_copy_redact_dsn(const char *dsn, char *buf, size_t n)
{
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

static bool oid_gives(Oid oid, ValueType t)
{
        switch (oid) {
        case OID_TEXT:
        case OID_VARCHAR:
        case OID_BPCHAR:
        case OID_NAME: return t == VALUE_STR;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8: return t == VALUE_INT;
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC: return t == VALUE_NUM;
        case OID_DATE:
        case OID_TIMESTAMP:
        case OID_TIMESTAMPTZ: return t == VALUE_TIME;
        default: return false;
        }
}

static const char *oid_name(Oid oid, char *buf, size_t n)
{
        static const struct {
                Oid oid;
                const char *name;
        } names[] = {
            {16, "boolean"},
            {17, "bytea"},
            {OID_NAME, "name"},
            {OID_INT8, "bigint"},
            {OID_INT2, "smallint"},
            {OID_INT4, "integer"},
            {OID_TEXT, "text"},
            {114, "json"},
            {OID_FLOAT4, "real"},
            {OID_FLOAT8, "double precision"},
            {OID_BPCHAR, "character"},
            {OID_VARCHAR, "character varying"},
            {OID_DATE, "date"},
            {1083, "time"},
            {OID_TIMESTAMP, "timestamp"},
            {OID_TIMESTAMPTZ, "timestamptz"},
            {1186, "interval"},
            {OID_NUMERIC, "numeric"},
            {2950, "uuid"},
            {3802, "jsonb"},
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].oid == oid)
                        return names[i].name;
        snprintf(buf, n, "type oid %u", (unsigned)oid);
        return buf;
}

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
                else if (!oid_gives(PQftype(res, found), col->type))
                        r = fail(c, -EMEDIUMTYPE,
                                 "PostgreSQL (%s): declared column \"%s\" is %s but the query "
                                 "gives %s (cast it, e.g. %s%s, or declare another type)",
                                 c->target, col->name, tname,
                                 oid_name(PQftype(res, found), buf, sizeof(buf)), col->name,
                                 cast_hint(col->type));
                else
                        c->oids[i] = PQftype(res, found);
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
        c->oids = calloc(o->n_columns, sizeof(Oid));
        c->row = calloc(o->n_columns, sizeof(Value));
        if (!c->oids || !c->row)
                return -ENOMEM;

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

static inline uint16_t be16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64(const uint8_t *p)
{
        return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* numeric's binary form: ndigits, weight, sign, dscale, then base-10000 digits. Written
 * out as an integer mantissa and a decimal exponent for strtod, which rounds correctly. */
static const char *decode_numeric(const uint8_t *p, uint32_t len, double *ret)
{
        if (len < 8)
                return "numeric: short field";
        uint16_t nd = be16(p), sign = be16(p + 4);
        int16_t weight = (int16_t)be16(p + 2);
        if (sign == 0xC000)
                return "numeric: NaN";
        if (sign == 0xD000 || sign == 0xF000)
                return "numeric: infinity";
        if (sign != 0 && sign != 0x4000)
                return "numeric: bad sign";
        if (len != 8 + 2u * nd)
                return "numeric: length does not match its digits";
        /* fast path: an integer mantissa below 2^53 and a power of ten up to 1e22 are both
         * exact doubles, so one multiplication or division rounds correctly (as strtod) */
        if (nd <= 4) {
                uint64_t m = 0;
                for (unsigned i = 0; i < nd; i++) {
                        uint16_t d = be16(p + 8 + 2 * i);
                        if (d > 9999)
                                return "numeric: bad digit";
                        m = m * 10000 + d;
                }
                int e = 4 * ((int)weight + 1 - (int)nd);
                static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
                if (m < (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
                        double d = e >= 0 ? (double)m * pow10[e] : (double)m / pow10[-e];
                        *ret = sign == 0x4000 ? -d : d;
                        return NULL;
                }
        }
        /* 40 groups are 160 significant digits, far past a double's 17 */
        unsigned used = MIN(nd, 40u);
        char buf[8 + 4 * 40 + 16], *o = buf;
        if (sign == 0x4000)
                *o++ = '-';
        *o++ = '0';
        for (unsigned i = 0; i < used; i++) {
                uint16_t d = be16(p + 8 + 2 * i);
                if (d > 9999)
                        return "numeric: bad digit";
                o[0] = (char)('0' + d / 1000);
                o[1] = (char)('0' + d / 100 % 10);
                o[2] = (char)('0' + d / 10 % 10);
                o[3] = (char)('0' + d % 10);
                o += 4;
        }
        snprintf(o, sizeof(buf) - (size_t)(o - buf), "e%d", 4 * ((int)weight + 1 - (int)used));
        double d = strtod(buf, NULL);
        if (!isfinite(d))
                return "numeric: out of range for a double";
        *ret = d;
        return NULL;
}

static const char *decode_binary_field(Oid oid, const uint8_t *p, uint32_t len, Value *v)
{
        switch (oid) {
        case OID_TEXT:
        case OID_VARCHAR:
        case OID_BPCHAR:
        case OID_NAME:
                v->type = VALUE_STR;
                v->s = (const char *)p;
                v->len = len;
                return NULL;
        case OID_INT2:
                if (len != 2)
                        return "smallint: not 2 bytes";
                *v = (Value){.type = VALUE_INT, .i = (int16_t)be16(p)};
                return NULL;
        case OID_INT4:
                if (len != 4)
                        return "integer: not 4 bytes";
                *v = (Value){.type = VALUE_INT, .i = (int32_t)be32(p)};
                return NULL;
        case OID_INT8:
                if (len != 8)
                        return "bigint: not 8 bytes";
                *v = (Value){.type = VALUE_INT, .i = (int64_t)be64(p)};
                return NULL;
        case OID_FLOAT4: {
                if (len != 4)
                        return "real: not 4 bytes";
                uint32_t u = be32(p);
                float f;
                memcpy(&f, &u, sizeof(f));
                if (!isfinite(f))
                        return "real: not a finite number";
                *v = (Value){.type = VALUE_NUM, .d = f};
                return NULL;
        }
        case OID_FLOAT8: {
                if (len != 8)
                        return "double precision: not 8 bytes";
                uint64_t u = be64(p);
                double d;
                memcpy(&d, &u, sizeof(d));
                if (!isfinite(d))
                        return "double precision: not a finite number";
                *v = (Value){.type = VALUE_NUM, .d = d};
                return NULL;
        }
        case OID_NUMERIC: {
                double d;
                const char *why = decode_numeric(p, len, &d);
                if (!why)
                        *v = (Value){.type = VALUE_NUM, .d = d};
                return why;
        }
        case OID_TIMESTAMP:
        case OID_TIMESTAMPTZ: {
                if (len != 8)
                        return "timestamp: not 8 bytes";
                int64_t t = (int64_t)be64(p), u;
                if (t == INT64_MAX || t == INT64_MIN)
                        return "timestamp: infinity";
                if (__builtin_add_overflow(t, PG_EPOCH_USEC, &u))
                        return "timestamp: out of range";
                *v = (Value){.type = VALUE_TIME, .i = u};
                return NULL;
        }
        case OID_DATE: {
                if (len != 4)
                        return "date: not 4 bytes";
                int32_t d = (int32_t)be32(p);
                if (d == INT32_MAX || d == INT32_MIN)
                        return "date: infinity";
                /* |d| < 2^31 days: the product stays far inside int64 */
                *v = (Value){.type = VALUE_TIME,
                             .i = ((int64_t)d + PG_EPOCH_DAYS) * 86400 * (int64_t)USEC_PER_SEC};
                return NULL;
        }
        default: return "unexpected column type";
        }
}

static const uint8_t binary_signature[11] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                             '\n', 0xFF, '\r', '\n', 0};

/* One CopyData message of binary COPY. 1: a row in c->row; 0: not a row (header, trailer);
 * 2: a bad row (*why). The server sends the header with the first row, the trailer
 * alone; both are accepted either way. */
static int decode_binary(PgCopy *c, const uint8_t *p, size_t n, const char **why)
{
        const uint8_t *e = p + n;
        if (!c->header_seen) {
                if (n < 19 || memcmp(p, binary_signature, 11) != 0) {
                        *why = "binary COPY: no header";
                        return 2;
                }
                uint32_t ext = be32(p + 15);
                if (ext > n - 19) {
                        *why = "binary COPY: bad header extension";
                        return 2;
                }
                p += 19 + ext;
                c->header_seen = true;
        }
        if (p == e)
                return 0;
        if (e - p < 2) {
                *why = "binary COPY: truncated row";
                return 2;
        }
        int16_t nf = (int16_t)be16(p);
        p += 2;
        if (nf == -1)
                return 0; /* trailer */
        if ((size_t)nf != c->o.n_columns) {
                *why = "binary COPY: wrong field count";
                return 2;
        }
        for (size_t i = 0; i < c->o.n_columns; i++) {
                if (e - p < 4) {
                        *why = "binary COPY: truncated row";
                        return 2;
                }
                int32_t len = (int32_t)be32(p);
                p += 4;
                if (len == -1) {
                        c->row[i] = (Value){.type = VALUE_NIL};
                        continue;
                }
                if (len < 0 || len > e - p) {
                        *why = "binary COPY: bad field length";
                        return 2;
                }
                *why = decode_binary_field(c->oids[i], p, (uint32_t)len, &c->row[i]);
                if (*why)
                        return 2;
                p += len;
        }
        if (p != e) {
                *why = "binary COPY: bytes after the row";
                return 2;
        }
        return 1;
}

/* Text COPY: unescapes \t \n \\ … in place into the scratch. */
static const char *unescape_text(PgCopy *c, const char *s, size_t len, const char **out,
                                 size_t *out_len, char **o)
{
        char *w = *o;
        *out = w;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (ch != '\\') {
                        *w++ = ch;
                        continue;
                }
                if (++i >= len)
                        return "text COPY: trailing backslash";
                switch (s[i]) {
                case 'b': *w++ = '\b'; break;
                case 'f': *w++ = '\f'; break;
                case 'n': *w++ = '\n'; break;
                case 'r': *w++ = '\r'; break;
                case 't': *w++ = '\t'; break;
                case 'v': *w++ = '\v'; break;
                case '0' ... '7': {
                        unsigned v = 0, k = 0;
                        while (k < 3 && i < len && s[i] >= '0' && s[i] <= '7')
                                v = v * 8 + (unsigned)(s[i++] - '0'), k++;
                        i--;
                        *w++ = (char)v;
                        break;
                }
                default: *w++ = s[i]; break; /* \\ and any other: the byte itself */
                }
        }
        *out_len = (size_t)(w - *out);
        *o = w;
        return NULL;
}

static const char *decode_text_field(Oid oid, const char *s, size_t len, Value *v)
{
        switch (oid) {
        case OID_TEXT:
        case OID_VARCHAR:
        case OID_BPCHAR:
        case OID_NAME: *v = (Value){.type = VALUE_STR, .len = (uint32_t)len, .s = s}; return NULL;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
                v->type = VALUE_INT;
                return parse_int_field(s, len, &v->i) < 0 ? "integer: does not parse" : NULL;
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC:
                v->type = VALUE_NUM;
                return parse_num_field(s, len, &v->d) < 0 ? "number: not a finite number" : NULL;
        case OID_TIMESTAMPTZ:
                /* TimeZone is UTC: the offset is always +00, which RFC 3339 spells Z */
                if (len > 3 && memcmp(s + len - 3, "+00", 3) == 0)
                        len -= 3;
                /* fallthrough */
        case OID_TIMESTAMP:
        case OID_DATE:
                v->type = VALUE_TIME;
                return parse_time_usec(s, len, &v->i) < 0 ? "timestamp: does not parse" : NULL;
        default: return "unexpected column type";
        }
}

static int decode_text(PgCopy *c, const char *p, size_t n, const char **why)
{
        if (n > 0 && p[n - 1] == '\n')
                n--;
        if (c->scratch_cap < n + 1) {
                char *s = realloc(c->scratch, n + 1);
                if (!s)
                        return -ENOMEM;
                c->scratch = s;
                c->scratch_cap = n + 1;
        }
        char *o = c->scratch;
        const char *e = p + n;
        for (size_t i = 0; i < c->o.n_columns; i++) {
                if (i > 0) {
                        if (p >= e || *p != '\t') {
                                *why = "text COPY: too few fields";
                                return 2;
                        }
                        p++;
                }
                const char *end = memchr(p, '\t', (size_t)(e - p));
                if (!end)
                        end = e;
                size_t len = (size_t)(end - p);
                if (len == 2 && p[0] == '\\' && p[1] == 'N') {
                        c->row[i] = (Value){.type = VALUE_NIL};
                        p = end;
                        continue;
                }
                const char *s = p;
                if (memchr(p, '\\', len)) {
                        *why = unescape_text(c, p, len, &s, &len, &o);
                        if (*why)
                                return 2;
                }
                *why = decode_text_field(c->oids[i], s, len, &c->row[i]);
                if (*why)
                        return 2;
                p = end;
        }
        if (p != e) {
                *why = "text COPY: too many fields";
                return 2;
        }
        return 1;
}

int pg_copy_stream(PgCopy *c, PgCopyRowFn on_row, PgCopyBadFn on_bad, void *userdata)
{
        int r;
        c->error[0] = 0;
        c->canceled_by_us = false;
        c->header_seen = false;
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
                        ? decode_binary(c, (uint8_t *)buf, (size_t)n, &why)
                        : decode_text(c, buf, (size_t)n, &why);
                if (r == 1) {
                        c->rows++;
                        r = on_row(userdata, c->row, c->o.n_columns);
                } else if (r == 2) {
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
