/* bench/scan-limit: how close is the worker's CSV tokenizer to the memory-scan limit?
 *
 * Reads FILE into memory once, then, on one thread, times (best of RUNS passes each):
 *   memchr  - a plain scan for '\n' with memchr: the floor any line-oriented parser pays
 *   csv     - the worker's csv_next() over the same bytes, every field cut (no conversion)
 * and prints bytes/s for both and their ratio. Times are the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so a machine shared with other work still gives per-core rates. Built
 * only with `meson -Dbench=true` (bench/meson.build), with the project's own flags, so the numbers
 * are the worker's.
 *
 *   scan-limit FILE [RUNS]     (RUNS defaults to 5) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"

/* CPU seconds of this thread */
static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *ret_len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 1 << 20, len = 0;
        char *buf = malloc(cap);
        for (size_t k; buf && (k = fread(buf + len, 1, cap - len, f)) > 0;) {
                len += k;
                if (len == cap) {
                        char *nb = realloc(buf, cap *= 2);
                        if (!nb)
                                free(buf);
                        buf = nb;
                }
        }
        fclose(f);
        *ret_len = len;
        return buf;
}

/* keeps the compiler from dropping the work */
static volatile uint64_t sink;

static uint64_t scan_memchr(const char *buf, size_t len)
{
        uint64_t lines = 0;
        for (const char *p = buf, *end = buf + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
                lines++;
        return lines;
}

static uint64_t scan_csv(const char *buf, size_t len)
{
        CsvCursor c;
        CsvField fields[64];
        uint64_t records = 0, bytes = 0;
        csv_cursor_init(&c, buf, len, true);
        for (;;) {
                size_t n = 0;
                int r = csv_next(&c, fields, 64, &n);
                if (r == CSV_END || r < CSV_BAD_QUOTE - 1)
                        break;
                if (r == CSV_RECORD) {
                        records++;
                        bytes += fields[n > 64 ? 63 : n - 1].len;
                }
        }
        csv_cursor_done(&c);
        sink += bytes;
        return records;
}

int main(int argc, char **argv)
{
        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: %s FILE [RUNS]\n", argv[0]);
                return 64;
        }
        int runs = argc == 3 ? atoi(argv[2]) : 5;
        if (runs < 1)
                runs = 1;
        size_t len;
        char *buf = slurp(argv[1], &len);
        if (!buf) {
                perror(argv[1]);
                return 1;
        }
        double best_m = 1e30, best_c = 1e30;
        uint64_t lines = 0, records = 0;
        for (int i = 0; i < runs; i++) {
                double t0 = now();
                lines = scan_memchr(buf, len);
                double t1 = now();
                records = scan_csv(buf, len);
                double t2 = now();
                best_m = t1 - t0 < best_m ? t1 - t0 : best_m;
                best_c = t2 - t1 < best_c ? t2 - t1 : best_c;
        }
        double gm = (double)len / best_m / 1e9, gc = (double)len / best_c / 1e9;
        printf("bytes %zu, lines %llu, records %llu, best of %d passes, one thread, CPU time\n",
               len, (unsigned long long)lines, (unsigned long long)records, runs);
        printf("memchr '\\n'  %.3f s  %.2f GB/s\n", best_m, gm);
        printf("csv_next     %.3f s  %.2f GB/s  (%.1f ns/record)\n", best_c, gc,
               best_c * 1e9 / (double)(records ? records : 1));
        printf("tokenizer at %.2fx the memchr scan's time (%.0f%% of its speed)\n", best_c / best_m,
               100 * gc / gm);
        free(buf);
        return 0;
}
