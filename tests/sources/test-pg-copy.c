/* The PostgreSQL source against a real server (tests/sources/pg-copy.sh starts a
 * throwaway cluster and exports PGHOST): every type in both COPY formats, NULLs, values
 * that do not decode, the column checks, and each failure for real — no server, a wrong
 * or missing password, an unknown table, a statement timeout, pg_terminate_backend
 * midway, a write refused by the read-only session, a stop. */
#include <libpq-fe.h>
#include <math.h>

#include "pg_copy.h"
#include "test.h"

static PGconn *admin;

static void sql(const char *q)
{
        PGresult *r = PQexec(admin, q);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "# setup failed: %s: %s", q, PQerrorMessage(admin));
                exit(1);
        }
        PQclear(r);
}

typedef struct Got {
        size_t rows, bad;
        Value v[4][16];
        char str[4][16][64];
        char reason[4][80];
        uint64_t bad_row[4];
        int stop_after; /* on_row returns 7 at this row */
        int kill_after; /* terminate the backend at this row */
        volatile sig_atomic_t *stop;
        int stop_at;
        uint64_t started;
} Got;

static int on_row(void *ud, const Value *row, size_t n)
{
        Got *g = ud;
        if (g->rows < 4)
                for (size_t i = 0; i < n && i < 16; i++) {
                        g->v[g->rows][i] = row[i];
                        if (row[i].type == VALUE_STR) {
                                snprintf(g->str[g->rows][i], 64, "%.*s", (int)row[i].len, row[i].s);
                                g->v[g->rows][i].s = g->str[g->rows][i];
                        }
                }
        g->rows++;
        if (g->kill_after && g->rows == (size_t)g->kill_after)
                sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'tally-victim'");
        if (g->stop && g->rows == (size_t)g->stop_at)
                *g->stop = 1;
        if (g->stop_after && g->rows == (size_t)g->stop_after)
                return 7;
        return 0;
}

static int on_bad(void *ud, uint64_t row_number, const char *reason)
{
        Got *g = ud;
        if (g->bad < 4) {
                snprintf(g->reason[g->bad], 80, "%s", reason);
                g->bad_row[g->bad] = row_number;
        }
        g->bad++;
        return 0;
}

/* Opens and streams; returns the first failure; *err the message of it (static). */
static int run(const char *dsn, const char *query, const PgCopyColumn *cols, size_t n,
               PgCopyFormat format, uint64_t deadline, Got *g, const char **err)
{
        static char msg[1024];
        PgCopyOptions o = {.dsn = dsn,
                           .query = query,
                           .columns = cols,
                           .n_columns = n,
                           .deadline_usec = deadline,
                           .format = format,
                           .stop = g ? g->stop : NULL};
        PgCopy *c = NULL;
        char *e = NULL;
        msg[0] = 0;
        *err = msg;
        int r = pg_copy_open(&o, &c, &e);
        if (r < 0) {
                snprintf(msg, sizeof(msg), "%s", e ? e : "");
                free(e);
                fprintf(stderr, "# %d: %s\n", r, msg);
                return r;
        }
        Got local = {};
        r = pg_copy_stream(c, on_row, on_bad, g ? g : &local);
        if (r != 0)
                snprintf(msg, sizeof(msg), "%s", pg_copy_error(c));
        pg_copy_free(c);
        if (msg[0])
                fprintf(stderr, "# %d: %s\n", r, msg);
        return r;
}

static void test_redact_dsn_hides_passwords_in_conninfo_and_uri(void)
{
        char buf[512];
        pg_copy_redact_dsn("host=/run/postgresql dbname=shop user=tally password=s3cr3t", buf,
                           sizeof(buf));
        CHECK(strstr(buf, "s3cr3t") == NULL);
        CHECK(strstr(buf, "password=***") != NULL);
        CHECK(strstr(buf, "dbname=shop") != NULL);
        pg_copy_redact_dsn("postgresql://tally:s3cr3t@db.example/shop?sslmode=require", buf,
                           sizeof(buf));
        CHECK(strstr(buf, "s3cr3t") == NULL);
        CHECK(strstr(buf, "host=db.example") != NULL);
        pg_copy_redact_dsn("host='unterminated password=s3cr3t", buf, sizeof(buf));
        CHECK(strstr(buf, "s3cr3t") == NULL);
}

