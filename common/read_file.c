#include "read_file.h"

#include <sys/stat.h>

#include "coop.h"

int read_file_exact(int fd, void *buf, size_t len)
{
        size_t got = 0;
        while (got < len) {
                ssize_t k = pread(fd, (char *)buf + got, coop_chunk(len - got), (off_t)got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return READ_FILE_SHRANK;
                got += (size_t)k;
                coop_point();
        }
        return 0;
}

int read_file_bounded(int fd, uint64_t max_bytes, void *(*alloc)(void *userdata, size_t size),
                      void *userdata, void **ret_buf, size_t *ret_len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return READ_FILE_NOT_REGULAR;
        if ((uint64_t)st.st_size > max_bytes || (uint64_t)st.st_size > SIZE_MAX - 1) {
                *ret_len = (size_t)MIN((uint64_t)st.st_size, (uint64_t)SIZE_MAX);
                return READ_FILE_TOO_LARGE;
        }
        size_t len = (size_t)st.st_size;
        char *buf = alloc(userdata, len);
        if (!buf)
                return -ENOMEM;
        int r = read_file_exact(fd, buf, len);
        if (r != 0)
                return r;
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}
