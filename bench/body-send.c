/* bench/body-send: which way of putting a multi-megabyte body on a socket costs the server
 * least CPU, for tallyd's whole-view responses (docs/performance.md).
 *
 * One thread, level-triggered epoll, keep-alive: every request gets a 200 with FILE's
 * bytes, sent the way MODE says, in slices of at most 512 KiB per wake-up (as tallyd's
 * conn.c does, so 50 clients take turns), arming EPOLLOUT only when the socket is full:
 *   writev    from a private anonymous copy of the file (tallyd's snapshot image)
 *   splice    vmsplice() of that copy into a 1 MiB pipe, splice() into the socket
 *             (tallyd's zero-copy path for pieces of 256 KiB and more)
 *   sendfile  sendfile(2) from the file itself, at the body's offset (what nginx does)
 *   zerocopy  send(MSG_ZEROCOPY) from the copy (SO_ZEROCOPY; completions drained from
 *             the error queue and counted: on loopback the kernel copies the pages
 *             when it delivers them to the local socket, and says so in each completion)
 * SNDBUF (bytes, 0 = the kernel's autotuning) sets SO_SNDBUF on every connection.
 * Built only with `meson -Dbench=true`; bench/server does not run it.
 *
 * The accept/epoll loop around it is epoll-loop.c.
 *
 *   body-send MODE PORT FILE [SNDBUF [thp]] */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vmsplice, splice, memmem */
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "epoll-loop.h"

#define SLICE      (512 * 1024)
#define PIPE_BYTES (1024 * 1024)

enum { M_WRITEV, M_SPLICE, M_SENDFILE, M_ZEROCOPY };

typedef struct Conn {
        int fd;
        int pipe[2];
        size_t in_pipe;
        size_t have;
        size_t sent; /* of head + body, while a response is going out */
        int busy;
        char buf[8192];
} Conn;

static int mode, file_fd, sndbuf;
static unsigned long long zc_sends, zc_copied; /* completions: all, and copied ones */
static EpollLoop loop;
static char head[256], *body;
static size_t head_len, body_len;

/* 1 when the response is out, 0 when the socket is full, -1 on error */
static int push(Conn *c)
{
        size_t budget = SLICE, total = head_len + body_len;
        while (c->sent < total || c->in_pipe) {
                if (!budget)
                        return 0; /* the others' turn: level-triggered EPOLLOUT comes back */
                ssize_t n;
                if (c->in_pipe) {
                        n = splice(c->pipe[0], NULL, c->fd, NULL, c->in_pipe,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        if (n < 0)
                                return errno == EAGAIN ? 0 : -1;
                        c->in_pipe -= (size_t)n;
                        budget -= (size_t)n < budget ? (size_t)n : budget;
                        continue;
                }
                if (c->sent < head_len || mode == M_WRITEV) {
                        struct iovec iov[2];
                        int k = 0;
                        if (c->sent < head_len)
                                iov[k++] = (struct iovec){head + c->sent, head_len - c->sent};
                        size_t off = c->sent > head_len ? c->sent - head_len : 0;
                        if (mode == M_WRITEV || k == 0)
                                iov[k++] = (struct iovec){body + off, body_len - off};
                        n = writev(c->fd, iov, k);
                } else if (mode == M_SPLICE) {
                        size_t off = c->sent - head_len;
                        struct iovec iov = {body + off, body_len - off};
                        n = vmsplice(c->pipe[1], &iov, 1, SPLICE_F_NONBLOCK);
                        if (n > 0) {
                                c->in_pipe = (size_t)n;
                                c->sent += (size_t)n;
                                continue;
                        }
                } else if (mode == M_ZEROCOPY) {
                        size_t off = c->sent - head_len, want = body_len - off;
                        n = send(c->fd, body + off, want < budget ? want : budget,
                                 MSG_ZEROCOPY | MSG_NOSIGNAL);
                } else {
                        off_t off = (off_t)(c->sent - head_len);
                        size_t want = body_len - (size_t)off;
                        n = sendfile(c->fd, file_fd, &off, want < budget ? want : budget);
                }
                if (n < 0)
                        return errno == EAGAIN ? 0 : -1;
                c->sent += (size_t)n;
                budget -= (size_t)n < budget ? (size_t)n : budget;
        }
        return 1;
}

static void want(Conn *c, int out)
{
        epoll_loop_want(&loop, c->fd, c, out ? EPOLLOUT : EPOLLIN);
}

/* Reads the zero-copy completions queued on the socket's error queue: the body is never
 * written, so a completion only needs counting (and must be read: queued ones hold the
 * socket's option memory, and sends fail with ENOBUFS once it is full). */
static void drain_completions(int fd)
{
        for (;;) {
                char ctl[128];
                struct msghdr m = {.msg_control = ctl, .msg_controllen = sizeof ctl};
                if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
                        return;
                for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
                        struct sock_extended_err e;
                        if (cm->cmsg_len < CMSG_LEN(sizeof e))
                                continue;
                        memcpy(&e, CMSG_DATA(cm), sizeof e);
                        if (e.ee_origin != SO_EE_ORIGIN_ZEROCOPY)
                                continue;
                        unsigned long long k = (unsigned long long)(e.ee_data - e.ee_info) + 1;
                        zc_sends += k;
                        if (e.ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
                                zc_copied += k;
                }
        }
}

/* -1 when the connection is done */
static int serve(void *conn, uint32_t events)
{
        Conn *c = conn;
        if (mode == M_ZEROCOPY)
                drain_completions(c->fd);
        int writable = !!(events & EPOLLOUT);
        for (;;) {
                if (c->busy) {
                        int r = push(c);
                        if (r < 0)
                                return -1;
                        if (r == 0) {
                                if (!writable)
                                        want(c, 1);
                                return 0;
                        }
                        c->busy = 0;
                        if (writable) {
                                want(c, 0);
                                writable = 0;
                        }
                }
                char *e = memmem(c->buf, c->have, "\r\n\r\n", 4);
                if (e) {
                        size_t done = (size_t)(e - c->buf) + 4;
                        memmove(c->buf, c->buf + done, c->have - done);
                        c->have -= done;
                        c->busy = 1;
                        c->sent = 0;
                        continue;
                }
                if (writable)
                        return 0;
                ssize_t k = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
                if (k == 0 || (k < 0 && errno != EAGAIN) || c->have == sizeof c->buf)
                        return -1;
                if (k < 0)
                        return 0;
                c->have += (size_t)k;
                if (!memmem(c->buf, c->have, "\r\n\r\n", 4))
                        return 0;
        }
}

/* SIGTERM: how many zero-copy sends the kernel copied after all, then exit. dprintf is
 * not async-signal-safe; the one thread sits in epoll_wait or a syscall, never in stdio,
 * and the process ends right after, so the report is all it risks. */
static void report(int sig)
{
        (void)sig;
        if (mode == M_ZEROCOPY)
                dprintf(2, "zerocopy: %llu sends completed, %llu of them copied\n", zc_sends,
                        zc_copied);
        _exit(0);
}

static void *accepted(int fd)
{
        if (sndbuf)
                setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        int one = 1;
        if (mode == M_ZEROCOPY && setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) < 0)
                return NULL;
        Conn *c = calloc(1, sizeof *c);
        if (!c || (mode == M_SPLICE && pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC) < 0)) {
                free(c);
                return NULL;
        }
        if (mode == M_SPLICE)
                fcntl(c->pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
        c->fd = fd;
        return c;
}

