/* One HTTP/1.1 connection of the lean transport (part of httpd.c's room, nothing else
 * includes it): read, parse (request.h), answer (HttpdOptions.handle), write, repeat.
 *
 * Per connection: one fixed read buffer of max_header_bytes (a request head must fit,
 * pipelined requests are parsed from it in turn), one event on the fd (EV_READ, or
 * EV_WRITE while a response waits for the socket), one timer for the deadline, and the
 * Response being written. Nothing is allocated per request: the header block is built
 * into the connection, the body pieces go out by writev straight from where respond()
 * put them, and a snapshot reference is taken only when a write has to wait. */
#pragma once

#include <event2/event.h>

#include "httpd.h"

typedef struct Conn Conn;

/* At most this many pipes (two fds each) for zero-copy bodies in the process. */
#define CONN_MAX_PIPES (HTTPD_EXTRA_FDS / 2)
/* At most this many of them idle per transport, for reuse. */
#define CONN_SPARE_PIPES 16

/* The longest cached header block (a row's is about 210 bytes). */
#define CONN_HEAD_CACHE 512

/* What a cached header block was built from: the response's header inputs, compared
 * whole (memcmp; built with its padding zeroed). */
typedef struct ConnHeadKey {
        uint64_t served_id; /* Served.id of the response's snapshot */
        int64_t date_sec;
        uint64_t generation;
        const char *content_type, *content_encoding, *etag, *last_modified;
        int status;
        bool http10, vary, stale, no_store;
} ConnHeadKey;

/* What every connection of one transport shares; owned by httpd.c. */
typedef struct ConnServer {
        const HttpdOptions *o;
        struct event_base *base;
        Conn *first; /* open connections, for conn_close_all() */
        Conn *spare; /* closed ones kept for reuse (n_spare of them) */
        unsigned n_spare;
        /* Empty pipes of finished zero-copy responses, kept for the next one: a pipe per
         * response (pipe2, F_SETPIPE_SZ, two closes) was 4 of its 8 syscalls. */
        int spare_pipes[CONN_SPARE_PIPES][2];
        unsigned n_spare_pipes;
        int64_t date_sec;   /* the second date_line was made for */
        char date_line[48]; /* "Date: <IMF-fixdate>\r\n" */
        size_t date_len;
        /* The last snapshot response's header block through its Date line, and what it
         * was made of (conn.c): single rows of one snapshot within one second share it. */
        ConnHeadKey head_key;
        size_t head_len; /* 0: none */
        char head_bytes[CONN_HEAD_CACHE];
        /* Monotonic end of a graceful drain (conn_drain_all()), 0 while serving: every
         * deadline stops there and every answer closes its connection. */
        uint64_t drain_end_usec;
        /* A connection closed: its slot under max_connections is free again. */
        void (*release)(void *owner);
        void *owner;
} ConnServer;

/* Serves the accepted fd (non-blocking), counted in o->limit already. On failure the fd
 * is closed and the count released. */
int conn_open(ConnServer *s, int fd);
/* Graceful stop: a response being written finishes, the next request on each
 * connection within grace_usec is answered with Connection: close, then the connection
 * closes; whatever is still open after grace_usec is closed by its timer. */
void conn_drain_all(ConnServer *s, uint64_t grace_usec);
/* Closes every open connection and frees the spares (the transport is going away). */
void conn_close_all(ConnServer *s);
