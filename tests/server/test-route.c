#include "route.h"
#include "test.h"

static int parse(const char *t, Route *r)
{
        static char scratch[ROUTE_MAX_TARGET + 16];
        return route_parse(t, strlen(t), scratch, sizeof(scratch), r);
}

static bool segment_is(Segment s, const char *want)
{
        return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* A target that parses to a route of this kind and format. */
typedef struct KindRow {
        const char *target;
        RouteKind kind;
        RouteFormat format;
} KindRow;

static void check_kind(const KindRow *row)
{
        Route r;
        CHECK_EQ_INT(parse(row->target, &r), ROUTE_PARSED);
        CHECK_EQ_INT(r.kind, row->kind);
        CHECK_EQ_INT(r.format, row->format);
}

static void test_fixed_endpoints(void)
{
        static const KindRow rows[] = {
            {"/healthz", ROUTE_HEALTHZ},      {"/readyz", ROUTE_READYZ},
            {"/metrics", ROUTE_METRICS},      {"/v1/views", ROUTE_VIEWS},
            {"/v1/snapshot", ROUTE_SNAPSHOT}, {"/", ROUTE_STATUS},
            {"/status?x=1", ROUTE_STATUS},    {"/v1/history", ROUTE_HISTORY},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].target, check_kind(&rows[i]));
}

/* A target route_parse() refuses (or, for ROUTE_PARSED, does not), naming the parameter
 * when bad_param is set. */
typedef struct OutcomeRow {
        const char *target;
        RouteOutcome outcome;
        const char *bad_param;
} OutcomeRow;

static void check_outcome(const OutcomeRow *row)
{
        Route r;
        CHECK_EQ_INT(parse(row->target, &r), row->outcome);
        if (row->bad_param)
                CHECK_STREQ(r.bad_param, row->bad_param);
}

static void check_outcomes(const OutcomeRow *rows, size_t n)
{
        for (size_t i = 0; i < n; i++)
                TEST_ROW(rows[i].target, check_outcome(&rows[i]));
}

static void check_not_found(const char *path)
{
        Route r;
        int k = parse(path, &r);
        if (k == 0 && r.kind != ROUTE_NOT_FOUND && r.kind != ROUTE_ROW)
                fprintf(stderr, "# %s routed to %s\n", path, route_kind_to_string(r.kind));
        CHECK(k == 0);
        /* "/v1/views/sales/rows/" has one empty key: a row lookup that finds nothing */
        CHECK(r.kind == ROUTE_NOT_FOUND ||
              (r.kind == ROUTE_ROW && strcmp(path, "/v1/views/sales/rows/") == 0));
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
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                TEST_ROW(paths[i], check_not_found(paths[i]));
}

/* A view's page: has_limit and limit, and offset, as the query says. */
typedef struct PageRow {
        const char *target;
        bool has_limit;
        uint64_t limit, offset;
} PageRow;

static void check_page(const PageRow *row)
{
        Route r;
        CHECK_EQ_INT(parse(row->target, &r), ROUTE_PARSED);
        CHECK_EQ_INT(r.kind, ROUTE_VIEW);
        CHECK(segment_is(r.view, "sales"));
        CHECK_EQ_INT(r.has_limit, row->has_limit);
        if (row->has_limit)
                CHECK_EQ_INT(r.limit, row->limit);
        CHECK_EQ_INT(r.offset, row->offset);
}

static void test_view_and_query(void)
{
        static const PageRow rows[] = {
            {"/v1/views/sales?limit=10&offset=20", true, 10, 20},
            {"/v1/views/sales?other=x&offset=3", false, 0, 3},
            {"/v1/views/sales?limit=%31%32", true, 12, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].target, check_page(&rows[i]));
}

static void test_bad_queries_are_rejected(void)
{
        static const OutcomeRow rows[] = {
            {"/v1/views/sales?limit=-1", ROUTE_BAD_PARAM, "limit"},
            {"/v1/views/sales?limit=", ROUTE_BAD_PARAM, "limit"},
            {"/v1/views/sales?offset=1x", ROUTE_BAD_PARAM, "offset"},
            {"/v1/views/sales?limit=99999999999999", ROUTE_BAD_PARAM, "limit"},
            {"/v1/views/sales?limit=%zz", ROUTE_BAD_PARAM, "limit"},
            {"/v1/views/sales?%zz=1", ROUTE_MALFORMED, NULL},
            /* a parameter tallyd does not read is ignored, even with a bad escape */
            {"/v1/views/sales?utm=%zz", ROUTE_PARSED, NULL},
        };
        check_outcomes(rows, ELEMENTSOF(rows));
}

/* A time range: from and to when given, microseconds UTC. */
typedef struct RangeRow {
        const char *target;
        RouteKind kind;
        bool has_from, has_to;
        int64_t from, to;
} RangeRow;

static void check_range(const RangeRow *row)
{
        Route r;
        CHECK_EQ_INT(parse(row->target, &r), ROUTE_PARSED);
        CHECK_EQ_INT(r.kind, row->kind);
        CHECK_EQ_INT(r.has_from, row->has_from);
        CHECK_EQ_INT(r.has_to, row->has_to);
        if (row->has_from)
                CHECK_EQ_INT(r.from, row->from);
        if (row->has_to)
                CHECK_EQ_INT(r.to, row->to);
}

