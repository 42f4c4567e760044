/* tallyd's request routing on raw request targets, and the header-list parsers.
 *
 * Checks, beyond "no crash, no leak": route_parse answers only ROUTE_PARSED,
 * ROUTE_MALFORMED or ROUTE_TOO_LONG; every segment it returns lies inside the caller's scratch
 * space (sized exactly to the target, so a write past it is an ASan error); key counts stay within
 * ROUTE_MAX_KEYS; a decoded string is never longer than its source. */
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "negotiate.h"
#include "route.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        log_set_max_level(LOG_EMERG);
        return 0;
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
        FUZZ_ASSERT(k == ROUTE_PARSED || k == ROUTE_MALFORMED || k == ROUTE_TOO_LONG);
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
        (void)accept_encoding_gzip(s);
        (void)etag_list_matches(s, "\"g42-sales\"");
        (void)etag_list_matches(s, "W/\"g42\"");
        FUZZ_ASSERT(etag_list_matches("*", s)); /* "*" matches any entity */
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        check_route(data, size);
        check_decode(data, size);
        check_headers(data, size);
        return 0;
}
