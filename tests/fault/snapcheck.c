/* fault-snapcheck DIR: what a fault test asserts about a snapshot directory, on one line:
 *   newest=GEN valid=0|1 snapshots=N tmp=N [reason=...]
 * newest is the highest generation by name (0 if none), valid says whether that file
 * loads through the server's own reader. Exit status: 0 if the newest is valid or there is
 * none, 1 if it is invalid, 2 on usage or I/O errors. With --all every snapshot file must
 * be valid. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "snapshot_dir.h"
#include "snapshot_read.h"

static int count_tmp(int dirfd, unsigned *ret)
{
        int fd = dup(dirfd);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        unsigned n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, SNAPSHOT_TMP_PREFIX, strlen(SNAPSHOT_TMP_PREFIX)) == 0)
                        n++;
        closedir(d);
        *ret = n;
        return 0;
}

static int check(int dirfd, uint64_t gen, char *reason, size_t size)
{
        char name[SNAPSHOT_NAME_MAX];
        Snapshot *s = NULL;
        snapshot_name(name, sizeof(name), gen);
        int r = snapshot_read_file(dirfd, name, SNAPSHOT_MAX_FILE_BYTES, &s, reason, size);
        if (r >= 0 && s->generation != gen) {
                snprintf(reason, size, "file %s holds generation %" PRIu64, name, s->generation);
                r = -EBADMSG;
        }
        snapshot_free(s);
        return r;
}

int main(int argc, char **argv)
{
        bool all = argc == 3 && strcmp(argv[1], "--all") == 0;
        if (argc != 2 && !all) {
                fprintf(stderr, "usage: %s [--all] DIR\n", argv[0]);
                return 2;
        }
        log_set_max_level(LOG_ERR);
        const char *dir = argv[argc - 1];
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0) {
                fprintf(stderr, "%s: %s\n", dir, strerror(errno));
                return 2;
        }
        _cleanup_free_ uint64_t *gens = NULL;
        size_t n = 0;
        unsigned tmp = 0;
        if (snapshot_dir_list(dirfd, &gens, &n) < 0 || count_tmp(dirfd, &tmp) < 0) {
                fprintf(stderr, "%s: cannot list: %s\n", dir, strerror(errno));
                return 2;
        }
        char reason[256] = "";
        bool valid = true;
        for (size_t i = 0; i < n && (i == 0 || all); i++)
                if (check(dirfd, gens[i], reason, sizeof(reason)) < 0) {
                        valid = false;
                        break;
                }
        printf("newest=%" PRIu64 " valid=%d snapshots=%zu tmp=%u", n ? gens[0] : 0, valid, n, tmp);
        if (!valid)
                printf(" reason=%s", reason);
        printf("\n");
        return valid ? 0 : 1;
}
