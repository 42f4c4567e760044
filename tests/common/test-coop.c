/* Cooperative yielding (coop.h): off, the chunked calls are the plain ones; on, long
 * work is cut into chunks and nothing of it is lost: a file read in chunks is the file,
 * the snapshot checksum streamed in chunks is the one-shot XXH3 (a snapshot reads the
 * same in a cooperating thread), an unmap in chunks unmaps all of it, and the thread
 * yields once per slice of CPU time, not on every point; the other side gives way only
 * while the work runs. */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <time.h>

#include "coop.h"
#include "read_file.h"
#include "snapshot_read.h"
#include "snapshot_write.h"
#include "test.h"

#define BIG (3 * COOP_CHUNK + 12345)

static void chunks_only_when_enabled(void)
{
        CHECK(coop_chunk(BIG) == BIG);
        coop_enable(100);
        CHECK(coop_chunk(BIG) == COOP_CHUNK);
        CHECK(coop_chunk(100) == 100);
        coop_enable(0);
        CHECK(coop_chunk(BIG) == BIG);
}

static void a_file_read_in_chunks_is_the_file(void)
{
        char path[] = "/tmp/tally-test-coop.XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        unlink(path);
        uint8_t *want = malloc(BIG), *got = malloc(BIG);
        for (size_t i = 0; i < BIG; i++)
                want[i] = (uint8_t)(i * 2654435761u >> 13);
        CHECK_EQ_INT(write_all(fd, want, BIG), 0);
        coop_enable(1);
        memset(got, 0, BIG);
        CHECK_EQ_INT(read_file_exact(fd, got, BIG), 0);
        CHECK(memcmp(want, got, BIG) == 0);
        /* a file shorter than asked for is still noticed */
        CHECK_EQ_INT(ftruncate(fd, BIG - 1), 0);
        CHECK_EQ_INT(read_file_exact(fd, got, BIG), READ_FILE_SHRANK);
        coop_enable(0);
        close(fd);
        free(want);
        free(got);
}

static void an_unmap_in_chunks_unmaps_all(void)
{
        size_t size = 5 * COOP_CHUNK + 4096;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(p != MAP_FAILED);
        memset(p, 1, size);
        coop_enable(1);
        coop_munmap(p, size);
        coop_enable(0);
        /* every page is gone: msync() on an unmapped range fails with ENOMEM */
        for (size_t at = 0; at < size; at += 4096)
                CHECK(msync(p + at, 4096, MS_ASYNC) < 0 && errno == ENOMEM);
}

/* A v2-sized snapshot (several chunks of payload) reads alike with and without. */
static void a_snapshot_reads_the_same_cooperating(void)
{
        char dir[] = "/tmp/tally-test-coop-dir.XXXXXX";
        /* dir is also the writer's target */
        CHECK(mkdtemp(dir));
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dirfd >= 0);
        SnapshotWriter *w = NULL;
        CHECK_EQ_INT(snapshot_writer_new(&w), 0);
        SnapshotColumn cols[] = {{"k", VALUE_STR}, {"n", VALUE_INT}};
        size_t rows = 100000;
        snapshot_writer_begin_view(w, "v", 1, 2, cols, rows);
        for (size_t i = 0; i < rows; i++) {
                char k[24];
                snprintf(k, sizeof(k), "key-%zu", i);
                snapshot_writer_put_str(w, k, strlen(k));
                snapshot_writer_put_int(w, (int64_t)i);
        }
        snapshot_writer_end_view(w);
        uint64_t gen = 0;
        CHECK_EQ_INT(snapshot_writer_publish(w, dir, 10, 0, &gen, NULL), 0);
        snapshot_writer_free(w);
        char name[SNAPSHOT_NAME_MAX];
        snapshot_name(name, sizeof(name), gen);
        for (int on = 0; on < 2; on++) {
                coop_enable(on ? 1 : 0);
                Snapshot *s = NULL;
                void *image = NULL;
                size_t size = 0;
                char reason[256] = "";
                int r = snapshot_read_file_image(dirfd, name, UINT64_MAX, 0, &s, &image, &size,
                                                 reason, sizeof(reason));
                CHECK_EQ_INT(r, 0);
                CHECK(size > 2 * COOP_CHUNK);
                CHECK(s && s->n_views == 1 && s->views[0].n_rows == rows);
                snapshot_free(s);
                munmap(image, size);
        }
        coop_enable(0);
        close(dirfd);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)!system(cmd);
}

