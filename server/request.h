/* An HTTP/1.1 request head read off the wire into respond.h's Request, in place.
 *
 * The transport (conn.c) reads into one fixed buffer per connection; this finds the end
 * of a request head as bytes arrive (each byte is looked at once however the head is
 * split across reads, so a client trickling bytes costs nothing but its bytes) and, once
 * the head is complete, parses it in one pass. Only what tally needs is kept: method,
 * target, version, Host, Accept, Accept-Encoding, If-None-Match, If-Modified-Since,
 * Content-Length / Transfer-Encoding and Connection. The strings in the Request point
 * into the buffer, NUL-terminated where the line ended, so the buffer must stay put
 * until the response is built. Everything a client can send is untrusted: malformed
 * heads are refused with the status to answer, never a crash. */
#pragma once

#include "respond.h"

typedef enum RequestOutcome {
        REQUEST_INCOMPLETE = 0, /* no complete head yet: read more (or refuse at the limit) */
        REQUEST_PARSED = 1,     /* *ret filled; ret->length bytes of the buffer consumed */
        REQUEST_REFUSED = 2,    /* answer ret->status with ret->error, then close */
} RequestOutcome;

typedef struct RequestHead {
        Request req;
        size_t length;   /* bytes of the head, for the next pipelined request */
        bool keep_alive; /* the client's view: HTTP/1.1 without close, or 1.0 keep-alive */
        bool http10;     /* answer with HTTP/1.0 */
        int status;      /* REQUEST_REFUSED: 400, 414, 431, 501 or 505 */
        const char *error;
} RequestHead;

/* The newlines the end-of-head search records for the parse, which then splits the head's
 * first lines without searching them again: a second memchr() per line was 25
 * instructions a line (callgrind, bench rows at c50). Later lines are searched. */
#define REQUEST_SCAN_LINES 16

/* Incremental state between reads of one request: how far the end-of-head search got,
 * and where the lines it passed end. */
typedef struct RequestScan {
        size_t scanned;
        unsigned n_lines;
        size_t nl[REQUEST_SCAN_LINES]; /* offsets of the head's first '\n's in the buffer */
} RequestScan;

#define REQUEST_SCAN_NULL ((RequestScan){0})

/* buf[0..len) holds the start of a request (earlier ones consumed); at most max bytes
 * may form its head. Returns a RequestOutcome; at REQUEST_INCOMPLETE with len >= max the
 * head is too large and REQUEST_REFUSED (414 or 431) is returned instead. On
 * REQUEST_PARSED buf is modified (NULs) and *scan is reset for the next request. */
RequestOutcome request_parse(RequestScan *scan, char *buf, size_t len, size_t max,
                             RequestHead *ret);
