/* What to answer to one request, decided without any I/O: the boundary between the HTTP
 * transport and everything else.
 *
 * The transport (httpd.c) fills a Request from the wire and writes the Response back;
 * everything between (routing, representation choice, ETag and 304, HEAD, errors,
 * limits) happens here on plain data, so it is unit-tested and fuzzed without sockets,
 * and a new transport needs nothing but this header and served_ref()/served_unref().
 * A Response body is a list of pieces: slices of the Served snapshot (marked in `shared`;
 * a transport may send them by reference while holding a reference to `hold`), static
 * strings, or bytes in the Response's own buffer, which is sized to fit. */
#pragma once

#include "buf.h"
#include "route.h"
#include "served.h"

#define RESPONSE_MAX_PIECES 4
/* Error messages quote at most this many bytes of a client-sent name. */
#define RESPOND_MAX_QUOTED 200

typedef enum HttpMethod {
        METHOD_GET,
        METHOD_HEAD,
        METHOD_OTHER,
} HttpMethod;

typedef struct Request {
        HttpMethod method;
        const char *target; /* request-target as received */
        size_t target_len;
        bool http11;   /* HTTP/1.1 or later: Host is required */
        bool has_host; /* a Host header was sent */
        bool has_body; /* Content-Length > 0 or Transfer-Encoding */
        const char *accept;
        const char *accept_encoding;
        const char *if_none_match;
        const char *if_modified_since;
} Request;

/* The process state a response depends on. */
typedef struct RespondContext {
        Served *served;    /* NULL before the first snapshot */
        uint64_t now_usec; /* realtime */
        uint64_t max_age_usec;
        uint64_t pin; /* pinning_current() */
        /* Appends the Prometheus text for /metrics. */
        void (*render_metrics)(void *userdata, Buf *out);
        void *userdata;
} RespondContext;

typedef struct Response {
        int status;
        const char *content_type;
        const char *content_encoding; /* NULL: identity */
        const char *etag;             /* points into served */
        const char *last_modified;    /* points into served */
        const char *allow;
        uint64_t generation; /* X-Tally-Generation, 0 = none */
        bool vary;
        bool stale;       /* snapshot older than max_age */
        bool retry_after; /* 503 before the first snapshot */
        bool close;       /* close the connection after this response */
        bool no_body;     /* HEAD or 304: headers only, Content-Length still the body's */
        bool no_store;    /* Cache-Control: no-store (health, metrics, snapshot info) */
        RouteKind route;
        size_t n_pieces;
        Piece pieces[RESPONSE_MAX_PIECES];
        unsigned shared; /* bit i set: pieces[i] lies inside hold */
        Served *hold;    /* the snapshot shared pieces point into (no reference taken) */
        Buf owned;       /* the one dynamic piece (errors, pages, metrics), sized to fit */
} Response;

#define RESPONSE_NULL ((Response){.status = 0})

/* Fills *resp: RESPONSE_NULL or an earlier answer, whose memory is released first.
 * Release the last one with response_done(). */
void respond(const RespondContext *ctx, const Request *req, Response *resp);
size_t response_body_length(const Response *resp);
void response_done(Response *resp);
static inline void response_donep(Response *resp)
{
        response_done(resp);
}
