/* The request-head parser alone (server/request.c): bytes in, Request or refusal out. */
#include "request.h"
#include "test.h"

#define LIMIT 8192

typedef struct Parsed {
        char buf[LIMIT + 64];
        RequestScan scan;
        RequestHead h;
        RequestOutcome o;
} Parsed;

/* Parses s at once from a private copy (the parser writes NULs into it). */
static RequestOutcome parse(Parsed *p, const char *s)
{
        size_t n = strlen(s);
        memcpy(p->buf, s, n);
        p->scan = REQUEST_SCAN_NULL;
        p->o = request_parse(&p->scan, p->buf, n, LIMIT, &p->h);
        return p->o;
}

#define ROW_GET                                                                                     \
        "GET /v1/views/sales/rows/eu/p1?x=1 HTTP/1.1\r\nHost: tally\r\nAccept: application/msgpack" \
        "\r\nAccept-Encoding: gzip\r\nIf-None-Match: \"g1\"\r\nIf-Modified-Since: Tue, 01 Dec "     \
        "2026 10:00:00 GMT\r\nX-Other: y\r\n\r\n"

static void test_a_get_is_parsed_with_the_headers_tally_uses(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, ROW_GET), REQUEST_PARSED);
        const Request *r = &p.h.req;
        CHECK_EQ_INT(r->method, METHOD_GET);
        CHECK_EQ_INT(r->target_len, strlen("/v1/views/sales/rows/eu/p1?x=1"));
        CHECK_STREQ(r->target, "/v1/views/sales/rows/eu/p1?x=1");
        CHECK(r->http11 && r->has_host && !r->has_body);
        CHECK_STREQ(r->accept, "application/msgpack");
        CHECK_STREQ(r->accept_encoding, "gzip");
        CHECK_STREQ(r->if_none_match, "\"g1\"");
        CHECK_STREQ(r->if_modified_since, "Tue, 01 Dec 2026 10:00:00 GMT");
        CHECK(p.h.keep_alive && !p.h.http10);
        CHECK_EQ_INT(p.h.length, strlen(ROW_GET));
}

static void test_a_head_split_at_every_byte_is_parsed_alike(void)
{
        const char *s = ROW_GET;
        size_t n = strlen(s);
        for (size_t cut = 1; cut < n; cut++) {
                /* the first cut bytes, then the rest, with the scan state in between */
                static char buf[LIMIT];
                memcpy(buf, s, n);
                RequestScan scan = REQUEST_SCAN_NULL;
                RequestHead h;
                CHECK_EQ_INT(request_parse(&scan, buf, cut, LIMIT, &h), REQUEST_INCOMPLETE);
                CHECK_EQ_INT(request_parse(&scan, buf, n, LIMIT, &h), REQUEST_PARSED);
                CHECK_EQ_INT(h.length, n);
                CHECK_STREQ(h.req.target, "/v1/views/sales/rows/eu/p1?x=1");
                CHECK_STREQ(h.req.if_modified_since, "Tue, 01 Dec 2026 10:00:00 GMT");
        }
}

static void test_a_head_fed_byte_by_byte_completes_at_its_last_byte(void)
{
        const char *s = ROW_GET;
        size_t n = strlen(s);
        static char buf[LIMIT];
        RequestScan scan = REQUEST_SCAN_NULL;
        RequestHead h;
        for (size_t k = 1; k < n; k++) {
                buf[k - 1] = s[k - 1];
                CHECK_EQ_INT(request_parse(&scan, buf, k, LIMIT, &h), REQUEST_INCOMPLETE);
        }
        buf[n - 1] = s[n - 1];
        CHECK_EQ_INT(request_parse(&scan, buf, n, LIMIT, &h), REQUEST_PARSED);
        CHECK_STREQ(h.req.accept, "application/msgpack");
}

static void test_pipelined_heads_are_parsed_one_after_another(void)
{
        static Parsed p;
        const char *a = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        const char *b = "HEAD /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        char both[256];
        snprintf(both, sizeof(both), "%s%sGET /c", a, b);
        CHECK_EQ_INT(parse(&p, both), REQUEST_PARSED);
        CHECK_EQ_INT(p.h.length, strlen(a));
        CHECK_STREQ(p.h.req.target, "/a");
        size_t off = p.h.length, n = strlen(both);
        RequestScan scan = REQUEST_SCAN_NULL;
        RequestHead h;
        CHECK_EQ_INT(request_parse(&scan, p.buf + off, n - off, LIMIT, &h), REQUEST_PARSED);
        CHECK_EQ_INT(h.req.method, METHOD_HEAD);
        CHECK_STREQ(h.req.target, "/b");
        CHECK(!h.keep_alive);
        off += h.length;
        CHECK_EQ_INT(request_parse(&scan, p.buf + off, n - off, LIMIT, &h), REQUEST_INCOMPLETE);
}

