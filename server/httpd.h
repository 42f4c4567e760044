/* The HTTP transport: tallyd's own HTTP/1.1 layer on an event_base, accepting from a
 * shared listening socket (httpd.c accepts, conn.c serves a connection, request.c parses).
 *
 * What goes in and out is respond.h's plain data: each parsed request is handed to
 * `handle` as a Request, the Response it fills is written to the wire (every piece by
 * writev from where it lies; a write that must wait holds a served_ref() on resp->hold
 * and the Response itself until the last byte is out), and `sent` reports the status that
 * went out. Nothing outside this header, httpd.c, conn.c and request.c knows the wire.
 *
 * Transport-level refusals (a head over max_header_bytes: 431 or 414, malformed request
 * lines and headers: 400, unknown methods: 501, HTTP/2+: 505) are answered by the transport
 * itself, in the same JSON as every other error, and close the connection. */
#pragma once

#include <event2/event.h>
#include <stdatomic.h>

#include "respond.h"

/* Shared by all transports of a process: open connections against max_connections. */
typedef struct ConnLimit {
        atomic_uint open;
        unsigned max;
} ConnLimit;

/* fds the transports of a process may hold beyond their connections (pipes for sending
 * large bodies without a copy): for the fd limit. 64 pipes: with 32, a c50 load of whole
 * views found none free for 6-33% of its answers, each then copied with writev
 * (docs/performance.md 4d). */
#define HTTPD_EXTRA_FDS 128

typedef struct Httpd Httpd;

typedef struct HttpdOptions {
        int listen_fd;
        ConnLimit *limit;
        unsigned max_header_bytes;
        uint64_t timeout_usec; /* for a whole request, from connect or the last response */
        /* Bumped (relaxed, single writer) for every connection accepted. */
        atomic_ullong *accepted;
        /* Called on the base's thread: fill *resp for req (respond()). */
        void (*handle)(void *userdata, const Request *req, Response *resp);
        /* Called after the response went to the transport: the status actually sent
         * (500 if writing resp failed). */
        void (*sent)(void *userdata, int status);
        /* Called (any thread) when connections drop below the limit again. */
        void (*below_limit)(void *userdata);
        void *userdata;
} HttpdOptions;

int httpd_new(struct event_base *base, const HttpdOptions *o, Httpd **ret);
Httpd *httpd_free(Httpd *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Httpd *, httpd_free);
/* Any thread: start accepting again (after the connection limit was reached). */
void httpd_resume_accept(Httpd *h);
/* Any thread: graceful stop. Stops watching the listening socket for good (it stays
 * open: new connections wait in its backlog for the next process that serves it) and
 * drains the connections (conn.h's conn_drain_all()) within grace_usec. */
void httpd_drain(Httpd *h, uint64_t grace_usec);