static uint64_t cpu_nsec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Yields come once per slice of CPU time, not once per point: 40 ms of CPU with a 1 ms
 * slice over thousands of points is at most 40 yields (each after at least 1 ms), and not
 * many fewer: a slice ends at the first point past its 1 ms, so it lasts at most 1 ms plus
 * the longest stretch between two points (two of the loop's steps, to be safe). That
 * stretch is measured, not assumed: on a loaded VM the CPU clock is charged in jumps
 * (interrupts and the host's steal count as the running thread's time) and a CI run saw
 * 17 yields in 40 ms where a quiet one sees 39. */
static void yields_once_per_slice(void)
{
        coop_enable(1000);
        uint64_t y0 = coop_yields(), t0 = cpu_nsec(), prev = t0, longest = 0, now;
        unsigned long points = 0;
        while ((now = cpu_nsec()) - t0 < 40 * 1000000u) {
                longest = MAX(longest, now - prev);
                prev = now;
                coop_point();
                points++;
        }
        uint64_t n = coop_yields() - y0;
        coop_enable(0);
        uint64_t slice_max = 1000000u + 2 * longest, fit = 40 * 1000000u / slice_max;
        uint64_t at_least = fit > 1 ? fit - 1 : 0;
        printf("# %" PRIu64 " yields over %lu points in 40 ms of CPU with a 1 ms slice "
               "(longest step %" PRIu64 " us: at least %" PRIu64 ")\n",
               n, points, longest / 1000, at_least);
        CHECK(points > 1000);
        CHECK(n <= 40);
        CHECK(n >= at_least && n >= 1);
        /* off, none */
        y0 = coop_yields();
        for (int i = 0; i < 100000; i++)
                coop_point();
        CHECK(coop_yields() == y0);
}

/* The busy side gives way only while some cooperating work is in progress (begin/end
 * nest), and at most once per COOP_GIVE_WAY_NSEC of the clock it passes, however often it
 * is called: here a clock going 100 us per call, over 10 ms, gives way 10 times. */
static void gives_way_only_while_busy(void)
{
        uint64_t now = 1000 * COOP_GIVE_WAY_NSEC, g0 = coop_gave_way();
        for (int i = 0; i < 100; i++, now += COOP_GIVE_WAY_NSEC / 10)
                coop_give_way(now);
        CHECK(coop_gave_way() == g0);
        coop_busy_begin();
        coop_busy_begin();
        coop_busy_end(); /* one still at work */
        for (int i = 0; i < 100; i++, now += COOP_GIVE_WAY_NSEC / 10)
                coop_give_way(now);
        uint64_t n = coop_gave_way() - g0;
        coop_busy_end();
        printf("# gave way %" PRIu64 " times over 10 ms in 100 calls\n", n);
        CHECK(n == 10);
        g0 = coop_gave_way();
        for (int i = 0; i < 100; i++, now += COOP_GIVE_WAY_NSEC)
                coop_give_way(now);
        CHECK(coop_gave_way() == g0);
}

TEST_MAIN(TEST_CASE(chunks_only_when_enabled), TEST_CASE(a_file_read_in_chunks_is_the_file),
          TEST_CASE(an_unmap_in_chunks_unmaps_all),
          TEST_CASE(a_snapshot_reads_the_same_cooperating), TEST_CASE(yields_once_per_slice),
          TEST_CASE(gives_way_only_while_busy))
