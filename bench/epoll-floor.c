/* bench/epoll-floor: the CPU floor of an HTTP/1.1 server on this machine.
 *
 * One thread, one epoll loop, non-blocking sockets, keep-alive: every request (a header
 * block ending in an empty line) gets the same fixed 200 response with BODY_FILE's bytes
 * (or a short JSON body). No routing, no parsing beyond finding "\r\n\r\n", no limits —
 * what is left is accept, read, write and the kernel's TCP work, so its CPU per request
 * is the floor a real server (tallyd, nginx) is measured against in bench/server.
 * Built only with `meson -Dbench=true`.
 *
 *   epoll-floor [--drain] [--spin US] PORT [BODY_FILE]
 *
 * By default each readiness event gets one read (level-triggered epoll reports the rest):
 * one epoll_wait per batch, then one read and one write per request. --drain reads again
 * until EAGAIN, as many event loops do: one more syscall per request. --spin US polls
 * for that long after each batch before sleeping (busy polling: does a core that never
 * halts between requests cut the c1 tail?). The loop around it is epoll-loop.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "epoll-loop.h"

#define BUF_BYTES 16384

typedef struct Conn {
        int fd;
        size_t have;
        char buf[BUF_BYTES];
} Conn;

static char *response;
static size_t response_len;

static int build_response(const char *body_path)
{
        char body[65536];
        size_t blen;
        if (body_path) {
                FILE *f = fopen(body_path, "rb");
                if (!f)
                        return -1;
                blen = fread(body, 1, sizeof body, f);
                fclose(f);
        } else
                blen = (size_t)snprintf(body, sizeof body, "{\"ok\":true}");
        response = malloc(blen + 256);
        if (!response)
                return -1;
        int h = snprintf(response, 256,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         blen);
        memcpy(response + h, body, blen);
        response_len = (size_t)h + blen;
        return 0;
}

/* read until EAGAIN after every event (1) or read once and let level-triggered epoll
 * report what is left (0, the default: one read and one write per request) */
static int drain;

/* answers every complete request in c->buf; returns -1 when the connection is done */
static int serve(void *conn, uint32_t events)
{
        (void)events;
        Conn *c = conn;
        for (;;) {
                size_t room = sizeof c->buf - c->have;
                ssize_t k = read(c->fd, c->buf + c->have, room);
                if (k == 0)
                        return -1;
                if (k < 0)
                        return errno == EAGAIN ? 0 : -1;
                c->have += (size_t)k;
                size_t done = 0, answers = 0;
                for (;;) {
                        char *e = memmem(c->buf + done, c->have - done, "\r\n\r\n", 4);
                        if (!e)
                                break;
                        done = (size_t)(e - c->buf) + 4;
                        answers++;
                }
                if (!answers && c->have == sizeof c->buf)
                        return -1;
                memmove(c->buf, c->buf + done, c->have - done);
                c->have -= done;
                for (; answers; answers--) {
                        /* responses are small: a full socket buffer means a stuck client */
                        if (write(c->fd, response, response_len) != (ssize_t)response_len)
                                return -1;
                }
                if (!drain && (size_t)k < room)
                        return 0;
        }
}

static void *accepted(int fd)
{
        Conn *c = calloc(1, sizeof *c);
        if (c)
                c->fd = fd;
        return c;
}

static void done(void *conn)
{
        Conn *c = conn;
        close(c->fd);
        free(c);
}

int main(int argc, char **argv)
{
        uint64_t spin_usec = 0;
        for (;;) {
                if (argc > 1 && strcmp(argv[1], "--drain") == 0) {
                        drain = 1;
                        argv++;
                        argc--;
                } else if (argc > 2 && strcmp(argv[1], "--spin") == 0) {
                        spin_usec = strtoull(argv[2], NULL, 10);
                        argv += 2;
                        argc -= 2;
                } else
                        break;
        }
        if (argc < 2 || argc > 3) {
                fprintf(stderr, "usage: %s [--drain] [--spin US] PORT [BODY_FILE]\n", argv[0]);
                return 64;
        }
        if (build_response(argc == 3 ? argv[2] : NULL) < 0) {
                perror("body");
                return 1;
        }
        EpollLoop l = {
            .accepted = accepted, .ready = serve, .done = done, .spin_nsec = spin_usec * 1000};
        if (epoll_loop_listen(&l, argv[1]) < 0) {
                perror("listen");
                return 1;
        }
        epoll_loop_run(&l);
}