static const PgCopyColumn all_cols[] = {
    {"s", VALUE_STR},   {"v", VALUE_STR},   {"c", VALUE_STR},  {"n", VALUE_STR},  {"i2", VALUE_INT},
    {"i4", VALUE_INT},  {"i8", VALUE_INT},  {"f4", VALUE_NUM}, {"f8", VALUE_NUM}, {"nu", VALUE_NUM},
    {"ts", VALUE_TIME}, {"tz", VALUE_TIME}, {"d", VALUE_TIME},
};

static void check_all_types(PgCopyFormat format)
{
        Got g = {};
        const char *err;
        int r = run("", "SELECT * FROM all_types ORDER BY k", all_cols, ELEMENTSOF(all_cols),
                    format, 0, &g, &err);
        if (r != 0)
                fprintf(stderr, "# %s\n", err);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(g.rows, 3);
        CHECK_EQ_INT(g.bad, 0);
        Value *v = g.v[0];
        CHECK_STREQ(v[0].s, "h\xc3\xa9llo\ttab\\back\nnl");
        CHECK_EQ_INT(v[0].len, strlen("h\xc3\xa9llo\ttab\\back\nnl"));
        CHECK_STREQ(v[1].s, "var");
        CHECK_STREQ(v[2].s, "ab "); /* char(3) keeps its padding */
        CHECK_STREQ(v[3].s, "a_name");
        CHECK_EQ_INT(v[4].type, VALUE_INT);
        CHECK_EQ_INT(v[4].i, -32768);
        CHECK_EQ_INT(v[5].i, 2147483647);
        CHECK_EQ_INT(v[6].i, INT64_MIN);
        CHECK_EQ_INT(v[7].type, VALUE_NUM);
        CHECK(v[7].d == (double)1.5f);
        CHECK(v[8].d == 0.1);
        CHECK(v[9].d == 12345.678);
        CHECK_EQ_INT(v[10].type, VALUE_TIME);
        CHECK_EQ_INT(v[10].i, INT64_C(1714564800123456)); /* 2024-05-01T12:00:00.123456Z */
        CHECK_EQ_INT(v[11].i, INT64_C(1714564800000000)); /* 14:00+02 is 12:00Z */
        CHECK_EQ_INT(v[12].i, INT64_C(1714521600000000)); /* the date's midnight UTC */
        /* row 2: negatives, before 2000, tiny and huge numerics */
        v = g.v[1];
        CHECK_STREQ(v[0].s, "");
        CHECK_EQ_INT(v[0].type, VALUE_STR);
        CHECK(v[9].d == -0.000123);
        CHECK(v[8].d == 1e300);
        CHECK_EQ_INT(v[10].i, INT64_C(-86400000000)); /* 1969-12-31 */
        CHECK_EQ_INT(v[12].i, INT64_C(-86400000000));
        /* row 3: all NULL */
        for (size_t i = 0; i < ELEMENTSOF(all_cols); i++)
                CHECK_EQ_INT(g.v[2][i].type, VALUE_NIL);
}

static void test_all_types_and_nulls_binary(void)
{
        check_all_types(PG_COPY_BINARY);
}

static void test_all_types_and_nulls_text(void)
{
        check_all_types(PG_COPY_TEXT);
}

static void check_undecodable(PgCopyFormat format)
{
        static const PgCopyColumn cols[] = {{"k", VALUE_INT}, {"x", VALUE_NUM}, {"t", VALUE_TIME}};
        Got g = {};
        const char *err;
        int r = run("", "SELECT k, x, t FROM odd ORDER BY k", cols, 3, format, 0, &g, &err);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(g.rows, 2); /* k = 1 and 5 */
        CHECK_EQ_INT(g.v[0][0].i, 1);
        CHECK_EQ_INT(g.v[1][0].i, 5);
        CHECK_EQ_INT(g.bad, 3);
        CHECK_EQ_INT(g.bad_row[0], 2);
        CHECK_EQ_INT(g.bad_row[2], 4);
        for (int i = 0; i < 3; i++)
                CHECK(g.reason[i][0] != 0);
        if (format == PG_COPY_BINARY) {
                CHECK(strstr(g.reason[0], "NaN"));
                CHECK(strstr(g.reason[1], "infinity"));
                CHECK(strstr(g.reason[2], "infinity"));
        }
}

