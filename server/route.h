/* Request routing on raw bytes: the request target as the client sent it, split into an
 * endpoint, a percent-decoded view name and key values, and the query parameters tallyd
 * reads (limit, offset, from, to, fields, format), each checked for its syntax here.
 *
 * Pure and allocation-free so it can be fuzzed directly: decoded bytes go into a scratch
 * buffer the caller provides (at least as long as the target), segments point into it. */
#pragma once

#include "util.h"

#define ROUTE_MAX_TARGET 8192 /* longer request targets get 414 */
#define ROUTE_MAX_KEYS   64

typedef enum RouteKind {
        ROUTE_NOT_FOUND,
        ROUTE_HEALTHZ,
        ROUTE_READYZ,
        ROUTE_METRICS,
        ROUTE_VIEWS,    /* /v1/views */
        ROUTE_VIEW,     /* /v1/views/{view} */
        ROUTE_ROW,      /* /v1/views/{view}/rows/{k1}/{k2}... */
        ROUTE_SNAPSHOT, /* /v1/snapshot */
        ROUTE_STATUS,   /* / and /status: the status page (status_page.c) */
        ROUTE_HISTORY,  /* /v1/history (status_page.c) */
        _ROUTE_KIND_MAX,
} RouteKind;

typedef struct Segment {
        const char *p;
        size_t len;
} Segment;

typedef enum RouteFormat {
        ROUTE_FORMAT_ANY, /* no ?format=: Accept decides */
        ROUTE_FORMAT_JSON,
        ROUTE_FORMAT_MSGPACK,
        ROUTE_FORMAT_CSV,
} RouteFormat;

typedef struct Route {
        RouteKind kind;
        Segment view;
        size_t n_keys; /* ROUTE_ROW: as many as the view's keys (one row) or fewer (a prefix) */
        bool has_limit;
        uint64_t limit;
        uint64_t offset;
        bool has_from, has_to; /* ?from=&to=: a time range, microseconds UTC, [from, to) */
        int64_t from, to;
        bool has_fields; /* ?fields=a,b: the decoded list, names not yet checked */
        Segment fields;
        RouteFormat format;
        /* ROUTE_BAD_PARAM: which parameter, and what is wrong with it */
        const char *bad_param;
        const char *bad_reason;
        /* last: route_parse() clears and copies only what comes before, and the keys in
         * use; keys[n_keys..] are undefined */
        Segment keys[ROUTE_MAX_KEYS];
} Route;

/* What route_parse() made of a target: client errors are outcomes, not failures. */
typedef enum RouteOutcome {
        ROUTE_PARSED = 0,    /* *ret filled (kind may be ROUTE_NOT_FOUND) */
        ROUTE_MALFORMED = 1, /* bad percent escape, too many keys: 400 */
        ROUTE_TOO_LONG = 2,  /* longer than ROUTE_MAX_TARGET: 414 */
        ROUTE_BAD_PARAM = 3, /* a parameter's value is wrong: 400 naming ret->bad_param */
} RouteOutcome;

/* Parses target[0..len) ("/path?query", or absolute-form "http://host/path?query").
 * Returns a RouteOutcome (*ret written only for ROUTE_PARSED, and for ROUTE_BAD_PARAM its
 * bad_param and bad_reason, static strings), or -ENOBUFS if scratch holds fewer than len
 * bytes (a caller bug). Parameters tallyd does not read are ignored. */
int route_parse(const char *target, size_t len, char *scratch, size_t scratch_size, Route *ret);

/* Decodes %XX escapes of in[0..len) into out; '+' stays '+' (paths) unless plus_space.
 * Returns the decoded length or -EINVAL. */
ssize_t percent_decode(const char *in, size_t len, char *out, bool plus_space);

const char *route_kind_to_string(RouteKind k);