static void test_bare_lf_line_ends_and_leading_empty_lines_are_accepted(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "\r\n\nGET /healthz HTTP/1.1\nHost: x\n\n"), REQUEST_PARSED);
        CHECK_STREQ(p.h.req.target, "/healthz");
        CHECK(p.h.req.has_host);
        CHECK_EQ_INT(p.h.length, strlen("\r\n\nGET /healthz HTTP/1.1\nHost: x\n\n"));
}

static void test_header_names_are_case_insensitive_and_values_trimmed(void)
{
        static Parsed p;
        CHECK_EQ_INT(
            parse(&p, "GET / HTTP/1.1\r\nhOsT:x\r\naccept-ENCODING: \t gzip, br \t\r\n\r\n"),
            REQUEST_PARSED);
        CHECK(p.h.req.has_host);
        CHECK_STREQ(p.h.req.accept_encoding, "gzip, br");
}

static void test_http10_closes_unless_keep_alive_is_asked(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.0\r\n\r\n"), REQUEST_PARSED);
        CHECK(p.h.http10 && !p.h.req.http11 && !p.h.keep_alive && !p.h.req.has_host);
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), REQUEST_PARSED);
        CHECK(p.h.keep_alive);
}

static void test_connection_close_ends_an_http11_connection(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n"),
                     REQUEST_PARSED);
        CHECK(!p.h.keep_alive);
}

static void test_a_later_minor_version_is_served_as_http11(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.7\r\nHost: x\r\n\r\n"), REQUEST_PARSED);
        CHECK(p.h.req.http11 && !p.h.http10);
}

static void test_other_major_versions_get_505(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), REQUEST_REFUSED);
        CHECK_EQ_INT(p.h.status, 505);
        CHECK_EQ_INT(parse(&p, "GET / HTTP/0.9\r\n\r\n"), REQUEST_REFUSED);
        CHECK_EQ_INT(p.h.status, 505);
}

static void test_known_methods_but_get_and_head_reach_respond_for_405(void)
{
        static Parsed p;
        const char *m[] = {"POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH"};
        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                char s[64];
                snprintf(s, sizeof(s), "%s / HTTP/1.1\r\nHost: x\r\n\r\n", m[i]);
                CHECK_EQ_INT(parse(&p, s), REQUEST_PARSED);
                CHECK_EQ_INT(p.h.req.method, METHOD_OTHER);
        }
}

static void test_an_unknown_method_gets_501_in_json(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "FOO / HTTP/1.1\r\nHost: x\r\n\r\n"), REQUEST_REFUSED);
        CHECK_EQ_INT(p.h.status, 501);
        CHECK_STREQ(p.h.error, "{\"error\":\"method not implemented\",\"status\":501}");
        CHECK_EQ_INT(parse(&p, "get / HTTP/1.1\r\nHost: x\r\n\r\n"), REQUEST_REFUSED);
        CHECK_EQ_INT(p.h.status, 501); /* methods are case-sensitive */
}

static void test_malformed_request_lines_get_400(void)
{
        static Parsed p;
        const char *bad[] = {
            "GET /healthz\r\n\r\n",               /* HTTP/0.9 */
            "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", /* two spaces */
            "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", /* trailing space */
            "GET / HTTP/1\r\nHost: x\r\n\r\n",
            "GET / http/1.1\r\nHost: x\r\n\r\n",
            "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\rHost: x\r\n\r\n", /* bare CR */
            "\x80GET / HTTP/1.1\r\n\r\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK_EQ_INT(parse(&p, bad[i]), REQUEST_REFUSED);
                CHECK_EQ_INT(p.h.status, 400);
        }
}

static void test_malformed_header_lines_get_400(void)
{
        static Parsed p;
        const char *bad[] = {
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",           /* space before the colon */
            "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", /* obs-fold */
            "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", /* control byte */
            "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",   /* bare CR */
            "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",   /* two Hosts */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK_EQ_INT(parse(&p, bad[i]), REQUEST_REFUSED);
                CHECK_EQ_INT(p.h.status, 400);
        }
}