static void test_nan_and_infinity_are_bad_rows_binary(void)
{
        check_undecodable(PG_COPY_BINARY);
}

static void test_nan_and_infinity_are_bad_rows_text(void)
{
        check_undecodable(PG_COPY_TEXT);
}

/* numerics past the exact fast path (long mantissas, large exponents) round as strtod */
static void test_numeric_rounds_like_strtod(void)
{
        static const char *const lits[] = {"123456789012345678901234567890.123",
                                           "1e-30",
                                           "0",
                                           "-9007199254740993",
                                           "0.1",
                                           "1e22",
                                           "1e23",
                                           "-12345678901234567.5",
                                           "3.14159265358979323846"};
        static const PgCopyColumn cols[] = {{"x", VALUE_NUM}};
        for (int f = 0; f < 2; f++)
                for (size_t i = 0; i < ELEMENTSOF(lits); i++) {
                        char q[128];
                        snprintf(q, sizeof(q), "SELECT %s::numeric AS x", lits[i]);
                        Got g = {};
                        const char *err;
                        CHECK_EQ_INT(
                            run("", q, cols, 1, f ? PG_COPY_TEXT : PG_COPY_BINARY, 0, &g, &err), 0);
                        CHECK_EQ_INT(g.rows, 1);
                        double want = strtod(lits[i], NULL);
                        if (g.v[0][0].d != want)
                                fprintf(stderr, "# %s: %.17g, want %.17g\n", lits[i], g.v[0][0].d,
                                        want);
                        CHECK(g.v[0][0].d == want);
                }
}

static void test_columns_by_name_in_declared_order_extra_ignored(void)
{
        static const PgCopyColumn cols[] = {{"i", VALUE_INT}, {"s", VALUE_STR}};
        Got g = {};
        const char *err;
        int r = run("", "SELECT 1 AS x, 'a'::text AS s, 2::int AS i;  \n", cols, 2, PG_COPY_BINARY,
                    0, &g, &err);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(g.rows, 1);
        CHECK_EQ_INT(g.v[0][0].i, 2);
        CHECK_STREQ(g.v[0][1].s, "a");
}

static void test_type_mismatch_names_both(void)
{
        static const PgCopyColumn cols[] = {{"amount", VALUE_INT}};
        const char *err;
        int r = run("", "SELECT 'x'::text AS amount", cols, 1, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EMEDIUMTYPE);
        CHECK(strstr(err, "\"amount\""));
        CHECK(strstr(err, "is int"));
        CHECK(strstr(err, "gives text"));
        /* boolean maps to nothing */
        static const PgCopyColumn b[] = {{"flag", VALUE_STR}};
        r = run("", "SELECT true AS flag", b, 1, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EMEDIUMTYPE);
        CHECK(strstr(err, "boolean"));
}

static void test_missing_column_names_both(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}, {"region", VALUE_STR}};
        const char *err;
        int r =
            run("", "SELECT 1 AS a, 'x'::text AS regoin", cols, 2, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EMEDIUMTYPE);
        CHECK(strstr(err, "\"region\""));
        CHECK(strstr(err, "regoin"));
}

static void test_unknown_table_is_a_query_error_with_sqlstate(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        const char *err;
        int r = run("", "SELECT a FROM no_such_table", cols, 1, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EREMOTEIO);
        CHECK(strstr(err, "no_such_table"));
        CHECK(strstr(err, "42P01"));
}

