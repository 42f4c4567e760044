#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "loader.h"
#include "log.h"
#include "pin.h"
#include "pinning.h"
#include "prerender.h"
#include "snapshot_write.h"
#include "test.h"

static char dir[64];

/* Version 1, or 2 (bodies pre-rendered, as the worker publishes). */
static uint64_t publish_version(size_t rows, bool v2)
{
        SnapshotWriter *w = NULL;
        snapshot_writer_new(&w);
        if (v2)
                snapshot_writer_set_transform(w, prerender_transform, 0);
        SnapshotColumn cols[] = {{"k", VALUE_STR}, {"n", VALUE_INT}};
        snapshot_writer_begin_view(w, "v", 1, 2, cols, rows);
        for (size_t i = 0; i < rows; i++) {
                char k[24]; /* "k" and any size_t */
                snprintf(k, sizeof(k), "k%zu", i);
                snapshot_writer_put_str(w, k, strlen(k));
                snapshot_writer_put_int(w, (int64_t)i);
        }
        snapshot_writer_end_view(w);
        uint64_t gen = 0;
        int r = snapshot_writer_publish(w, dir, 10, 0, &gen, NULL);
        snapshot_writer_free(w);
        return r < 0 ? 0 : gen;
}

static uint64_t publish(size_t rows)
{
        return publish_version(rows, false);
}

/* Row key's JSON body as served: the row index and the row offsets, read together. */
static bool serves_row(const Served *sv, size_t i)
{
        char k[16], want[64];
        snprintf(k, sizeof(k), "k%zu", i);
        snprintf(want, sizeof(want), "{\"k\":\"k%zu\",\"n\":%zu}", i, i);
        const char *keys[1] = {k};
        size_t lens[1] = {strlen(k)};
        ssize_t row = row_index_find(&sv->views[0].index, keys, lens, 1);
        if (row < 0)
                return false;
        Piece p = served_row(&sv->views[0].json, (size_t)row);
        return p.len == strlen(want) && memcmp(p.p, want, p.len) == 0;
}

static void write_file(uint64_t gen, const char *data)
{
        char name[SNAPSHOT_NAME_MAX], path[128];
        snapshot_name(name, sizeof(name), gen);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        fputs(data, f);
        fclose(f);
}

static void remove_gen(uint64_t gen)
{
        char name[SNAPSHOT_NAME_MAX], path[128];
        snapshot_name(name, sizeof(name), gen);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        unlink(path);
}

static void fresh_dir(void)
{
        char cmd[128];
        if (dir[0]) {
                snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
                (void)!system(cmd);
        }
        strcpy(dir, "/tmp/tally-test-loader.XXXXXX");
        (void)!mkdtemp(dir);
}

static void test_empty_directory_loads_nothing(void)
{
        fresh_dir();
        Loader *l;
        CHECK_EQ_INT(loader_new(dir, 1 << 20, &l), 0);
        Served *sv = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 0);
        CHECK(sv == NULL);
        loader_free(l);
}

static void test_newest_valid_is_loaded_once(void)
{
        fresh_dir();
        publish(3);
        uint64_t g2 = publish(5);
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        Served *sv = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        CHECK_EQ_INT(sv->generation, g2);
        CHECK_EQ_INT(sv->total_rows, 5);
        Served *again = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &again), 0); /* unchanged directory: nothing new */
        served_unref(sv);
        loader_free(l);
}

static void test_bad_newer_file_is_rejected_once_and_older_kept(void)
{
        fresh_dir();
        uint64_t g1 = publish(2);
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        Served *sv = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        CHECK_EQ_INT(sv->generation, g1);
        write_file(g1 + 1, "not a snapshot");
        Served *next = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &next), 0);
        CHECK_EQ_INT(atomic_load(&loader_stats(l)->rejected), 1);
        CHECK_EQ_INT(loader_scan_now(l, &next), 0);
        CHECK_EQ_INT(atomic_load(&loader_stats(l)->rejected), 1); /* remembered, not retried */
        /* the next good one is picked up past the bad one */
        uint64_t g3 = publish(4);
        CHECK_EQ_INT(g3, g1 + 2);
        CHECK_EQ_INT(loader_scan_now(l, &next), 1);
        CHECK_EQ_INT(next->generation, g3);
        served_unref(sv);
        served_unref(next);
        loader_free(l);
}

