/* snapshot_install: a file image encoded on another host lands under its own generation
 * with the local publish's guarantees, and a directory never goes back a generation. */
#include <fcntl.h>
#include <sys/stat.h>

#include "snapshot_dir.h"
#include "snapshot_read.h"
#include "snapshot_write.h"
#include "test.h"

static int encode(uint64_t generation, void **buf, size_t *len)
{
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        if (snapshot_writer_new(&w) < 0)
                return -ENOMEM;
        const SnapshotColumn cols[] = {{"k", VALUE_STR}, {"n", VALUE_INT}};
        int r = snapshot_writer_begin_view(w, "v", 1, 2, cols, 1);
        if (r >= 0)
                r = snapshot_writer_put_str(w, "a", 1);
        if (r >= 0)
                r = snapshot_writer_put_int(w, (int64_t)generation);
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        if (r >= 0)
                r = snapshot_writer_encode(w, generation, 1, buf, len);
        return r;
}

static bool same_bytes(int dfd, uint64_t gen, const void *buf, size_t len)
{
        char name[SNAPSHOT_NAME_MAX];
        snapshot_name(name, sizeof(name), gen);
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size != len)
                return false;
        _cleanup_free_ char *got = malloc(len);
        return got && read(fd, got, len) == (ssize_t)len && memcmp(got, buf, len) == 0;
}

static void installs_under_its_generation_and_never_goes_back(void)
{
        char dir[] = "/tmp/tally-test-install-XXXXXX";
        CHECK(mkdtemp(dir));
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        _cleanup_free_ void *b7 = NULL, *b5 = NULL, *b9 = NULL;
        size_t l7, l5, l9;
        CHECK(encode(7, &b7, &l7) == 0 && encode(5, &b5, &l5) == 0 && encode(9, &b9, &l9) == 0);

        CHECK_EQ_INT(snapshot_install(dir, 7, b7, l7, 3), 0);
        CHECK(same_bytes(dfd, 7, b7, l7));
        CHECK_EQ_INT(snapshot_install(dir, 7, b7, l7, 3), SNAPSHOT_INSTALL_NOT_NEWER);
        CHECK_EQ_INT(snapshot_install(dir, 5, b5, l5, 3), SNAPSHOT_INSTALL_NOT_NEWER);
        CHECK_EQ_INT(snapshot_install(dir, 9, b9, l9, 1), 0); /* keep 1: 7 pruned */
        uint64_t *gens = NULL;
        size_t n = 0;
        CHECK(snapshot_dir_list(dfd, &gens, &n) == 0);
        CHECK_EQ_INT(n, 1);
        CHECK_EQ_INT(gens[0], 9);
        free(gens);
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char name[SNAPSHOT_NAME_MAX], reason[256];
        snapshot_name(name, sizeof(name), 9);
        CHECK(snapshot_read_file(dfd, name, SNAPSHOT_MAX_FILE_BYTES, &s, reason, sizeof(reason)) ==
              0);
        CHECK_EQ_INT(s->generation, 9);
        unlinkat(dfd, name, 0);
        rmdir(dir);
}

static void a_missing_directory_is_an_error(void)
{
        _cleanup_free_ void *b = NULL;
        size_t l;
        CHECK(encode(1, &b, &l) == 0);
        CHECK_EQ_INT(snapshot_install("/nonexistent/tally", 1, b, l, 3), -ENOENT);
}

TEST_MAIN(TEST_CASE(installs_under_its_generation_and_never_goes_back),
          TEST_CASE(a_missing_directory_is_an_error))
