/* The HTTP transport: one evhttp server on an event_base, accepting from a shared
 * listening socket. The only room that knows evhttp.
 *
 * What goes in and out is respond.h's plain data: each parsed request is handed to
 * `handle` as a Request, the Response it fills is written to the wire (pieces marked
 * shared go out by reference, holding a served_ref() on resp->hold until sent), and
 * `sent` reports the status that went out. Replacing evhttp with another HTTP/1.1 layer
 * means rewriting this file and conn.c behind this header, nothing else.
 *
 * Transport-level refusals (headers over max_header_bytes, bodies over a few KiB,
 * malformed request lines) are answered by the transport itself. */
#pragma once

#include <event2/event.h>
#include <stdatomic.h>

#include "respond.h"

/* Shared by all transports of a process: open connections against max_connections. */
typedef struct ConnLimit {
        atomic_uint open;
        unsigned max;
} ConnLimit;

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
