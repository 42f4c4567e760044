/* Test and benchmark helper: publishes snapshots into a directory through the real
 * writer (common/snapshot_write.h), so tallyd can be tested without tally-worker.
 *
 *   mksnap DIR [--rows N] [--q1] [--seed S] [--keep K] [--views N] [--series B] [--v1]
 *   mksnap DIR --corrupt     publish garbage under the next generation's name
 *
 * View "sales" is keyed by region, product; --q1 adds the worker issue's Q1 aggregates
 * (avg/min/max/p95/distinct). Values depend on --seed so tests can see a change. Rows are
 * written in key order, as tally-worker writes them. --series B adds view "series" keyed
 * by (region, bucket: time) with B five-minute buckets from 2026-01-01T00:00:00Z per
 * region, and for eu-west first a row with no bucket. Snapshots are version 2 (bodies
 * rendered, as the worker writes them); --v1 writes the old version, which tallyd still
 * loads. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>

#include "prerender.h"
#include "snapshot_dir.h"
#include "snapshot_write.h"

static const char *const regions[] = {"eu-west",  "eu-north", "us-east", "us-west",
                                      "ap-south", "ap-east",  "sa-east", "af-south"};

static int put_row(SnapshotWriter *w, size_t i, uint64_t seed, bool q1)
{
        char product[32];
        const char *region = regions[i % 8];
        snprintf(product, sizeof(product), "p%05zu", i / 8);
        uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed * 0xBF58476D1CE4E5B9ull;
        int64_t count = (int64_t)(h % 1000) + 1;
        double sum = (double)(h % 100000) / 100.0 + (double)seed;
        int r = 0;
        r |= snapshot_writer_put_str(w, region, strlen(region));
        r |= snapshot_writer_put_str(w, product, strlen(product));
        r |= snapshot_writer_put_int(w, count);
        r |= snapshot_writer_put_num(w, sum);
        if (q1) {
                r |= snapshot_writer_put_num(w, sum / (double)count);
                r |= snapshot_writer_put_num(w, (double)(h % 97) / 3.0);
                r |= snapshot_writer_put_num(w, 90.0 + (double)(h % 1000) / 100.0);
                r |= snapshot_writer_put_num(w, 100.0 + (double)(h % 5000) / 10.0);
                r |= snapshot_writer_put_int(w, count - (int64_t)(h % (uint64_t)count));
        }
        return r < 0 ? -EINVAL : 0;
}

/* Indices into regions[] in name order. */
static void regions_by_name(size_t out[8])
{
        for (size_t a = 0; a < 8; a++) { /* 8 names: insertion sort */
                size_t b = a;
                for (; b > 0 && strcmp(regions[a], regions[out[b - 1]]) < 0; b--)
                        out[b] = out[b - 1];
                out[b] = a;
        }
}

/* Row numbers of "sales" in key order: region (by name), then product. */
static size_t *key_order(size_t rows)
{
        size_t *order = malloc((rows + 1) * sizeof(size_t)), n = 0, by_name[8];
        if (!order)
                return NULL;
        regions_by_name(by_name);
        for (size_t k = 0; k < 8; k++)
                for (size_t i = by_name[k]; i < rows; i += 8)
                        order[n++] = i;
        return order;
}

static int put_series(SnapshotWriter *w, size_t buckets, uint64_t seed)
{
        SnapshotColumn cols[] = {{"region", VALUE_STR},
                                 {"bucket", VALUE_TIME},
                                 {"count", VALUE_INT},
                                 {"sum", VALUE_NUM}};
        size_t order[8];
        regions_by_name(order);
        int r = snapshot_writer_begin_view(w, "series", 2, 4, cols, 8 * buckets + 1);
        for (size_t k = 0; k < 8 && r >= 0; k++) {
                const char *region = regions[order[k]];
                if (strcmp(region, "eu-west") == 0) {
                        r |= snapshot_writer_put_str(w, region, strlen(region));
                        r |= snapshot_writer_put_nil(w);
                        r |= snapshot_writer_put_int(w, 1);
                        r |= snapshot_writer_put_num(w, 0.25);
                }
                for (size_t b = 0; b < buckets; b++) {
                        r |= snapshot_writer_put_str(w, region, strlen(region));
                        r |= snapshot_writer_put_time(w, 1767225600000000 + (int64_t)b * 300000000);
                        r |= snapshot_writer_put_int(w, (int64_t)(b + k + seed));
                        r |= snapshot_writer_put_num(w, (double)b / 4.0 + (double)k);
                }
        }
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        return r < 0 ? -EINVAL : 0;
}

