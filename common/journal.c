#include "journal.h"

#include <endian.h>
#include <stdint.h>
#include <sys/socket.h>

#define JOURNAL_MAX_FIELDS 64
/* a field with a newline in its value: key, "\n", length, value, "\n" */
#define JOURNAL_MAX_PIECES 5

int journal_open(Journal *j, const char *path)
{
        *j = JOURNAL_NULL;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        /* only to learn now, not at every entry, whether anything listens there */
        if (access(path, W_OK) < 0)
                return -errno;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        *j = (Journal){.fd = fd, .addr = sa};
        return 0;
}

void journal_close(Journal *j)
{
        if (j->fd >= 0)
                close(j->fd);
        *j = JOURNAL_NULL;
}

int journal_send(const Journal *j, const struct iovec *fields, size_t n_fields)
{
        if (n_fields > JOURNAL_MAX_FIELDS)
                return -E2BIG;
        struct iovec iov[JOURNAL_MAX_FIELDS * JOURNAL_MAX_PIECES];
        uint64_t lengths[JOURNAL_MAX_FIELDS];
        static char newline = '\n';
        size_t n = 0;
        for (size_t i = 0; i < n_fields; i++) {
                const char *kv = fields[i].iov_base;
                size_t len = fields[i].iov_len;
                const char *eq = memchr(kv, '=', len);
                if (!eq)
                        return -EINVAL;
                size_t key_len = (size_t)(eq - kv);
                const char *value = eq + 1;
                size_t value_len = len - key_len - 1;
                if (!memchr(value, '\n', value_len)) {
                        iov[n++] = (struct iovec){(void *)kv, len};
                } else {
                        lengths[i] = htole64((uint64_t)value_len);
                        iov[n++] = (struct iovec){(void *)kv, key_len};
                        iov[n++] = (struct iovec){&newline, 1};
                        iov[n++] = (struct iovec){&lengths[i], sizeof(lengths[i])};
                        iov[n++] = (struct iovec){(void *)value, value_len};
                }
                iov[n++] = (struct iovec){&newline, 1};
        }
        struct msghdr mh = {.msg_name = (void *)&j->addr,
                            .msg_namelen = sizeof(j->addr),
                            .msg_iov = iov,
                            .msg_iovlen = n};
        /* Entries too large for one datagram would need a sealed memfd; ours are a few
         * KiB at most, so EMSGSIZE sends the caller to its stderr fallback instead. */
        if (sendmsg(j->fd, &mh, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}
