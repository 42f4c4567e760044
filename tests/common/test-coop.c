/* Cooperative yielding (coop.h): off, the chunked calls are the plain ones; on, long
 * work is cut into chunks and nothing of it is lost: a file read in chunks is the file,
 * the snapshot checksum streamed in chunks is the one-shot XXH3 (a snapshot reads the
 * same in a cooperating thread), an unmap in chunks unmaps all of it, and the thread
 * yields once per slice of CPU time, not on every point. */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>

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

static atomic_bool spin_stop;

static void *spinner(void *arg)
{
        (void)arg;
        while (!atomic_load(&spin_stop))
                ;
        return NULL;
}

static uint64_t cpu_nsec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Context switches over 40 ms of this thread's CPU time, spinning on coop_point() with a
 * slice of slice_usec (0: off). A yield leaves the thread runnable, so it counts as an
 * involuntary switch, as a preemption at a tick does. */
static long switches_spinning(uint64_t slice_usec, unsigned long *points)
{
        struct rusage a, b;
        coop_enable(slice_usec);
        getrusage(RUSAGE_THREAD, &a);
        uint64_t t0 = cpu_nsec();
        *points = 0;
        while (cpu_nsec() - t0 < 40 * 1000000u) {
                coop_point();
                (*points)++;
        }
        getrusage(RUSAGE_THREAD, &b);
        coop_enable(0);
        return b.ru_nivcsw - a.ru_nivcsw;
}

typedef struct Measure {
        long off, on;
        unsigned long p_off, p_on;
} Measure;

/* As tallyd's loader: 10 nice levels below the thread it shares the core with. */
static void *measure(void *arg)
{
        Measure *m = arg;
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
        m->off = switches_spinning(0, &m->p_off);
        m->on = switches_spinning(1000, &m->p_on);
        return NULL;
}

/* Sharing one CPU with a busy thread at a higher priority, as the loader shares the event
 * loop's, a 1 ms slice gives the CPU back about 40 times over 40 ms of CPU on top of the
 * preemptions the ticks make anyway, and not once per point (thousands). */
static void yields_once_per_slice(void)
{
        cpu_set_t one, all;
        CHECK(sched_getaffinity(0, sizeof(all), &all) == 0);
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &all)) {
                        CPU_SET(c, &one);
                        break;
                }
        CHECK(sched_setaffinity(0, sizeof(one), &one) == 0); /* the threads inherit it */
        atomic_store(&spin_stop, false);
        pthread_t s, t;
        Measure m = {0};
        CHECK(pthread_create(&s, NULL, spinner, NULL) == 0);
        CHECK(pthread_create(&t, NULL, measure, &m) == 0);
        pthread_join(t, NULL);
        atomic_store(&spin_stop, true);
        pthread_join(s, NULL);
        CHECK(sched_setaffinity(0, sizeof(all), &all) == 0);
        printf("# switches over 40 ms of CPU at nice 10: %ld off (%lu points), %ld with a 1 ms "
               "slice (%lu points)\n",
               m.off, m.p_off, m.on, m.p_on);
        CHECK(m.p_on > 1000);
        CHECK(m.on - m.off >= 15);  /* about 40; other work on the CPU moves both counts */
        CHECK(m.on - m.off <= 400); /* ten times that, still far below one per point */
}

TEST_MAIN(TEST_CASE(chunks_only_when_enabled), TEST_CASE(a_file_read_in_chunks_is_the_file),
          TEST_CASE(an_unmap_in_chunks_unmaps_all),
          TEST_CASE(a_snapshot_reads_the_same_cooperating), TEST_CASE(yields_once_per_slice))