static int corrupt(const char *dir)
{
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        uint64_t newest = 0;
        snapshot_dir_newest(dfd, &newest);
        char name[SNAPSHOT_NAME_MAX], tmp[SNAPSHOT_NAME_MAX + 8];
        snapshot_name(name, sizeof(name), newest + 1);
        snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        static const char junk[] = "\x94\xaetally.snapshot\x01\xc4\x03"
                                   "abc\xcf\0\0\0\0\0\0\0\1";
        if (write(fd, junk, sizeof(junk) - 1) < 0 || close(fd) < 0 ||
            renameat(dfd, tmp, dfd, name) < 0)
                return -errno;
        close(dfd);
        printf("%" PRIu64 "\n", newest + 1);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
            {"rows", required_argument, NULL, 'r'},
            {"q1", no_argument, NULL, 'q'},
            {"seed", required_argument, NULL, 's'},
            {"keep", required_argument, NULL, 'k'},
            {"views", required_argument, NULL, 'v'},
            {"corrupt", no_argument, NULL, 'x'},
            {"series", required_argument, NULL, 'b'},
            {"v1", no_argument, NULL, '1'},
            {},
        };
        size_t rows = 16, views = 1, series = 0;
        uint64_t seed = 1;
        unsigned keep = 3;
        bool q1 = false, bad = false, v1 = false;
        int c;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'r': rows = strtoull(optarg, NULL, 10); break;
                case 'q': q1 = true; break;
                case 's': seed = strtoull(optarg, NULL, 10); break;
                case 'k': keep = (unsigned)strtoul(optarg, NULL, 10); break;
                case 'v': views = strtoull(optarg, NULL, 10); break;
                case 'x': bad = true; break;
                case '1': v1 = true; break;
                case 'b': series = strtoull(optarg, NULL, 10); break;
                default: return 2;
                }
        }
        if (optind + 1 != argc) {
                fprintf(stderr, "usage: mksnap DIR [--rows N] [--q1] [--seed S] [--keep K] "
                                "[--views N] [--series B] [--v1] [--corrupt]\n");
                return 2;
        }
        const char *dir = argv[optind];
        if (bad) {
                int r = corrupt(dir);
                if (r < 0)
                        fprintf(stderr, "mksnap: %s\n", strerror(-r));
                return r < 0;
        }
        SnapshotColumn cols[] = {
            {"region", VALUE_STR},
            {"product", VALUE_STR},
            {"count", VALUE_INT},
            {"sum(amount)", VALUE_NUM},
            {"avg(amount)", VALUE_NUM},
            {"min(amount)", VALUE_NUM},
            {"max(amount)", VALUE_NUM},
            {"p95(latency_ms)", VALUE_NUM},
            {"distinct(user_id)", VALUE_INT},
        };
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        if (snapshot_writer_new(&w) < 0)
                return 1;
        if (!v1)
                snapshot_writer_set_transform(w, prerender_transform, 0);
        SnapshotStats st = {
            .rows_read = rows * 10, .rows_rejected = 1, .duration_ms = 5, .host = "mksnap"};
        snapshot_writer_set_stats(w, &st);
        SnapshotSource src = {.name = "events",
                              .type = "csv",
                              .files = 1,
                              .rows_read = rows * 10,
                              .rows_rejected = 1};
        if (snapshot_writer_add_source(w, &src) < 0)
                return 1;
        _cleanup_free_ size_t *order = key_order(rows);
        if (!order)
                return 1;
        for (size_t v = 0; v < views; v++) {
                char name[32];
                if (v == 0)
                        snprintf(name, sizeof(name), "sales");
                else
                        snprintf(name, sizeof(name), "view%zu", v);
                if (snapshot_writer_begin_view(w, name, 2, q1 ? 9 : 4, cols, rows) < 0)
                        return 1;
                for (size_t i = 0; i < rows; i++)
                        if (put_row(w, order[i], seed, q1) < 0)
                                return 1;
                if (snapshot_writer_end_view(w) < 0)
                        return 1;
        }
        if (series && put_series(w, series, seed) < 0)
                return 1;
        uint64_t gen = 0;
        int r = snapshot_writer_publish(w, dir, keep, 0, &gen, NULL);
        if (r < 0) {
                fprintf(stderr, "mksnap: publish: %s\n", strerror(-r));
                return 1;
        }
        printf("%" PRIu64 "\n", gen);
        return 0;
}