static void test_cannot_connect(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        const char *err;
        int r = run("host=/nonexistent-tally-socket-dir password=hunter2", "SELECT 1 AS a", cols, 1,
                    PG_COPY_BINARY, now_monotonic_usec() + 5 * USEC_PER_SEC, NULL, &err);
        CHECK_EQ_INT(r, -ECONNREFUSED);
        CHECK(strstr(err, "cannot connect"));
        CHECK(strstr(err, "hunter2") == NULL);
        r = run("this is not a dsn password=hunter2", "SELECT 1 AS a", cols, 1, PG_COPY_BINARY, 0,
                NULL, &err);
        CHECK_EQ_INT(r, -EINVAL);
        CHECK(strstr(err, "hunter2") == NULL);
}

static void test_wrong_password_is_an_authentication_failure(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        const char *err;
        setenv("PGPASSFILE", "/nonexistent", 1);
        int r = run("user=tally_pw password=wrong-secret", "SELECT 1 AS a", cols, 1, PG_COPY_BINARY,
                    0, NULL, &err);
        CHECK_EQ_INT(r, -EACCES);
        CHECK(strstr(err, "authentication failed"));
        CHECK(strstr(err, "wrong-secret") == NULL);
        CHECK(strstr(err, "password=***"));
        /* and with no password anywhere */
        r = run("user=tally_pw", "SELECT 1 AS a", cols, 1, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EACCES);
        CHECK(strstr(err, "none was found"));
}

static void test_password_from_pgpassfile(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        char path[] = "/tmp/tally-pgpass.XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        static const char line[] = "*:*:*:tally_pw:right-secret\n";
        CHECK(write(fd, line, sizeof(line) - 1) == (ssize_t)sizeof(line) - 1);
        close(fd);
        setenv("PGPASSFILE", path, 1);
        Got g = {};
        const char *err;
        int r = run("user=tally_pw", "SELECT 41 + 1 AS a", cols, 1, PG_COPY_BINARY, 0, &g, &err);
        unlink(path);
        unsetenv("PGPASSFILE");
        if (r)
                fprintf(stderr, "# %s\n", err);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(g.rows, 1);
        CHECK_EQ_INT(g.v[0][0].i, 42);
}

static void test_statement_timeout(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        const char *err;
        uint64_t t0 = now_monotonic_usec();
        int r = run("", "SELECT 1 AS a FROM pg_sleep(30)", cols, 1, PG_COPY_BINARY,
                    t0 + 1500 * USEC_PER_MSEC, NULL, &err);
        uint64_t took = now_monotonic_usec() - t0;
        CHECK_EQ_INT(r, -ETIME);
        CHECK(strstr(err, "statement timeout"));
        CHECK(strstr(err, "57014")); /* the server's timeout, not our backstop */
        CHECK(took < 4 * USEC_PER_SEC);
}

static void test_a_locked_table_times_out_before_the_first_row(void)
{
        static const PgCopyColumn cols[] = {{"k", VALUE_INT}};
        const char *err;
        sql("BEGIN");
        sql("LOCK TABLE odd IN ACCESS EXCLUSIVE MODE");
        uint64_t t0 = now_monotonic_usec();
        int r =
            run("", "SELECT k FROM odd", cols, 1, PG_COPY_BINARY, t0 + USEC_PER_SEC, NULL, &err);
        uint64_t took = now_monotonic_usec() - t0;
        sql("ROLLBACK");
        CHECK_EQ_INT(r, -ETIME);
        CHECK(strstr(err, "57014"));
        CHECK(took < 3 * USEC_PER_SEC);
}

static void test_terminate_backend_midway(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        Got g = {.kill_after = 1000};
        const char *err;
        int r =
            run("application_name=tally-victim", "SELECT generate_series(1, 200000000)::int8 AS a",
                cols, 1, PG_COPY_BINARY, 0, &g, &err);
        CHECK_EQ_INT(r, -ECONNRESET);
        CHECK(strstr(err, "ended the stream"));
        CHECK(g.rows >= 1000);
        CHECK(g.rows < 200000000);
}

static void test_session_is_read_only(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        const char *err;
        int r = run("", "SELECT nextval('a_seq') AS a", cols, 1, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EREMOTEIO);
        CHECK(strstr(err, "25006"));
}

