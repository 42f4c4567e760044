#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include "test.h"
#include "watch.h"

static bool readable(int fd, int ms)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        return poll(&p, 1, ms) == 1;
}

static void test_rename_into_directory_is_seen(void)
{
        char dir[] = "/tmp/tally-test-watch.XXXXXX";
        CHECK(mkdtemp(dir));
        Watch *w;
        CHECK_EQ_INT(watch_new(dir, &w), 0);
        CHECK(watch_active(w));
        CHECK_EQ_INT(watch_drain(w), WATCH_QUIET);
        char a[96], b[96];
        snprintf(a, sizeof(a), "%s/.tmp-x", dir);
        snprintf(b, sizeof(b), "%s/snapshot-x", dir);
        int fd = open(a, O_WRONLY | O_CREAT, 0600);
        close(fd);
        CHECK(rename(a, b) == 0);
        CHECK(readable(watch_fd(w), 2000));
        CHECK_EQ_INT(watch_drain(w), WATCH_CHANGED);
        CHECK_EQ_INT(watch_drain(w), WATCH_QUIET); /* drained: many events collapse into one */
        unlink(b);
        rmdir(dir);
        watch_free(w);
}

static void test_missing_directory_is_watched_once_created(void)
{
        char dir[] = "/tmp/tally-test-watch.XXXXXX";
        CHECK(mkdtemp(dir));
        rmdir(dir);
        _cleanup_(watch_freep) Watch *w = NULL;
        CHECK_EQ_INT(watch_new(dir, &w), 0);
        CHECK(!watch_active(w));
        CHECK(watch_retry(w) < 0);
        CHECK(mkdir(dir, 0700) == 0);
        CHECK_EQ_INT(watch_retry(w), 0);
        CHECK(watch_active(w));
        rmdir(dir);
}

static void test_removed_directory_drops_the_watch(void)
{
        char dir[] = "/tmp/tally-test-watch.XXXXXX";
        CHECK(mkdtemp(dir));
        _cleanup_(watch_freep) Watch *w = NULL;
        CHECK_EQ_INT(watch_new(dir, &w), 0);
        CHECK(watch_active(w));
        rmdir(dir);
        CHECK(readable(watch_fd(w), 2000));
        CHECK_EQ_INT(watch_drain(w), WATCH_CHANGED);
        CHECK(!watch_active(w)); /* re-added by watch_retry() once the directory is back */
}

TEST_MAIN(TEST_CASE(test_rename_into_directory_is_seen),
          TEST_CASE(test_missing_directory_is_watched_once_created),
          TEST_CASE(test_removed_directory_drops_the_watch))
