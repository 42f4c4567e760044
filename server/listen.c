#include "listen.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "log.h"

int listen_parse_address(const char *address, char *host, size_t host_size, char *port,
                         size_t port_size)
{
        const char *colon;
        const char *h = address;
        size_t hlen;
        if (address[0] == '[') {
                const char *close = strchr(address, ']');
                if (!close || close[1] != ':')
                        return -EINVAL;
                h = address + 1;
                hlen = (size_t)(close - h);
                colon = close + 1;
        } else {
                colon = strrchr(address, ':');
                if (!colon)
                        return -EINVAL;
                hlen = (size_t)(colon - address);
        }
        const char *p = colon + 1;
        if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 || atoi(p) > 65535)
                return -EINVAL;
        if (hlen >= host_size || strlen(p) >= port_size)
                return -EINVAL;
        memcpy(host, h, hlen);
        host[hlen] = 0;
        strcpy(port, p);
        return 0;
}

static void tune(int fd)
{
        int one = 1;
        /* Inherited by accepted sockets: small responses leave at once, no Nagle delay. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int listen_adopt(int fd)
{
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        tune(fd);
        return 0;
}

int listen_open(const char *address, int *ret_fd)
{
        char host[256], port[8];
        if (listen_parse_address(address, host, sizeof(host), port, sizeof(port)) < 0)
                return -EINVAL;
        struct addrinfo hints = {
            .ai_family = AF_UNSPEC,
            .ai_socktype = SOCK_STREAM,
            .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
        };
        struct addrinfo *res = NULL;
        int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
        if (g != 0)
                return log_debug_errno(EADDRNOTAVAIL, "listen = %s: %s", address, gai_strerror(g));
        int r = -EADDRNOTAVAIL;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                ai->ai_protocol);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                int one = 1;
                (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                tune(fd);
                if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
                        r = -errno;
                        close(fd);
                        continue;
                }
                freeaddrinfo(res);
                *ret_fd = fd;
                return 0;
        }
        freeaddrinfo(res);
        return r;
}
