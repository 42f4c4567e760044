/* The accept/epoll skeleton the bench servers share (epoll-floor, body-send): one
 * thread, a loopback listener, level-triggered epoll, TCP_NODELAY on every connection.
 * What a connection is and how it is served is the program's: the loop only hands each
 * new socket to accepted() and each readiness event to ready(), so the programs compare
 * ways of serving, not ways of looping. Nothing here is tallyd's code. */
#pragma once

#include <stdint.h>

typedef struct EpollLoop {
        int ep;        /* the epoll fd: for EPOLL_CTL_MOD in ready() (epoll_loop_want) */
        int listen_fd; /* set by epoll_loop_listen() */
        /* A connection's state for the new socket fd, or NULL to refuse it (fd is closed). */
        void *(*accepted)(int fd);
        /* Readiness of a connection (EPOLLIN / EPOLLOUT in events): -1 when it is done. */
        int (*ready)(void *conn, uint32_t events);
        /* Closes and frees a connection ready() said is done. */
        void (*done)(void *conn);
        /* After events, poll (epoll_wait with no timeout) this long before sleeping
         * again, so the core never halts between requests that come this close: 0 sleeps
         * at once (bench/epoll-floor --spin). */
        uint64_t spin_nsec;
} EpollLoop;

/* Listens on 127.0.0.1:port (non-blocking) and creates the epoll set: 0, or -1 with
 * errno. */
int epoll_loop_listen(EpollLoop *l, const char *port);
/* Waits for connections in epoll for events (EPOLLIN or EPOLLOUT). */
void epoll_loop_want(EpollLoop *l, int fd, void *conn, uint32_t events);
/* Accepts and serves until the process ends. */
_Noreturn void epoll_loop_run(EpollLoop *l);
