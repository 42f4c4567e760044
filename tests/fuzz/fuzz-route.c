/* tallyd's request routing on raw request targets, and the header-list parsers.
 *
 * Checks, beyond "no crash, no leak": route_parse answers only ROUTE_PARSED,
 * ROUTE_MALFORMED, ROUTE_TOO_LONG or ROUTE_BAD_PARAM (naming the parameter);
 * respond() answers it over snapshots with time keys (prefixes, ranges, CSV, ?fields=) with
 * a documented status and readable, well-ended bodies; every segment it
 * returns lies inside the caller's scratch space (sized exactly to the target, so a write past it
 * is an ASan error); key counts stay within ROUTE_MAX_KEYS; a decoded string is never longer than
 * its source. */
#include <string.h>

#include "../server/snapfix.h"
#include "fuzz.h"
#include "log.h"
#include "negotiate.h"
#include "respond.h"
#include "route.h"

/* Two snapshots to answer from: one with time keys in key order (prefixes, ranges, CSV,
 * fields all apply), one whose "sales" view is out of key order. */
static Served *series, *unsorted;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        log_set_max_level(LOG_EMERG);
        Snapshot *s = snapfix_series(3);
        FUZZ_ASSERT(s && served_new(s, &series) == 0);
        snapshot_free(s);
        s = snapfix_build(4, 20);
        FUZZ_ASSERT(s && served_new(s, &unsorted) == 0);
        snapshot_free(s);
        return 0;
}

/* respond() on the input as a request target: a status it documents, a body whose every
 * piece can be read, and documents that end as their format says. */
static void check_respond(const uint8_t *data, size_t size)
{
        static const char *const accepts[] = {NULL, "text/csv", "application/msgpack", "*/*"};
        Request req = {.method = METHOD_GET,
                       .target = (const char *)data,
                       .target_len = size,
                       .http11 = true,
                       .has_host = true,
                       .accept = accepts[size % 4],
                       .accept_encoding = size % 3 ? NULL : "gzip"};
        for (int which = 0; which < 2; which++) {
                RespondContext ctx = {.served = which ? unsorted : series,
                                      .now_usec = 1767225600000000,
                                      .max_age_usec = 600 * USEC_PER_SEC};
                Response resp = RESPONSE_NULL;
                respond(&ctx, &req, &resp);
                int st = resp.status;
                FUZZ_ASSERT(st == 200 || st == 304 || st == 400 || st == 404 || st == 414 ||
                            st == 500 || (st == 503 && resp.route == ROUTE_READYZ)); /* stale */
                size_t total = 0;
                volatile char sink = 0;
                for (size_t i = 0; i < resp.n_pieces; i++) {
                        for (size_t j = 0; j < resp.pieces[i].len; j++)
                                sink ^= resp.pieces[i].p[j];
                        total += resp.pieces[i].len;
                }
                (void)sink;
                FUZZ_ASSERT(total == response_body_length(&resp));
                const char *last = total ? resp.pieces[resp.n_pieces - 1].p : NULL;
                size_t last_len = total ? resp.pieces[resp.n_pieces - 1].len : 0;
                if (st == 500) /* only a view out of key order refuses prefixes */
                        FUZZ_ASSERT(which == 1);
                if (st == 200 && !resp.content_encoding && total &&
                    (resp.route == ROUTE_VIEW || resp.route == ROUTE_ROW)) {
                        if (strncmp(resp.content_type, "text/csv", 8) == 0)
                                FUZZ_ASSERT(last_len >= 2 &&
                                            memcmp(last + last_len - 2, "\r\n", 2) == 0);
                        else if (strncmp(resp.content_type, "application/json", 16) == 0)
                                FUZZ_ASSERT(resp.pieces[0].p[0] == '{' &&
                                            last[last_len - 1] == '}');
                }
                response_done(&resp);
        }
}

static void check_segment(const Segment *s, const char *scratch, size_t size)
{
        FUZZ_ASSERT(s->len <= size);
        if (s->len > 0)
                FUZZ_ASSERT(s->p >= scratch && s->p + s->len <= scratch + size);
}

static void check_route(const uint8_t *data, size_t size)
{
        char *scratch = malloc(size ? size : 1);
        FUZZ_ASSERT(scratch);
        Route r;
        memset(&r, 0xa5, sizeof(r)); /* a result that is not written must not be trusted */
        int k = route_parse((const char *)data, size, scratch, size, &r);
        FUZZ_ASSERT(k == ROUTE_PARSED || k == ROUTE_MALFORMED || k == ROUTE_TOO_LONG ||
                    k == ROUTE_BAD_PARAM);
        if (k == ROUTE_BAD_PARAM)
                FUZZ_ASSERT(r.bad_param && r.bad_reason && r.bad_param[0]);
        if (size > ROUTE_MAX_TARGET)
                FUZZ_ASSERT(k == ROUTE_TOO_LONG);
        if (k == ROUTE_PARSED) {
                FUZZ_ASSERT(r.kind >= ROUTE_NOT_FOUND && r.kind < _ROUTE_KIND_MAX);
                FUZZ_ASSERT(strcmp(route_kind_to_string(r.kind), "unknown") != 0);
                if (r.kind == ROUTE_VIEW || r.kind == ROUTE_ROW) {
                        FUZZ_ASSERT(r.view.len > 0);
                        check_segment(&r.view, scratch, size);
                }
                if (r.kind == ROUTE_ROW) {
                        FUZZ_ASSERT(r.n_keys >= 1 && r.n_keys <= ROUTE_MAX_KEYS);
                        for (size_t i = 0; i < r.n_keys; i++)
                                check_segment(&r.keys[i], scratch, size);
                }
                if (r.kind == ROUTE_VIEW || r.kind == ROUTE_ROW) {
                        /* touch the decoded bytes: a stale pointer shows up here */
                        volatile char sink = 0;
                        for (size_t i = 0; i < r.view.len; i++)
                                sink ^= r.view.p[i];
                        (void)sink;
                }
        }
        free(scratch);
}

static void check_decode(const uint8_t *data, size_t size)
{
        char *out = malloc(size ? size : 1);
        FUZZ_ASSERT(out);
        for (int plus = 0; plus <= 1; plus++) {
                ssize_t n = percent_decode((const char *)data, size, out, plus);
                FUZZ_ASSERT(n == -EINVAL || (n >= 0 && (size_t)n <= size));
        }
        free(out);
}

static void check_headers(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        FUZZ_ASSERT(s);
        memcpy(s, data, size);
        s[size] = 0;
        (void)accept_wants_msgpack(s);
        (void)accept_representation(s);
        (void)accept_encoding_gzip(s);
        (void)etag_list_matches(s, "\"g42-sales\"");
        (void)etag_list_matches(s, "W/\"g42\"");
        FUZZ_ASSERT(etag_list_matches("*", s)); /* "*" matches any entity */
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        check_route(data, size);
        check_respond(data, size);
        check_decode(data, size);
        check_headers(data, size);
        return 0;
}
