/* bench/pg-copy: one pg_copy run over the bench's events table, in the COPY format named
 * by argv[1] ("binary" or "text"); prints rows, wall and CPU seconds. The libpq defaults
 * (PGHOST …) name the server; bench/pg-copy starts one. */
#include <inttypes.h>
#include <time.h>

#include "pg_copy.h"

static int on_row(void *ud, const Value *row, size_t n)
{
        double *sum = ud;
        *sum += row[4].d + (double)row[3].i + (double)row[1].len;
        return 0;
}

int main(int argc, char **argv)
{
        static const PgCopyColumn cols[] = {
            {"ts", VALUE_TIME},     {"region", VALUE_STR}, {"product", VALUE_STR},
            {"user_id", VALUE_INT}, {"amount", VALUE_NUM}, {"latency_ms", VALUE_NUM},
            {"status", VALUE_STR},
        };
        PgCopyOptions o = {
            .dsn = "",
            .query = "SELECT ts, region, product, user_id, amount, latency_ms, status FROM events",
            .columns = cols,
            .n_columns = ELEMENTSOF(cols),
            .format = argc > 1 && strcmp(argv[1], "text") == 0 ? PG_COPY_TEXT : PG_COPY_BINARY,
        };
        uint64_t t0 = now_monotonic_usec(), c0 = now_usec(CLOCK_PROCESS_CPUTIME_ID);
        PgCopy *c = NULL;
        char *err = NULL;
        if (pg_copy_open(&o, &c, &err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        double sum = 0;
        if (pg_copy_stream(c, on_row, NULL, &sum) < 0) {
                fprintf(stderr, "%s\n", pg_copy_error(c));
                return 1;
        }
        printf("%s %" PRIu64 " rows %.3f s wall %.3f s cpu checksum %.17g\n",
               o.format == PG_COPY_TEXT ? "text" : "binary", pg_copy_rows(c),
               (double)(now_monotonic_usec() - t0) / 1e6,
               (double)(now_usec(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e6, sum);
        pg_copy_free(c);
        return 0;
}