static void test_bad_newest_falls_back_at_start(void)
{
        fresh_dir();
        uint64_t g1 = publish(2);
        write_file(g1 + 1, "garbage");
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        Served *sv = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        CHECK_EQ_INT(sv->generation, g1);
        served_unref(sv);
        loader_free(l);
}

static void test_deleting_newer_rolls_back(void)
{
        fresh_dir();
        uint64_t g1 = publish(2);
        uint64_t g2 = publish(3);
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        Served *sv = NULL, *back = NULL;
        loader_scan_now(l, &sv);
        CHECK_EQ_INT(sv->generation, g2);
        remove_gen(g2);
        CHECK_EQ_INT(loader_scan_now(l, &back), 1);
        CHECK_EQ_INT(back->generation, g1);
        served_unref(sv);
        served_unref(back);
        loader_free(l);
}

static void test_size_limit_rejects(void)
{
        fresh_dir();
        publish(1000);
        Loader *l;
        loader_new(dir, 1024, &l);
        Served *sv = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 0);
        CHECK_EQ_INT(atomic_load(&loader_stats(l)->rejected), 1);
        loader_free(l);
}

static void set_pin(uint64_t gen)
{
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (gen)
                pin_write(dfd, gen);
        else
                pin_remove(dfd);
        close(dfd);
}

static void test_pin_holds_an_older_generation_until_unpinned(void)
{
        fresh_dir();
        uint64_t g1 = publish(2);
        uint64_t g2 = publish(3);
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        Served *sv = NULL, *pinned = NULL, *none = NULL, *back = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        CHECK_EQ_INT(sv->generation, g2);
        set_pin(g1);
        CHECK_EQ_INT(loader_scan_now(l, &pinned), 1);
        CHECK_EQ_INT(pinned->generation, g1);
        CHECK_EQ_INT(pinning_current(), g1);
        publish(4); /* newer snapshots do not move a pin */
        CHECK_EQ_INT(loader_scan_now(l, &none), 0);
        set_pin(0);
        CHECK_EQ_INT(loader_scan_now(l, &back), 1);
        CHECK_EQ_INT(back->generation, g2 + 1);
        CHECK_EQ_INT(pinning_current(), PINNING_NONE);
        served_unref(sv);
        served_unref(pinned);
        served_unref(back);
        loader_free(l);
}

static void test_unusable_pin_keeps_what_is_served(void)
{
        fresh_dir();
        uint64_t g1 = publish(2);
        uint64_t g2 = publish(3);
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        Served *sv = NULL, *none = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        set_pin(g2 + 5); /* missing */
        publish(1);
        CHECK_EQ_INT(loader_scan_now(l, &none), 0);
        CHECK_EQ_INT(pinning_current(), g2 + 5);
        write_file(g1, "damaged"); /* the pinned file invalid: rejected, still serving g2 */
        set_pin(g1);
        CHECK_EQ_INT(loader_scan_now(l, &none), 0);
        CHECK_EQ_INT(atomic_load(&loader_stats(l)->rejected), 1);
        char path[128];
        snprintf(path, sizeof(path), "%s/" PIN_FILE_NAME, dir);
        FILE *f = fopen(path, "w");
        fputs("latest\n", f);
        fclose(f);
        CHECK_EQ_INT(loader_scan_now(l, &none), 0);
        CHECK(pinning_current() == PINNING_UNREADABLE);
        CHECK_EQ_INT(sv->generation, g2);
        served_unref(sv);
        loader_free(l);
        set_pin(0);
}