static void test_content_length_zero_is_no_body(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 000\r\n\r\n"),
                     REQUEST_PARSED);
        CHECK(!p.h.req.has_body);
}

static void test_a_body_is_flagged_for_respond_to_refuse(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
                     REQUEST_PARSED);
        CHECK(p.h.req.has_body);
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     REQUEST_PARSED);
        CHECK(p.h.req.has_body);
}

static void test_a_bad_or_conflicting_content_length_gets_400(void)
{
        static Parsed p;
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n"),
                     REQUEST_REFUSED);
        CHECK_EQ_INT(p.h.status, 400);
        CHECK_EQ_INT(parse(&p, "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
                     REQUEST_REFUSED);
        CHECK_EQ_INT(p.h.status, 400);
}

static void test_a_request_line_filling_the_limit_gets_414(void)
{
        static char buf[LIMIT];
        memcpy(buf, "GET /", 5);
        memset(buf + 5, 'a', LIMIT - 5);
        RequestScan scan = REQUEST_SCAN_NULL;
        RequestHead h;
        CHECK_EQ_INT(request_parse(&scan, buf, LIMIT - 1, LIMIT, &h), REQUEST_INCOMPLETE);
        CHECK_EQ_INT(request_parse(&scan, buf, LIMIT, LIMIT, &h), REQUEST_REFUSED);
        CHECK_EQ_INT(h.status, 414);
}

static void test_headers_filling_the_limit_get_431(void)
{
        static char buf[LIMIT];
        const char *line = "GET / HTTP/1.1\r\nX: ";
        memset(buf, 'v', LIMIT);
        memcpy(buf, line, strlen(line));
        RequestScan scan = REQUEST_SCAN_NULL;
        RequestHead h;
        CHECK_EQ_INT(request_parse(&scan, buf, LIMIT, LIMIT, &h), REQUEST_REFUSED);
        CHECK_EQ_INT(h.status, 431);
        CHECK_STREQ(h.error, "{\"error\":\"request header fields too large\",\"status\":431}");
}

static void test_a_head_of_exactly_the_limit_is_parsed(void)
{
        static char buf[LIMIT];
        const char *line = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
        memset(buf, 'v', LIMIT);
        memcpy(buf, line, strlen(line));
        memcpy(buf + LIMIT - 4, "\r\n\r\n", 4);
        RequestScan scan = REQUEST_SCAN_NULL;
        RequestHead h;
        CHECK_EQ_INT(request_parse(&scan, buf, LIMIT, LIMIT, &h), REQUEST_PARSED);
        CHECK_EQ_INT(h.length, LIMIT);
}

TEST_MAIN(TEST_CASE(test_a_get_is_parsed_with_the_headers_tally_uses),
          TEST_CASE(test_a_head_split_at_every_byte_is_parsed_alike),
          TEST_CASE(test_a_head_fed_byte_by_byte_completes_at_its_last_byte),
          TEST_CASE(test_pipelined_heads_are_parsed_one_after_another),
          TEST_CASE(test_bare_lf_line_ends_and_leading_empty_lines_are_accepted),
          TEST_CASE(test_header_names_are_case_insensitive_and_values_trimmed),
          TEST_CASE(test_http10_closes_unless_keep_alive_is_asked),
          TEST_CASE(test_connection_close_ends_an_http11_connection),
          TEST_CASE(test_a_later_minor_version_is_served_as_http11),
          TEST_CASE(test_other_major_versions_get_505),
          TEST_CASE(test_known_methods_but_get_and_head_reach_respond_for_405),
          TEST_CASE(test_an_unknown_method_gets_501_in_json),
          TEST_CASE(test_malformed_request_lines_get_400),
          TEST_CASE(test_malformed_header_lines_get_400),
          TEST_CASE(test_content_length_zero_is_no_body),
          TEST_CASE(test_a_body_is_flagged_for_respond_to_refuse),
          TEST_CASE(test_a_bad_or_conflicting_content_length_gets_400),
          TEST_CASE(test_a_request_line_filling_the_limit_gets_414),
          TEST_CASE(test_headers_filling_the_limit_get_431),
          TEST_CASE(test_a_head_of_exactly_the_limit_is_parsed))
