/* tallyd's HTTP/1.1 request-head parser (server/request.c) on raw bytes off the wire.
 *
 * Checks, beyond "no crash, no leak": the outcome is one of the three; a parsed head
 * consumed at most the bytes given and every string of its Request lies inside the buffer,
 * NUL-terminated there; a refusal names a status the transport answers with a JSON body;
 * the input fed in pieces (every prefix in turn, with the same scan state) gives the same
 * outcome, length and status as the same bytes parsed at once; pipelined heads are parsed
 * one after another until the input is used up. */
#include <string.h>

#include "fuzz.h"
#include "log.h"
#include "request.h"

#define MAX_HEAD 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        log_set_max_level(LOG_EMERG);
        return 0;
}

static void check_string(const char *s, const char *buf, size_t len)
{
        if (!s)
                return;
        FUZZ_ASSERT(s >= buf && s < buf + len);
        FUZZ_ASSERT(memchr(s, 0, (size_t)(buf + len - s)));
}

static void check_head(RequestOutcome o, const RequestHead *h, const char *buf, size_t len)
{
        FUZZ_ASSERT(o == REQUEST_INCOMPLETE || o == REQUEST_PARSED || o == REQUEST_REFUSED);
        if (o == REQUEST_REFUSED) {
                FUZZ_ASSERT(h->status == 400 || h->status == 414 || h->status == 431 ||
                            h->status == 501 || h->status == 505);
                FUZZ_ASSERT(h->error && strncmp(h->error, "{\"error\":", 9) == 0);
        }
        if (o != REQUEST_PARSED)
                return;
        FUZZ_ASSERT(h->length > 0 && h->length <= len && h->length <= MAX_HEAD);
        const Request *r = &h->req;
        FUZZ_ASSERT(r->method == METHOD_GET || r->method == METHOD_HEAD ||
                    r->method == METHOD_OTHER);
        FUZZ_ASSERT(r->target_len > 0 && r->target_len < h->length);
        FUZZ_ASSERT(r->target >= buf && r->target + r->target_len < buf + h->length);
        FUZZ_ASSERT(r->target[r->target_len] == 0);
        FUZZ_ASSERT(r->http11 == !h->http10);
        check_string(r->accept, buf, h->length);
        check_string(r->accept_encoding, buf, h->length);
        check_string(r->if_none_match, buf, h->length);
        check_string(r->if_modified_since, buf, h->length);
}

/* The bytes at once, then (a fresh copy) every prefix in turn: same answer. */
static void check_split(const uint8_t *data, size_t size)
{
        char *once = malloc(size ? size : 1), *split = malloc(size ? size : 1);
        FUZZ_ASSERT(once && split);
        memcpy(once, data, size);
        RequestScan s1 = REQUEST_SCAN_NULL, s2 = REQUEST_SCAN_NULL;
        RequestHead h1, h2;
        RequestOutcome o1 = REQUEST_INCOMPLETE, o2 = REQUEST_INCOMPLETE;
        size_t k;
        /* the first prefix that is complete, fed byte by byte */
        for (k = 1; k <= size; k++) {
                split[k - 1] = (char)data[k - 1];
                o2 = request_parse(&s2, split, k, MAX_HEAD, &h2);
                check_head(o2, &h2, split, k);
                if (o2 != REQUEST_INCOMPLETE)
                        break;
        }
        if (k > size)
                k = size;
        o1 = request_parse(&s1, once, k, MAX_HEAD, &h1);
        check_head(o1, &h1, once, k);
        FUZZ_ASSERT(o1 == o2);
        if (o1 == REQUEST_PARSED)
                FUZZ_ASSERT(h1.length == h2.length && h1.req.method == h2.req.method &&
                            h1.req.target_len == h2.req.target_len &&
                            h1.keep_alive == h2.keep_alive && h1.req.has_body == h2.req.has_body);
        if (o1 == REQUEST_REFUSED)
                FUZZ_ASSERT(h1.status == h2.status);
        free(once);
        free(split);
}

/* Pipelined: head after head from one buffer, as conn.c does. */
static void check_pipeline(const uint8_t *data, size_t size)
{
        char *buf = malloc(size ? size : 1);
        FUZZ_ASSERT(buf);
        memcpy(buf, data, size);
        size_t off = 0;
        for (;;) {
                RequestScan s = REQUEST_SCAN_NULL;
                RequestHead h;
                RequestOutcome o = request_parse(&s, buf + off, size - off, MAX_HEAD, &h);
                check_head(o, &h, buf + off, size - off);
                if (o != REQUEST_PARSED)
                        break;
                off += h.length;
        }
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 2 * MAX_HEAD)
                return 0;
        check_split(data, size);
        check_pipeline(data, size);
        return 0;
}