static void test_pin_at_start_loads_it_or_falls_back(void)
{
        fresh_dir();
        uint64_t g1 = publish(2);
        uint64_t g2 = publish(3);
        set_pin(g1);
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        Served *sv = NULL, *fb = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        CHECK_EQ_INT(sv->generation, g1);
        loader_free(l);
        /* nothing served yet and the pin names a missing file: better the newest than none */
        set_pin(g2 + 7);
        loader_new(dir, 1 << 20, &l);
        CHECK_EQ_INT(loader_scan_now(l, &fb), 1);
        CHECK_EQ_INT(fb->generation, g2);
        served_unref(sv);
        served_unref(fb);
        loader_free(l);
        set_pin(0);
}

static atomic_int ready_calls;
static void on_ready(void *userdata)
{
        ready_calls++;
}

static void test_thread_delivers_to_mailbox(void)
{
        fresh_dir();
        Loader *l;
        loader_new(dir, 1 << 20, &l);
        CHECK_EQ_INT(loader_start(l, on_ready, NULL), 0);
        uint64_t g = publish(7);
        loader_request_scan(l);
        Served *sv = NULL;
        for (int i = 0; i < 500 && !sv; i++) {
                usleep(10000);
                sv = loader_take(l);
        }
        CHECK(sv);
        CHECK_EQ_INT(sv->generation, g);
        CHECK(ready_calls >= 1);
        served_unref(sv);
        /* a snapshot nobody took is dropped with the loader */
        publish(8);
        loader_request_scan(l);
        for (int i = 0; i < 500 && ready_calls < 2; i++)
                usleep(10000);
        unsigned live = served_live();
        CHECK(live == 1);
        loader_free(l);
        CHECK_EQ_INT(served_live(), 0);
        fresh_dir();
        rmdir(dir);
}

static void test_v2_and_v1_files_both_load(void)
{
        fresh_dir();
        uint64_t g = publish_version(40, true);
        Loader *l;
        loader_new(dir, 1 << 30, &l);
        Served *sv = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        CHECK_EQ_INT(sv->generation, g);
        CHECK(serves_row(sv, 0) && serves_row(sv, 39));
        served_unref(sv);
        g = publish_version(40, false);
        sv = NULL;
        CHECK_EQ_INT(loader_scan_now(l, &sv), 1);
        CHECK_EQ_INT(sv->generation, g);
        CHECK(serves_row(sv, 17));
        served_unref(sv);
        loader_free(l);
}

static Served *take_within(Loader *l, uint64_t gen)
{
        for (int i = 0; i < 1000; i++) {
                Served *sv = loader_take(l);
                if (sv && sv->generation == gen)
                        return sv;
                served_unref(sv);
                usleep(10000);
        }
        return NULL;
}

/* v1 renders in the idle helper thread, v2 in the loader thread itself */
static void test_thread_loads_v1_and_v2(void)
{
        fresh_dir();
        Loader *l;
        loader_new(dir, 1 << 30, &l);
        CHECK_EQ_INT(loader_start(l, on_ready, NULL), 0);
        uint64_t g = publish_version(30, false);
        loader_request_scan(l);
        Served *sv = take_within(l, g);
        CHECK(sv && serves_row(sv, 29));
        served_unref(sv);
        g = publish_version(30, true);
        loader_request_scan(l);
        sv = take_within(l, g);
        CHECK(sv && serves_row(sv, 29));
        served_unref(sv);
        loader_free(l);
        CHECK_EQ_INT(served_live(), 0);
}

TEST_MAIN(TEST_CASE(test_empty_directory_loads_nothing),
          TEST_CASE(test_newest_valid_is_loaded_once),
          TEST_CASE(test_bad_newer_file_is_rejected_once_and_older_kept),
          TEST_CASE(test_bad_newest_falls_back_at_start), TEST_CASE(test_deleting_newer_rolls_back),
          TEST_CASE(test_size_limit_rejects),
          TEST_CASE(test_pin_holds_an_older_generation_until_unpinned),
          TEST_CASE(test_unusable_pin_keeps_what_is_served),
          TEST_CASE(test_pin_at_start_loads_it_or_falls_back),
          TEST_CASE(test_thread_delivers_to_mailbox), TEST_CASE(test_v2_and_v1_files_both_load),
          TEST_CASE(test_thread_loads_v1_and_v2))
