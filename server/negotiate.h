/* Content negotiation and conditional requests: which representation a client takes
 * (Accept, Accept-Encoding) and whether its cached copy is still good (If-None-Match,
 * If-Modified-Since). Kept apart from routing because new representations (CSV) and
 * validators land here without touching how paths are split.
 *
 * Header values are parsed as RFC 9110 lists with q-values; NULL means "header absent". */
#pragma once

#include "util.h"

typedef enum Representation {
        REP_JSON,
        REP_MSGPACK,
        REP_CSV,
} Representation;

/* The representation Accept prefers, by q-value: msgpack (application/msgpack,
 * application/x-msgpack), CSV (text/csv, any text type) or JSON (application/json, any
 * type, and whatever else); on equal q msgpack, then CSV, win over a wildcard. */
Representation accept_representation(const char *accept);
/* True if Accept asks for msgpack (application/msgpack or application/x-msgpack) over JSON. */
bool accept_wants_msgpack(const char *accept);
/* True if Accept-Encoding accepts gzip (explicitly or by "*") with q > 0. */
bool accept_encoding_gzip(const char *accept_encoding);
/* True if an If-None-Match list matches etag, by weak comparison ("*" matches all). */
bool etag_list_matches(const char *if_none_match, const char *etag);
/* True if the client's copy is current: If-None-Match against etag when sent, else an
 * exact If-Modified-Since against last_modified (both IMF-fixdate from this server). */
bool conditional_not_modified(const char *if_none_match, const char *if_modified_since,
                              const char *etag, const char *last_modified);
