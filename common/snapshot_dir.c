#include "snapshot_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>

#include "pin.h"
#include "snapshot.h"

static int cmp_desc(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? 1 : x > y ? -1 : 0;
}

/* Iterates entries of dirfd without consuming it (a dup'd fd has its own position). */
static DIR *opendir_at(int dirfd)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d)
                close(fd);
        return d;
}

int snapshot_dir_list(int dirfd, uint64_t **ret_gens, size_t *ret_n)
{
        DIR *d = opendir_at(dirfd);
        if (!d)
                return -errno;
        uint64_t *gens = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                uint64_t g;
                if (!snapshot_name_parse(de->d_name, &g))
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        uint64_t *t = realloc(gens, ncap * sizeof(*t));
                        if (!t) {
                                free(gens);
                                closedir(d);
                                return -ENOMEM;
                        }
                        gens = t;
                        cap = ncap;
                }
                gens[n++] = g;
        }
        int r = errno ? -errno : 0;
        closedir(d);
        if (r < 0) {
                free(gens);
                return r;
        }
        if (n > 1)
                qsort(gens, n, sizeof(*gens), cmp_desc);
        *ret_gens = gens;
        *ret_n = n;
        return 0;
}

int snapshot_dir_newest(int dirfd, uint64_t *ret)
{
        _cleanup_free_ uint64_t *gens = NULL;
        size_t n = 0;
        int r = snapshot_dir_list(dirfd, &gens, &n);
        if (r < 0)
                return r;
        *ret = n > 0 ? gens[0] : 0;
        return 0;
}

int snapshot_dir_prune(int dirfd, unsigned keep)
{
        _cleanup_free_ uint64_t *gens = NULL;
        size_t n = 0;
        int r = snapshot_dir_list(dirfd, &gens, &n), removed = 0;
        if (r < 0)
                return r;
        uint64_t pinned = 0; /* pin.h: the pinned generation stays beyond keep */
        (void)pin_read(dirfd, &pinned);
        for (size_t i = keep; i < n; i++) {
                if (gens[i] == pinned)
                        continue;
                char name[SNAPSHOT_NAME_MAX];
                snapshot_name(name, sizeof(name), gens[i]);
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        r = -errno;
                else
                        removed++;
        }
        return r < 0 ? r : removed;
}

int snapshot_dir_remove_stale_tmp(int dirfd)
{
        DIR *d = opendir_at(dirfd);
        if (!d)
                return -errno;
        int removed = 0, r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, SNAPSHOT_TMP_PREFIX, strlen(SNAPSHOT_TMP_PREFIX)) != 0)
                        continue;
                if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT)
                        r = -errno;
                else
                        removed++;
        }
        closedir(d);
        return r < 0 ? r : removed;
}

int snapshot_dir_lock(int dirfd)
{
        while (flock(dirfd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}
