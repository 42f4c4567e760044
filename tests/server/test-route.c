#include "route.h"
#include "test.h"

static int parse(const char *t, Route *r)
{
        static char scratch[ROUTE_MAX_TARGET + 16];
        return route_parse(t, strlen(t), scratch, sizeof(scratch), r);
}

static void test_fixed_endpoints(void)
{
        Route r;
        CHECK_EQ_INT(parse("/healthz", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_HEALTHZ);
        CHECK_EQ_INT(parse("/readyz", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_READYZ);
        CHECK_EQ_INT(parse("/metrics", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_METRICS);
        CHECK_EQ_INT(parse("/v1/views", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_VIEWS);
        CHECK_EQ_INT(parse("/v1/snapshot", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_SNAPSHOT);
        CHECK_EQ_INT(parse("/", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_STATUS);
        CHECK_EQ_INT(parse("/status?x=1", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_STATUS);
        CHECK_EQ_INT(parse("/v1/history", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_HISTORY);
}

static void test_unknown_paths_are_not_found(void)
{
        static const char *const paths[] = {"//",
                                            "/v1",
                                            "/v1/",
                                            "/v1/views/",
                                            "/healthz/",
                                            "/v2/views",
                                            "/v1/views/sales/rows",
                                            "/v1/views/sales/rows/",
                                            "/v1/views/sales/x/a",
                                            "/HEALTHZ",
                                            "/v1/snapshot/x",
                                            "/status/",
                                            "/v1/history/x"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                Route r;
                int k = parse(paths[i], &r);
                if (k == 0 && r.kind != ROUTE_NOT_FOUND && r.kind != ROUTE_ROW)
                        fprintf(stderr, "# %s routed to %s\n", paths[i],
                                route_kind_to_string(r.kind));
                CHECK(k == 0);
                /* "/v1/views/sales/rows/" has one empty key: a row lookup that finds nothing */
                CHECK(r.kind == ROUTE_NOT_FOUND ||
                      (r.kind == ROUTE_ROW && strcmp(paths[i], "/v1/views/sales/rows/") == 0));
        }
}

static void test_view_and_query(void)
{
        Route r;
        CHECK_EQ_INT(parse("/v1/views/sales?limit=10&offset=20", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_VIEW);
        CHECK(r.view.len == 5 && memcmp(r.view.p, "sales", 5) == 0);
        CHECK(r.has_limit);
        CHECK_EQ_INT(r.limit, 10);
        CHECK_EQ_INT(r.offset, 20);
        CHECK_EQ_INT(parse("/v1/views/sales?other=x&offset=3", &r), 0);
        CHECK(!r.has_limit);
        CHECK_EQ_INT(r.offset, 3);
        CHECK_EQ_INT(parse("/v1/views/sales?limit=%31%32", &r), 0);
        CHECK_EQ_INT(r.limit, 12);
}

static void test_bad_queries_are_rejected(void)
{
        Route r;
        CHECK_EQ_INT(parse("/v1/views/sales?limit=-1", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "limit");
        CHECK_EQ_INT(parse("/v1/views/sales?limit=", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "limit");
        CHECK_EQ_INT(parse("/v1/views/sales?offset=1x", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "offset");
        CHECK_EQ_INT(parse("/v1/views/sales?limit=99999999999999", &r), ROUTE_BAD_PARAM);
        CHECK_EQ_INT(parse("/v1/views/sales?limit=%zz", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "limit");
        CHECK_EQ_INT(parse("/v1/views/sales?%zz=1", &r), ROUTE_MALFORMED);
        /* a parameter tallyd does not read is ignored, even with a bad escape */
        CHECK_EQ_INT(parse("/v1/views/sales?utm=%zz", &r), ROUTE_PARSED);
}

static void test_time_ranges(void)
{
        Route r;
        CHECK_EQ_INT(parse("/v1/views/s/rows/eu?from=2026-01-01T00:05:00Z&to=1767226500", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_ROW);
        CHECK(r.has_from && r.has_to);
        CHECK_EQ_INT(r.from, 1767225900000000);
        CHECK_EQ_INT(r.to, 1767226500000000);
        CHECK_EQ_INT(parse("/v1/views/s?to=2026-01-01", &r), 0);
        CHECK(!r.has_from && r.has_to);
        CHECK_EQ_INT(parse("/v1/views/s?from=2026-01-01T00:00:00%2B01:00", &r), 0);
        CHECK_EQ_INT(r.from, 1767222000000000);
        CHECK_EQ_INT(parse("/v1/views/s?from=yesterday", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "from");
        CHECK_EQ_INT(parse("/v1/views/s?to=", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "to");
        CHECK_EQ_INT(parse("/v1/views/s?from=20&to=10", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "to");
        CHECK_EQ_INT(parse("/v1/views/s?from=10&to=10", &r), ROUTE_PARSED); /* empty, not wrong */
}

static void test_fields_and_format(void)
{
        Route r;
        static char scratch[ROUTE_MAX_TARGET];
        const char *t = "/v1/views/s/rows/a?fields=sum%28amount%29,count&limit=2&format=csv";
        CHECK_EQ_INT(route_parse(t, strlen(t), scratch, strlen(t), &r), 0);
        CHECK(r.has_fields);
        CHECK(r.fields.len == 17 && memcmp(r.fields.p, "sum(amount),count", 17) == 0);
        CHECK_EQ_INT(r.format, ROUTE_FORMAT_CSV);
        CHECK_EQ_INT(r.limit, 2);
        CHECK_EQ_INT(parse("/v1/views/s?format=msgpack", &r), 0);
        CHECK_EQ_INT(r.format, ROUTE_FORMAT_MSGPACK);
        CHECK_EQ_INT(parse("/v1/views/s?format=json", &r), 0);
        CHECK_EQ_INT(r.format, ROUTE_FORMAT_JSON);
        CHECK_EQ_INT(parse("/v1/views/s", &r), 0);
        CHECK_EQ_INT(r.format, ROUTE_FORMAT_ANY);
        CHECK_EQ_INT(parse("/v1/views/s?format=xml", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "format");
        CHECK_EQ_INT(parse("/v1/views/s?fields=", &r), ROUTE_BAD_PARAM);
        CHECK_STREQ(r.bad_param, "fields");
}

static void test_prefixes_are_row_routes_with_fewer_keys(void)
{
        Route r;
        CHECK_EQ_INT(parse("/v1/views/s/rows/eu-west", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_ROW);
        CHECK_EQ_INT(r.n_keys, 1);
        CHECK(r.keys[0].len == 7 && memcmp(r.keys[0].p, "eu-west", 7) == 0);
}

static void test_row_keys_are_percent_decoded(void)
{
        Route r;
        CHECK_EQ_INT(parse("/v1/views/sales/rows/eu%2Dwest/p%2F1", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_ROW);
        CHECK_EQ_INT(r.n_keys, 2);
        CHECK(r.keys[0].len == 7 && memcmp(r.keys[0].p, "eu-west", 7) == 0);
        CHECK(r.keys[1].len == 3 && memcmp(r.keys[1].p, "p/1", 3) == 0);
        CHECK_EQ_INT(parse("/v1/views/s%20x/rows/a+b", &r), 0);
        CHECK(r.view.len == 3 && memcmp(r.view.p, "s x", 3) == 0);
        CHECK(r.keys[0].len == 3 && memcmp(r.keys[0].p, "a+b", 3) == 0); /* '+' is literal */
        CHECK_EQ_INT(parse("/v1/views/sales/rows/%E2%82%AC", &r), 0);
        CHECK(r.keys[0].len == 3 && memcmp(r.keys[0].p, "\xe2\x82\xac", 3) == 0);
}

static void test_bad_escapes_are_rejected(void)
{
        Route r;
        CHECK_EQ_INT(parse("/v1/views/sales/rows/%", &r), ROUTE_MALFORMED);
        CHECK_EQ_INT(parse("/v1/views/sales/rows/%4", &r), ROUTE_MALFORMED);
        CHECK_EQ_INT(parse("/v1/views/sales/rows/%g0", &r), ROUTE_MALFORMED);
        CHECK_EQ_INT(parse("views", &r), ROUTE_MALFORMED);
        CHECK_EQ_INT(parse("", &r), ROUTE_MALFORMED);
}

static void test_too_many_keys_are_malformed(void)
{
        char t[ROUTE_MAX_TARGET];
        int n = snprintf(t, sizeof(t), "/v1/views/v/rows");
        for (int i = 0; i < ROUTE_MAX_KEYS + 1; i++)
                n += snprintf(t + n, sizeof(t) - (size_t)n, "/k");
        Route r;
        CHECK_EQ_INT(parse(t, &r), ROUTE_MALFORMED);
}

static void test_targets_beyond_the_limit_are_too_long(void)
{
        char t[ROUTE_MAX_TARGET + 2];
        memset(t, 'a', sizeof(t) - 1);
        t[0] = '/';
        t[sizeof(t) - 1] = 0;
        Route r;
        CHECK_EQ_INT(parse(t, &r), ROUTE_TOO_LONG);
        t[ROUTE_MAX_TARGET] = 0; /* exactly at the limit: parsed */
        CHECK_EQ_INT(parse(t, &r), ROUTE_PARSED);
}

static void test_absolute_form(void)
{
        Route r;
        CHECK_EQ_INT(parse("http://example.com/healthz", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_HEALTHZ);
        CHECK_EQ_INT(parse("HTTPS://h:1/v1/views?x", &r), 0);
        CHECK_EQ_INT(r.kind, ROUTE_VIEWS);
        CHECK_EQ_INT(parse("http://h", &r), 0); /* no path: "/", the status page */
        CHECK_EQ_INT(r.kind, ROUTE_STATUS);
}

static void test_escaped_and_plain_paths_agree(void)
{
        /* the same keys spelled with and without escapes (two code paths in route.c) */
        static const char *const pairs[][2] = {
            {"/v1/views/sales/rows/eu/p1", "/v1/views/%73ales/rows/%65u/p%31"},
            {"/v1/views/sales/rows/eu/p1?limit=3", "/v1/views/sales/rows/e%75/p1?limit=3"},
            {"/v1/views/s", "/v1/views/%73"},
            {"/v1/views//rows/a", "/v1/views/%2F/rows/a"},
        };
        for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                Route a, b;
                static char sa[256], sb[256];
                CHECK_EQ_INT(route_parse(pairs[i][0], strlen(pairs[i][0]), sa, sizeof(sa), &a), 0);
                CHECK_EQ_INT(route_parse(pairs[i][1], strlen(pairs[i][1]), sb, sizeof(sb), &b), 0);
                if (i == 3) { /* an escaped slash is a byte of the name, not a separator */
                        CHECK_EQ_INT(a.kind, ROUTE_NOT_FOUND);
                        CHECK_EQ_INT(b.kind, ROUTE_ROW);
                        CHECK(b.view.len == 1 && b.view.p[0] == '/');
                        continue;
                }
                CHECK_EQ_INT(a.kind, b.kind);
                CHECK(a.view.len == b.view.len && memcmp(a.view.p, b.view.p, a.view.len) == 0);
                CHECK_EQ_INT(a.n_keys, b.n_keys);
                for (size_t k = 0; k < a.n_keys; k++)
                        CHECK(a.keys[k].len == b.keys[k].len &&
                              memcmp(a.keys[k].p, b.keys[k].p, a.keys[k].len) == 0);
                CHECK_EQ_INT(a.has_limit, b.has_limit);
                CHECK_EQ_INT(a.limit, b.limit);
        }
}

TEST_MAIN(TEST_CASE(test_fixed_endpoints), TEST_CASE(test_unknown_paths_are_not_found),
          TEST_CASE(test_view_and_query), TEST_CASE(test_bad_queries_are_rejected),
          TEST_CASE(test_time_ranges), TEST_CASE(test_fields_and_format),
          TEST_CASE(test_prefixes_are_row_routes_with_fewer_keys),
          TEST_CASE(test_row_keys_are_percent_decoded), TEST_CASE(test_bad_escapes_are_rejected),
          TEST_CASE(test_too_many_keys_are_malformed),
          TEST_CASE(test_targets_beyond_the_limit_are_too_long), TEST_CASE(test_absolute_form),
          TEST_CASE(test_escaped_and_plain_paths_agree))