static void test_time_ranges(void)
{
        static const RangeRow rows[] = {
            {"/v1/views/s/rows/eu?from=2026-01-01T00:05:00Z&to=1767226500", ROUTE_ROW, true, true,
             1767225900000000, 1767226500000000},
            {"/v1/views/s?to=2026-01-01", ROUTE_VIEW, false, true, 0, 1767225600000000},
            {"/v1/views/s?from=2026-01-01T00:00:00%2B01:00", ROUTE_VIEW, true, false,
             1767222000000000, 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].target, check_range(&rows[i]));
}

static void test_bad_time_ranges_are_rejected(void)
{
        static const OutcomeRow rows[] = {
            {"/v1/views/s?from=yesterday", ROUTE_BAD_PARAM, "from"},
            {"/v1/views/s?to=", ROUTE_BAD_PARAM, "to"},
            {"/v1/views/s?from=20&to=10", ROUTE_BAD_PARAM, "to"},
            {"/v1/views/s?from=10&to=10", ROUTE_PARSED, NULL}, /* empty, not wrong */
        };
        check_outcomes(rows, ELEMENTSOF(rows));
}

static void test_fields_and_format(void)
{
        Route r;
        static char scratch[ROUTE_MAX_TARGET];
        const char *t = "/v1/views/s/rows/a?fields=sum%28amount%29,count&limit=2&format=csv";
        CHECK_EQ_INT(route_parse(t, strlen(t), scratch, strlen(t), &r), 0);
        CHECK(r.has_fields);
        CHECK(segment_is(r.fields, "sum(amount),count"));
        CHECK_EQ_INT(r.format, ROUTE_FORMAT_CSV);
        CHECK_EQ_INT(r.limit, 2);
}

static void test_formats(void)
{
        static const KindRow rows[] = {
            {"/v1/views/s?format=msgpack", ROUTE_VIEW, ROUTE_FORMAT_MSGPACK},
            {"/v1/views/s?format=json", ROUTE_VIEW, ROUTE_FORMAT_JSON},
            {"/v1/views/s", ROUTE_VIEW, ROUTE_FORMAT_ANY},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].target, check_kind(&rows[i]));
}

static void test_bad_fields_and_formats_are_rejected(void)
{
        static const OutcomeRow rows[] = {
            {"/v1/views/s?format=xml", ROUTE_BAD_PARAM, "format"},
            {"/v1/views/s?fields=", ROUTE_BAD_PARAM, "fields"},
        };
        check_outcomes(rows, ELEMENTSOF(rows));
}

/* A row route: its view and its decoded keys. */
typedef struct KeysRow {
        const char *target;
        const char *view;
        size_t n_keys;
        const char *keys[2];
} KeysRow;

static void check_keys(const KeysRow *row)
{
        Route r;
        CHECK_EQ_INT(parse(row->target, &r), ROUTE_PARSED);
        CHECK_EQ_INT(r.kind, ROUTE_ROW);
        CHECK(segment_is(r.view, row->view));
        CHECK_EQ_INT(r.n_keys, row->n_keys);
        for (size_t k = 0; k < row->n_keys; k++)
                CHECK(segment_is(r.keys[k], row->keys[k]));
}

static void test_prefixes_are_row_routes_with_fewer_keys(void)
{
        static const KeysRow row = {"/v1/views/s/rows/eu-west", "s", 1, {"eu-west"}};
        check_keys(&row);
}

static void test_row_keys_are_percent_decoded(void)
{
        static const KeysRow rows[] = {
            {"/v1/views/sales/rows/eu%2Dwest/p%2F1", "sales", 2, {"eu-west", "p/1"}},
            {"/v1/views/s%20x/rows/a+b", "s x", 1, {"a+b"}}, /* '+' is literal */
            {"/v1/views/sales/rows/%E2%82%AC", "sales", 1, {"\xe2\x82\xac"}},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].target, check_keys(&rows[i]));
}

static void test_bad_escapes_are_rejected(void)
{
        static const OutcomeRow rows[] = {
            {"/v1/views/sales/rows/%", ROUTE_MALFORMED, NULL},
            {"/v1/views/sales/rows/%4", ROUTE_MALFORMED, NULL},
            {"/v1/views/sales/rows/%g0", ROUTE_MALFORMED, NULL},
            {"views", ROUTE_MALFORMED, NULL},
            {"", ROUTE_MALFORMED, NULL},
        };
        check_outcomes(rows, ELEMENTSOF(rows));
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
        static const KindRow rows[] = {
            {"http://example.com/healthz", ROUTE_HEALTHZ},
            {"HTTPS://h:1/v1/views?x", ROUTE_VIEWS},
            {"http://h", ROUTE_STATUS}, /* no path: "/", the status page */
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].target, check_kind(&rows[i]));
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
          TEST_CASE(test_time_ranges), TEST_CASE(test_bad_time_ranges_are_rejected),
          TEST_CASE(test_fields_and_format), TEST_CASE(test_formats),
          TEST_CASE(test_bad_fields_and_formats_are_rejected),
          TEST_CASE(test_prefixes_are_row_routes_with_fewer_keys),
          TEST_CASE(test_row_keys_are_percent_decoded), TEST_CASE(test_bad_escapes_are_rejected),
          TEST_CASE(test_too_many_keys_are_malformed),
          TEST_CASE(test_targets_beyond_the_limit_are_too_long), TEST_CASE(test_absolute_form),
          TEST_CASE(test_escaped_and_plain_paths_agree))
