/* What to answer to one request, decided without any I/O.
 *
 * The HTTP glue (httpd.c) fills a Request from libevent and turns the Response back into
 * libevent calls; everything between — routing, representation choice, ETag and 304,
 * HEAD, errors, limits — happens here on plain data, so it is unit-tested and fuzzed
 * without sockets. A Response body is a list of pieces: slices of the Served snapshot
 * (which the glue sends by reference, holding a snapshot reference), static strings, or
 * bytes in the Response's own scratch. */
#pragma once

#include "buf.h"
#include "route.h"
#include "served.h"

typedef struct StatusPage StatusPage;

#define RESPONSE_MAX_PIECES 4

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
        /* Appends the Prometheus text for /metrics. */
        void (*render_metrics)(void *userdata, Buf *out);
        void *userdata;
        StatusPage *status; /* / and /v1/history; NULL: 404 */
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
        RouteKind route;
        size_t n_pieces;
        Piece pieces[RESPONSE_MAX_PIECES];
        Buf owned; /* dynamic bodies (/metrics), freed by response_done */
        /* Pieces owned by something other than the snapshot (the status page's bodies):
         * the glue takes keep_ref() for each piece it sends by reference and releases it
         * with keep_unref; response_done drops the response's own reference. */
        void *keep;
        void *(*keep_ref)(void *keep);
        void (*keep_unref)(const void *data, size_t len, void *keep);
        const char *csp; /* Content-Security-Policy, NULL: none */
        char scratch[512];
} Response;

void respond(const RespondContext *ctx, const Request *req, Response *resp);
size_t response_body_length(const Response *resp);
void response_done(Response *resp);