static void test_stop_flag_and_callback_stop(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        static volatile sig_atomic_t stop;
        Got g = {.stop = &stop, .stop_at = 10};
        const char *err;
        int r = run("", "SELECT generate_series(1, 200000000)::int8 AS a", cols, 1, PG_COPY_BINARY,
                    0, &g, &err);
        CHECK_EQ_INT(r, -ECANCELED);
        CHECK_EQ_INT(g.rows, 10);
        Got h = {.stop_after = 3};
        r = run("", "SELECT generate_series(1, 200000000)::int8 AS a", cols, 1, PG_COPY_TEXT, 0, &h,
                &err);
        CHECK_EQ_INT(r, 7);
        CHECK_EQ_INT(h.rows, 3);
}

static void test_a_query_that_is_not_one_select(void)
{
        static const PgCopyColumn cols[] = {{"a", VALUE_INT}};
        const char *err;
        int r = run("", "SELECT 1 AS a; SELECT 2 AS a", cols, 1, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EREMOTEIO);
        r = run("", " ;; ", cols, 1, PG_COPY_BINARY, 0, NULL, &err);
        CHECK_EQ_INT(r, -EREMOTEIO);
}

static void setup(void)
{
        admin = PQconnectdb("");
        if (PQstatus(admin) != CONNECTION_OK) {
                fprintf(stderr, "# cannot connect to the test cluster: %s", PQerrorMessage(admin));
                exit(1);
        }
        sql("SET client_min_messages = warning");
        sql("DROP TABLE IF EXISTS all_types, odd; DROP SEQUENCE IF EXISTS a_seq; "
            "DROP ROLE IF EXISTS tally_pw");
        sql("CREATE ROLE tally_pw LOGIN PASSWORD 'right-secret'");
        sql("CREATE SEQUENCE a_seq");
        sql("CREATE TABLE all_types (k int, s text, v varchar(10), c char(3), n name, "
            "i2 int2, i4 int4, i8 int8, f4 real, f8 float8, nu numeric, ts timestamp, "
            "tz timestamptz, d date)");
        sql("INSERT INTO all_types VALUES "
            "(1, E'h\\u00e9llo\\ttab\\\\back\\nnl', 'var', 'ab', 'a_name', -32768, 2147483647, "
            " -9223372036854775808, 1.5, 0.1, 12345.678, '2024-05-01 12:00:00.123456', "
            " '2024-05-01 14:00:00+02', '2024-05-01'), "
            "(2, '', 'x', 'x', 'x', 0, 0, 0, 0, 1e300, -0.000123, '1969-12-31 00:00:00', "
            " '1969-12-31 00:00:00+00', '1969-12-31'), "
            "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)");
        sql("CREATE TABLE odd (k int, x numeric, t timestamptz)");
        sql("INSERT INTO odd VALUES (1, 1, now()), (2, 'NaN', now()), (3, 'Infinity', now()), "
            "(4, 2, 'infinity'), (5, 3, now())");
        sql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO tally_pw");
}

static void test_setup(void)
{
        setup();
}

TEST_MAIN(TEST_CASE(test_setup), TEST_CASE(test_redact_dsn_hides_passwords_in_conninfo_and_uri),
          TEST_CASE(test_all_types_and_nulls_binary), TEST_CASE(test_all_types_and_nulls_text),
          TEST_CASE(test_nan_and_infinity_are_bad_rows_binary),
          TEST_CASE(test_nan_and_infinity_are_bad_rows_text),
          TEST_CASE(test_numeric_rounds_like_strtod),
          TEST_CASE(test_columns_by_name_in_declared_order_extra_ignored),
          TEST_CASE(test_type_mismatch_names_both), TEST_CASE(test_missing_column_names_both),
          TEST_CASE(test_unknown_table_is_a_query_error_with_sqlstate),
          TEST_CASE(test_cannot_connect),
          TEST_CASE(test_wrong_password_is_an_authentication_failure),
          TEST_CASE(test_password_from_pgpassfile), TEST_CASE(test_statement_timeout),
          TEST_CASE(test_a_locked_table_times_out_before_the_first_row),
          TEST_CASE(test_terminate_backend_midway), TEST_CASE(test_session_is_read_only),
          TEST_CASE(test_stop_flag_and_callback_stop),
          TEST_CASE(test_a_query_that_is_not_one_select))
