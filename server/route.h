/* Request routing on raw bytes: the request target as the client sent it, split into an
 * endpoint, a percent-decoded view name and key values, and the limit/offset query.
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

typedef struct Route {
        RouteKind kind;
        Segment view;
        size_t n_keys;
        Segment keys[ROUTE_MAX_KEYS];
        bool has_limit;
        uint64_t limit;
        uint64_t offset;
} Route;

/* Parses target[0..len) ("/path?query", or absolute-form "http://host/path?query").
 * Returns 0 (kind may be ROUTE_NOT_FOUND), -EINVAL for a malformed target (bad percent
 * escape, bad limit/offset, too many keys: answer 400), -ENAMETOOLONG beyond
 * ROUTE_MAX_TARGET (414). scratch must hold len bytes. */
int route_parse(const char *target, size_t len, char *scratch, size_t scratch_size, Route *ret);

/* Decodes %XX escapes of in[0..len) into out; '+' stays '+' (paths) unless plus_space.
 * Returns the decoded length or -EINVAL. */
ssize_t percent_decode(const char *in, size_t len, char *out, bool plus_space);

const char *route_kind_to_string(RouteKind k);

/* Header values that choose the representation, parsed as RFC 9110 lists with q-values. */
/* True if Accept asks for msgpack (application/msgpack or application/x-msgpack) over JSON. */
bool accept_wants_msgpack(const char *accept);
/* True if Accept-Encoding accepts gzip (explicitly or by "*") with q > 0. */
bool accept_encoding_gzip(const char *accept_encoding);
/* True if an If-None-Match list matches etag, by weak comparison ("*" matches all). */
bool etag_list_matches(const char *if_none_match, const char *etag);
