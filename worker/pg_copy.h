/* A PostgreSQL query as a stream of typed rows, through libpq and COPY.
 *
 * Why it looks like this:
 * - COPY (query) TO STDOUT read with PQgetCopyData: one row in memory at a time, never a
 *   whole result in one PGresult, and the server's fastest output path. Binary COPY by
 *   default, by bench/pg-copy (2M rows of the 7 event columns, amount numeric(12,2),
 *   local socket, medians of 5 interleaved runs on a shared 2-core machine at load 13):
 *   binary 4.42 s wall and 0.40 s of our CPU, text 6.64 s and 0.66 s; psql's own COPY to
 *   /dev/null (the wire floor) 5.25 s binary, 6.37 s text. The server writes binary
 *   faster than it formats numerics and timestamps as text, and binary integers, floats,
 *   timestamps and short numerics need no parsing here. PG_COPY_TEXT stays for that
 *   measurement and for the tests that check both formats decode alike.
 * - The query's output columns are described (PQprepare + PQdescribePrepared) and checked
 *   against the declared ones by name and type before any row flows, so a schema drift
 *   is one clear error, not a run of bad rows:
 *     str   text, varchar, bpchar, name
 *     int   int2, int4, int8
 *     num   float4, float8, numeric
 *     time  timestamp, timestamptz (int64 µs since the Unix epoch, UTC), date (midnight)
 *   Only the declared columns are copied, in declared order (a projection around the
 *   query), so undeclared output columns cost nothing.
 * - The session is read-only (COPY (INSERT … RETURNING) would otherwise write), in UTC
 *   and UTF-8; the deadline becomes statement_timeout (set just before the COPY) and the
 *   connect timeout. The worker's own deadline check, one second later, is the backstop.
 * - Passwords come only from libpq itself (.pgpass, PGPASSFILE, service files; a
 *   password= in the DSN works but is never echoed): every message names the DSN through
 *   pg_copy_redact_dsn.
 * - Errors are negative errno, each its own failure, with pg_copy_error() the sentence to
 *   log (the server's message and SQLSTATE where there is one):
 *     -EINVAL        the DSN does not parse (the text is not echoed: it may hold a secret)
 *     -ECONNREFUSED  cannot connect (no server, no socket, refused, unknown database)
 *     -EACCES        authentication failed (wrong or missing password, pg_hba reject)
 *     -EREMOTEIO     the query failed (syntax, unknown table, permission, error midway)
 *     -EMEDIUMTYPE   a declared column is missing from the output or has another type
 *     -ECONNRESET    the server ended the stream midway (pg_terminate_backend, crash)
 *     -ETIME         statement timeout, or the deadline passed
 *     -ECANCELED     *stop was set
 *   A value that does not decode (a malformed binary field, NaN, ±infinity, a date out
 *   of range) is a bad row passed to on_bad with a reason; the stream goes on. */
#pragma once

#include <signal.h>

#include "util.h"
#include "value.h"

typedef enum PgCopyFormat {
        PG_COPY_BINARY = 0,
        PG_COPY_TEXT = 1,
} PgCopyFormat;

typedef struct PgCopyColumn {
        const char *name; /* the query's output column name, compared exactly */
        ValueType type;
} PgCopyColumn;

typedef struct PgCopyOptions {
        const char *dsn;   /* libpq conninfo ("host=… dbname=…") or URI */
        const char *query; /* one SELECT (or VALUES, TABLE …); a trailing ';' is dropped */
        const PgCopyColumn *columns;
        size_t n_columns;
        uint64_t deadline_usec;            /* CLOCK_MONOTONIC; 0: none */
        const volatile sig_atomic_t *stop; /* checked between rows and every 100 ms */
        PgCopyFormat format;
} PgCopyOptions;

typedef struct PgCopy PgCopy;

/* A row: n values in declared column order; strings point into a buffer valid until the
 * callback returns. Non-zero stops the stream and is returned by pg_copy_stream. */
typedef int (*PgCopyRowFn)(void *userdata, const Value *row, size_t n);
/* A row that did not decode: its 1-based number in the stream and why. Non-zero stops. */
typedef int (*PgCopyBadFn)(void *userdata, uint64_t row_number, const char *reason);

/* Connects, sets up the session and checks the columns. On failure returns a negative
 * errno (above) and, when ret_error is not NULL, a malloc'ed message in *ret_error. */
int pg_copy_open(const PgCopyOptions *o, PgCopy **ret, char **ret_error);

/* Streams every row, once per PgCopy. 0 at the end of the rows, a negative errno (above),
 * or what a callback returned (the query is then canceled). on_bad may be NULL (bad rows
 * are then only counted). */
int pg_copy_stream(PgCopy *c, PgCopyRowFn on_row, PgCopyBadFn on_bad, void *userdata);

/* The message for the last failure of pg_copy_stream, redacted. */
const char *pg_copy_error(const PgCopy *c);
uint64_t pg_copy_rows(const PgCopy *c);     /* rows passed to on_row */
uint64_t pg_copy_bad_rows(const PgCopy *c); /* rows passed to on_bad */

PgCopy *pg_copy_free(PgCopy *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(PgCopy *, pg_copy_free);

/* The DSN as "key=value …" with any password replaced by "***"; "(unparsable DSN)" when
 * libpq cannot parse it. Always NUL-terminates; truncates to n. */
void pg_copy_redact_dsn(const char *dsn, char *buf, size_t n);
