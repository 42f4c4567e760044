/* The pin file: what pin_write publishes pin_read returns; anything else under the name
 * is refused with a reason and never trusted; pruning keeps the pinned snapshot. */
#include <fcntl.h>
#include <sys/stat.h>

#include "pin.h"
#include "snapshot_dir.h"
#include "snapshot_write.h"
#include "test.h"

static int tmpdir(char *path, size_t n)
{
        snprintf(path, n, "%s/tally-test-pin.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(path))
                return -1;
        return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void rmtree(const char *path)
{
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
        (void)!system(cmd);
}

static int put_file(int dirfd, const char *name, const char *text, size_t len)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, text, len);
        close(fd);
        return r;
}

static void check_bad_pin(const char *text)
{
        uint64_t g = 5;
        CHECK_EQ_INT(pin_parse(text, strlen(text), &g), -EBADMSG);
        CHECK_EQ_INT(g, 5); /* untouched on failure */
}

static void parse_takes_digits_and_one_newline_only(void)
{
        uint64_t g = 0;
        CHECK(pin_parse("7\n", 2, &g) == 0 && g == 7);
        CHECK(pin_parse("42", 2, &g) == 0 && g == 42);
        CHECK(pin_parse("18446744073709551614\n", 21, &g) == 0 && g == UINT64_MAX - 1);
        const char *bad[] = {"",
                             "\n",
                             "0\n",
                             "007\n",
                             "-1\n",
                             "+1\n",
                             " 1\n",
                             "1 \n",
                             "1\n\n",
                             "1\r\n",
                             "0x10",
                             "1e3",
                             "18446744073709551615",
                             "18446744073709551616",
                             "99999999999999999999999"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                TEST_ROW(bad[i], check_bad_pin(bad[i]));
        CHECK_EQ_INT(pin_parse("1\0"
                               "2",
                               3, &g),
                     -EBADMSG);
}

static void write_then_read_round_trips_and_leaves_no_temp(void)
{
        char path[256];
        _cleanup_close_ int dfd = tmpdir(path, sizeof(path));
        CHECK(dfd >= 0);
        uint64_t g = 0;
        CHECK_EQ_INT(pin_read(dfd, &g), 0);
        CHECK_EQ_INT(pin_write(dfd, 12), 0);
        CHECK_EQ_INT(pin_read(dfd, &g), 1);
        CHECK_EQ_INT(g, 12);
        CHECK_EQ_INT(pin_write(dfd, 3), 0); /* replaces */
        CHECK_EQ_INT(pin_read(dfd, &g), 1);
        CHECK_EQ_INT(g, 3);
        char text[64] = "";
        int fd = openat(dfd, PIN_FILE_NAME, O_RDONLY);
        CHECK(fd >= 0);
        ssize_t n = read(fd, text, sizeof(text) - 1);
        close(fd);
        CHECK_EQ_INT(n, 2);
        CHECK_STREQ(text, "3\n");
        CHECK(faccessat(dfd, PIN_TMP_PREFIX "1", F_OK, 0) < 0);
        CHECK_EQ_INT(pin_write(dfd, 0), -EINVAL);
        CHECK_EQ_INT(pin_write(dfd, UINT64_MAX), -EINVAL);
        rmtree(path);
}

static void write_sweeps_a_dead_pinners_temp_file(void)
{
        char path[256];
        _cleanup_close_ int dfd = tmpdir(path, sizeof(path));
        CHECK(dfd >= 0);
        CHECK(put_file(dfd, PIN_TMP_PREFIX "999999", "1", 1) == 0);
        CHECK_EQ_INT(pin_write(dfd, 4), 0);
        CHECK(faccessat(dfd, PIN_TMP_PREFIX "999999", F_OK, 0) < 0);
        rmtree(path);
}

static void remove_says_whether_there_was_a_pin(void)
{
        char path[256];
        _cleanup_close_ int dfd = tmpdir(path, sizeof(path));
        CHECK(dfd >= 0);
        CHECK_EQ_INT(pin_remove(dfd), 0);
        CHECK_EQ_INT(pin_write(dfd, 9), 0);
        CHECK_EQ_INT(pin_remove(dfd), 1);
        uint64_t g = 0;
        CHECK_EQ_INT(pin_read(dfd, &g), 0);
        CHECK_EQ_INT(pin_remove(dfd), 0);
        rmtree(path);
}

/* What stands under the pin file's name (text: a file of it), and what pin_read() says. */
typedef enum PinEntry { PIN_TEXT, PIN_BIG, PIN_FIFO, PIN_SYMLINK, PIN_DIR } PinEntry;

typedef struct RefusedRow {
        const char *name;
        PinEntry entry;
        const char *text;
        int r;
} RefusedRow;

static int make_entry(int dfd, const RefusedRow *row)
{
        char big[4096];
        switch (row->entry) {
        case PIN_TEXT: return put_file(dfd, PIN_FILE_NAME, row->text, strlen(row->text));
        case PIN_BIG:
                memset(big, '1', sizeof(big));
                return put_file(dfd, PIN_FILE_NAME, big, sizeof(big));
        case PIN_FIFO: return mkfifoat(dfd, PIN_FILE_NAME, 0644) < 0 ? -errno : 0;
        case PIN_SYMLINK:
                if (put_file(dfd, "target", "5\n", 2) < 0)
                        return -EIO;
                return symlinkat("target", dfd, PIN_FILE_NAME) < 0 ? -errno : 0;
        case PIN_DIR: return mkdirat(dfd, PIN_FILE_NAME, 0755) < 0 ? -errno : 0;
        }
        return -EINVAL;
}

static void check_refused(const RefusedRow *row)
{
        char path[256];
        _cleanup_close_ int dfd = tmpdir(path, sizeof(path));
        CHECK(dfd >= 0);
        uint64_t g = 77;
        int made = make_entry(dfd, row);
        int r = made == 0 ? pin_read(dfd, &g) : made;
        rmtree(path);
        CHECK_EQ_INT(made, 0);
        CHECK_EQ_INT(r, row->r);
        CHECK_EQ_INT(g, 77); /* untouched on failure */
}

static void read_refuses_what_is_not_a_small_regular_pin_file(void)
{
        static const RefusedRow rows[] = {
            {"garbage", PIN_TEXT, "garbage\n", -EBADMSG},
            {"4096 digits", PIN_BIG, NULL, -EFBIG},
            {"empty", PIN_TEXT, "", -EBADMSG},
            {"a fifo", PIN_FIFO, NULL, -EINVAL}, /* must not block */
            {"a symlink to a good pin", PIN_SYMLINK, NULL, -EINVAL},
            {"a directory", PIN_DIR, NULL, -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].name, check_refused(&rows[i]));
}

static int publish_one(const char *dir, unsigned keep, uint64_t *gen)
{
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        int r = snapshot_writer_new(&w);
        if (r < 0)
                return r;
        return snapshot_writer_publish(w, dir, keep, 0, gen, NULL);
}

static bool exists(int dfd, uint64_t gen)
{
        char name[SNAPSHOT_NAME_MAX];
        snapshot_name(name, sizeof(name), gen);
        return faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static void pruning_keeps_the_newest_and_the_pinned_one(void)
{
        char path[256];
        _cleanup_close_ int dfd = tmpdir(path, sizeof(path));
        CHECK(dfd >= 0);
        uint64_t g = 0;
        for (int i = 0; i < 3; i++)
                CHECK(publish_one(path, 2, &g) == 0);
        CHECK_EQ_INT(g, 3);
        CHECK(!exists(dfd, 1) && exists(dfd, 2) && exists(dfd, 3));
        CHECK_EQ_INT(pin_write(dfd, 2), 0);
        for (int i = 0; i < 4; i++)
                CHECK(publish_one(path, 2, &g) == 0);
        CHECK_EQ_INT(g, 7);
        /* newest two (6, 7) plus the pinned 2; 3, 4, 5 pruned */
        CHECK(exists(dfd, 2) && !exists(dfd, 3) && !exists(dfd, 4) && !exists(dfd, 5));
        CHECK(exists(dfd, 6) && exists(dfd, 7));
        _cleanup_free_ uint64_t *gens = NULL;
        size_t n = 0;
        CHECK(snapshot_dir_list(dfd, &gens, &n) == 0);
        CHECK_EQ_INT(n, 3);
        /* unpinned, the next publish prunes it like any other */
        CHECK_EQ_INT(pin_remove(dfd), 1);
        CHECK(publish_one(path, 2, &g) == 0);
        CHECK(!exists(dfd, 2) && !exists(dfd, 6) && exists(dfd, 7) && exists(dfd, 8));
        rmtree(path);
}

static void a_garbage_pin_protects_nothing(void)
{
        char path[256];
        _cleanup_close_ int dfd = tmpdir(path, sizeof(path));
        CHECK(dfd >= 0);
        uint64_t g = 0;
        CHECK(publish_one(path, 1, &g) == 0);
        CHECK(put_file(dfd, PIN_FILE_NAME, "1x\n", 3) == 0);
        CHECK(publish_one(path, 1, &g) == 0);
        CHECK(!exists(dfd, 1) && exists(dfd, 2));
        rmtree(path);
}

TEST_MAIN(TEST_CASE(parse_takes_digits_and_one_newline_only),
          TEST_CASE(write_then_read_round_trips_and_leaves_no_temp),
          TEST_CASE(write_sweeps_a_dead_pinners_temp_file),
          TEST_CASE(remove_says_whether_there_was_a_pin),
          TEST_CASE(read_refuses_what_is_not_a_small_regular_pin_file),
          TEST_CASE(pruning_keeps_the_newest_and_the_pinned_one),
          TEST_CASE(a_garbage_pin_protects_nothing))
