/* Benchmark helper: times each phase of loading one snapshot file the way tallyd does,
 * medians over RUNS (default 15), so a change to loading is measured, not guessed.
 *
 *   snapload FILE [RUNS]
 *
 * v1 (and v2 decoded whole): read, checksum + decode, row index, render (JSON, msgpack,
 * gzip; gzip also timed alone). v2 as tallyd loads it: read + checksum + shape checks +
 * bounds checks (snapshot_read_file_image), then adopting the bodies. */
#include <fcntl.h>
#include <libdeflate.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "served.h"
#include "snapshot_read.h"

#define MAX_RUNS 101

static int cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *t, size_t n)
{
        qsort(t, n, sizeof(*t), cmp);
        printf("%-34s median %8.2f ms   min %8.2f ms\n", what, (double)t[n / 2] / 1000.0,
               (double)t[0] / 1000.0);
}

int main(int argc, char **argv)
{
        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: snapload FILE [RUNS]\n");
                return 64;
        }
        size_t runs = argc == 3 ? strtoul(argv[2], NULL, 10) : 15;
        if (runs < 1 || runs > MAX_RUNS)
                runs = 15;
        char *slash = strrchr(argv[1], '/');
        const char *name = slash ? slash + 1 : argv[1];
        _cleanup_free_ char *dir =
            slash ? strndup(argv[1], (size_t)(slash - argv[1])) : strdup(".");
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                perror(dir);
                return 1;
        }
        static uint64_t t[8][MAX_RUNS];
        unsigned version = 0;
        size_t bytes = 0;
        for (size_t it = 0; it < runs; it++) {
                char reason[256] = "";
                /* 1. whole file into memory (the reader's pread loop, timed alone) */
                uint64_t t0 = now_monotonic_usec();
                int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        perror(name);
                        return 1;
                }
                bytes = (size_t)st.st_size;
                char *buf = malloc(bytes);
                size_t got = 0;
                while (buf && got < bytes) {
                        ssize_t k = pread(fd, buf + got, bytes - got, (off_t)got);
                        if (k <= 0)
                                return 1;
                        got += (size_t)k;
                }
                close(fd);
                uint64_t t1 = now_monotonic_usec();
                volatile uint64_t h = XXH3_64bits(buf, bytes);
                (void)h;
                uint64_t t2 = now_monotonic_usec();
                /* 2. checksum + decode of everything, rows included (v1's only way) */
                Snapshot *s = NULL;
                if (snapshot_read_buffer(buf, bytes, &s, reason, sizeof(reason)) < 0) {
                        fprintf(stderr, "%s: %s\n", name, reason);
                        return 1;
                }
                version = s->version;
                uint64_t t3 = now_monotonic_usec();
                Arena *a = NULL;
                if (arena_new(&a) < 0)
                        return 1;
                RowIndex ix;
                for (size_t i = 0; i < s->n_views; i++)
                        (void)row_index_build(a, &s->views[i], &ix);
                uint64_t t4 = now_monotonic_usec();
                Served *sv = NULL;
                if (served_new(s, &sv) < 0)
                        return 1;
                uint64_t t5 = now_monotonic_usec();
                struct libdeflate_compressor *c = libdeflate_alloc_compressor(2);
                for (size_t i = 0; c && i < sv->n_views; i++) {
                        Piece p = sv->views[i].json.full;
                        size_t bound = libdeflate_gzip_compress_bound(c, p.len);
                        char *o = malloc(bound);
                        if (o)
                                (void)libdeflate_gzip_compress(c, p.p, p.len, o, bound);
                        free(o);
                }
                libdeflate_free_compressor(c);
                uint64_t t6 = now_monotonic_usec();
                served_unref(sv);
                arena_free(a);
                snapshot_free(s);
                free(buf);
                t[0][it] = t1 - t0;
                t[1][it] = t2 - t1;
                t[2][it] = t3 - t2;
                t[3][it] = t4 - t3;
                t[4][it] = t5 - t4;
                t[5][it] = t6 - t5;
                if (version != SNAPSHOT_FORMAT_VERSION_BODIES)
                        continue;
                /* 3. v2 as tallyd loads it */
                uint64_t u0 = now_monotonic_usec();
                void *img;
                size_t size;
                if (snapshot_read_file_image(dfd, name, SNAPSHOT_MAX_FILE_BYTES,
                                             SNAPSHOT_READ_BODIES_ONLY, &s, &img, &size, reason,
                                             sizeof(reason)) < 0) {
                        fprintf(stderr, "%s: %s\n", name, reason);
                        return 1;
                }
                uint64_t u1 = now_monotonic_usec();
                if (served_new_prerendered(s, img, size, &sv) < 0)
                        return 1;
                uint64_t u2 = now_monotonic_usec();
                snapshot_free(s);
                served_unref(sv);
                t[6][it] = u1 - u0;
                t[7][it] = u2 - u1;
        }
        printf("%s: version %u, %zu bytes, %zu runs\n", name, version, bytes, runs);
        report("read (pread whole file)", t[0], runs);
        report("xxh3 over the file", t[1], runs);
        report("checksum + decode with rows", t[2], runs);
        report("row index", t[3], runs);
        report("render all (index+JSON+mp+gzip)", t[4], runs);
        report("  of which gzip (JSON views)", t[5], runs);
        if (version == SNAPSHOT_FORMAT_VERSION_BODIES) {
                report("v2: read + validate (tallyd)", t[6], runs);
                report("v2: adopt bodies (tallyd)", t[7], runs);
                for (size_t i = 0; i < runs; i++)
                        t[6][i] += t[7][i];
                report("v2: whole load (tallyd)", t[6], runs);
        }
        return 0;
}
