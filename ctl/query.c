/* Asking tallyd what it serves: one GET /v1/snapshot over loopback TCP, all of it
 * bounded by one deadline, the answer read as untrusted bytes (bounded, strict prefix). */
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include "ctl.h"

#define ANSWER_MAX 65536

/* "host:port" or "[v6]:port" into host and port. */
static int split_listen(const char *listen, char *host, size_t hn, char *port, size_t pn)
{
        const char *colon = strrchr(listen, ':');
        if (!colon || !colon[1])
                return -EINVAL;
        const char *h = listen;
        size_t hl = (size_t)(colon - listen);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
                h++;
                hl -= 2;
        }
        if (hl == 0 || hl >= hn || strlen(colon + 1) >= pn)
                return -EINVAL;
        memcpy(host, h, hl);
        host[hl] = 0;
        strcpy(port, colon + 1);
        return 0;
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
        for (;;) {
                uint64_t now = now_monotonic_usec();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = events};
                int k = poll(&p, 1, (int)((deadline - now + 999) / 1000));
                if (k > 0)
                        return 0;
                if (k < 0 && errno != EINTR)
                        return -errno;
        }
}

static int connect_by(const struct addrinfo *ai, uint64_t deadline)
{
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
                return -errno;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                int e = errno;
                close(fd);
                return -e;
        }
        int r = wait_fd(fd, POLLOUT, deadline), err = 0;
        socklen_t len = sizeof(err);
        if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                r = -errno;
        if (r == 0 && err)
                r = -err;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static int parse_answer(const char *a, size_t len, uint64_t *ret)
{
        /* tallyd answers HTTP/1.0 requests in kind; the body starts with its first member */
        if (len < 12 || memcmp(a, "HTTP/1.", 7) != 0)
                return -EPROTO;
        if (memcmp(a + 8, " 503", 4) == 0)
                return 0;
        if (memcmp(a + 8, " 200", 4) != 0)
                return -EPROTO;
        const char *body = memmem(a, len, "\r\n\r\n", 4);
        static const char prefix[] = "{\"generation\":";
        if (!body)
                return -EPROTO;
        body += 4;
        size_t left = len - (size_t)(body - a);
        if (left < sizeof(prefix) || memcmp(body, prefix, sizeof(prefix) - 1) != 0)
                return -EPROTO;
        const char *p = body + sizeof(prefix) - 1, *end = a + len;
        uint64_t g = 0;
        size_t digits = 0;
        for (; p < end && *p >= '0' && *p <= '9' && digits < 20; p++, digits++) {
                unsigned d = (unsigned)(*p - '0');
                if (g > (UINT64_MAX - d) / 10)
                        return -EPROTO;
                g = g * 10 + d;
        }
        if (digits == 0 || p >= end || *p != ',')
                return -EPROTO;
        *ret = g;
        return 1;
}

int ctl_query_served(const Ctl *c, uint64_t *ret_generation)
{
        char host[256], port[16];
        if (split_listen(c->config->server.listen, host, sizeof(host), port, sizeof(port)) < 0)
                return -EINVAL;
        uint64_t deadline = now_monotonic_usec() + c->query_timeout_usec;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV},
                        *res = NULL;
        if (getaddrinfo(host, port, &hints, &res) != 0)
                return -EHOSTUNREACH;
        int fd = -ECONNREFUSED;
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
                fd = connect_by(ai, deadline);
        freeaddrinfo(res);
        if (fd < 0)
                return fd;
        _cleanup_close_ int sock = fd;
        static const char req[] = "GET /v1/snapshot HTTP/1.0\r\nAccept: application/json\r\n\r\n";
        size_t sent = 0;
        while (sent < sizeof(req) - 1) {
                int r = wait_fd(sock, POLLOUT, deadline);
                if (r < 0)
                        return r;
                ssize_t k = send(sock, req + sent, sizeof(req) - 1 - sent, MSG_NOSIGNAL);
                if (k < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (k > 0)
                        sent += (size_t)k;
        }
        _cleanup_free_ char *a = malloc(ANSWER_MAX);
        if (!a)
                return -ENOMEM;
        size_t len = 0;
        while (len < ANSWER_MAX) {
                int r = wait_fd(sock, POLLIN, deadline);
                if (r < 0)
                        return r;
                ssize_t k = recv(sock, a + len, ANSWER_MAX - len, 0);
                if (k == 0)
                        break;
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                len += (size_t)k;
                /* the generation is at the start of the body: no need for the rest */
                if (parse_answer(a, len, ret_generation) == 1)
                        return 1;
        }
        return parse_answer(a, len, ret_generation);
}
