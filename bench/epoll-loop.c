#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include "epoll-loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256

int epoll_loop_listen(EpollLoop *l, const char *port)
{
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)atoi(port)),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0)
                return -1;
        l->listen_fd = ls;
        l->ep = epoll_create1(0);
        if (l->ep < 0)
                return -1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        return epoll_ctl(l->ep, EPOLL_CTL_ADD, ls, &ev);
}

void epoll_loop_want(EpollLoop *l, int fd, void *conn, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = conn};
        epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
}

static void accept_all(EpollLoop *l)
{
        int fd, one = 1;
        while ((fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                void *c = l->accepted(fd);
                if (!c) {
                        close(fd);
                        continue;
                }
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
        }
}

static uint64_t now_nsec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

_Noreturn void epoll_loop_run(EpollLoop *l)
{
        struct epoll_event evs[MAX_EVENTS];
        uint64_t last = 0;
        for (;;) {
                int wait = l->spin_nsec && now_nsec() - last < l->spin_nsec ? 0 : -1;
                int n = epoll_wait(l->ep, evs, MAX_EVENTS, wait);
                if (n > 0 && l->spin_nsec)
                        last = now_nsec();
                for (int i = 0; i < n; i++) {
                        void *c = evs[i].data.ptr;
                        if (!c)
                                accept_all(l);
                        else if (l->ready(c, evs[i].events) < 0)
                                l->done(c);
                }
        }
}