static void done(void *conn)
{
        Conn *c = conn;
        if (mode == M_ZEROCOPY)
                drain_completions(c->fd); /* this connection's last ones count too */
        close(c->fd);
        if (mode == M_SPLICE) {
                close(c->pipe[0]);
                close(c->pipe[1]);
        }
        free(c);
}

int main(int argc, char **argv)
{
        if (argc < 4 || argc > 6) {
                fprintf(stderr,
                        "usage: %s writev|splice|sendfile|zerocopy PORT FILE [SNDBUF [thp]]\n",
                        argv[0]);
                return 64;
        }
        /* splice() and sendfile() to a socket the client closed raise SIGPIPE (they take
         * no MSG_NOSIGNAL): a load generator closing its connections must not end us */
        signal(SIGPIPE, SIG_IGN);
        signal(SIGTERM, report);
        mode = strcmp(argv[1], "writev") == 0     ? M_WRITEV
               : strcmp(argv[1], "splice") == 0   ? M_SPLICE
               : strcmp(argv[1], "sendfile") == 0 ? M_SENDFILE
               : strcmp(argv[1], "zerocopy") == 0 ? M_ZEROCOPY
                                                  : -1;
        if (mode < 0) {
                fprintf(stderr, "unknown mode %s\n", argv[1]);
                return 64;
        }
        sndbuf = argc >= 5 ? atoi(argv[4]) : 0;
        struct stat st;
        file_fd = open(argv[3], O_RDONLY | O_CLOEXEC);
        if (file_fd < 0 || fstat(file_fd, &st) < 0 || st.st_size == 0) {
                perror(argv[3]);
                return 1;
        }
        body_len = (size_t)st.st_size;
        /* "thp": the copy on a 2 MiB boundary in transparent huge pages, as tallyd's
         * snapshot image (common/snapshot_read.c) */
        bool thp = argc == 6 && strcmp(argv[5], "thp") == 0;
        size_t huge = (size_t)2 << 20;
        char *m = mmap(NULL, body_len + (thp ? huge : 0), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        body = m == MAP_FAILED || !thp
                   ? m
                   : (char *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
        if (thp && body != MAP_FAILED)
                (void)madvise(body, body_len, MADV_HUGEPAGE);
        if (body == MAP_FAILED || pread(file_fd, body, body_len, 0) != (ssize_t)body_len) {
                perror("read");
                return 1;
        }
        head_len = (size_t)snprintf(head, sizeof head,
                                    "HTTP/1.1 200 OK\r\nContent-Type: application/json; "
                                    "charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
                                    body_len);
        loop = (EpollLoop){.accepted = accepted, .ready = serve, .done = done};
        if (epoll_loop_listen(&loop, argv[2]) < 0) {
                perror("listen");
                return 1;
        }
        epoll_loop_run(&loop);
}
