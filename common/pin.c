#include "pin.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

int pin_parse(const char *buf, size_t len, uint64_t *ret)
{
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len == 0 || len > 20 || buf[0] == '0')
                return -EBADMSG;
        uint64_t g = 0;
        for (size_t i = 0; i < len; i++) {
                if (buf[i] < '0' || buf[i] > '9')
                        return -EBADMSG;
                unsigned d = (unsigned)(buf[i] - '0');
                if (g > (UINT64_MAX - d) / 10)
                        return -EBADMSG;
                g = g * 10 + d;
        }
        if (g == UINT64_MAX)
                return -EBADMSG;
        *ret = g;
        return 0;
}

int pin_read(int dirfd, uint64_t *ret)
{
        /* O_NONBLOCK: a FIFO planted under the name must not hang the reader */
        _cleanup_close_ int fd =
            openat(dirfd, PIN_FILE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : errno == ELOOP ? -EINVAL : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        char buf[PIN_MAX_BYTES + 1];
        size_t len = 0;
        while (len < sizeof(buf)) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > PIN_MAX_BYTES)
                return -EFBIG;
        uint64_t g;
        int r = pin_parse(buf, len, &g);
        if (r < 0)
                return r;
        *ret = g;
        return 1;
}

static void remove_stale_tmp(int dirfd)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, PIN_TMP_PREFIX, strlen(PIN_TMP_PREFIX)) == 0)
                        (void)unlinkat(dirfd, de->d_name, 0);
        closedir(d);
}

int pin_write(int dirfd, uint64_t generation)
{
        if (generation == 0 || generation == UINT64_MAX)
                return -EINVAL;
        remove_stale_tmp(dirfd);
        char tmp[64], text[32];
        snprintf(tmp, sizeof(tmp), PIN_TMP_PREFIX "%d", (int)getpid());
        int len = snprintf(text, sizeof(text), "%" PRIu64 "\n", generation);
        /* 0644: readers (tallyd, through the directory's group) need no more than this */
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, text, (size_t)len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, PIN_FILE_NAME) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dirfd, tmp, 0);
                return r;
        }
        return fsync(dirfd) < 0 ? -errno : 0;
}

int pin_remove(int dirfd)
{
        if (unlinkat(dirfd, PIN_FILE_NAME, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return fsync(dirfd) < 0 ? -errno : 1;
}
