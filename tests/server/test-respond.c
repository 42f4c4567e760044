#include <msgpack.h>

#include "pinning.h"
#include "respond.h"
#include "snapfix.h"
#include "test.h"

static Served *sv;

static void body(const Response *r, char *out, size_t n)
{
        size_t o = 0;
        for (size_t i = 0; i < r->n_pieces && o + r->pieces[i].len < n; i++) {
                memcpy(out + o, r->pieces[i].p, r->pieces[i].len);
                o += r->pieces[i].len;
        }
        out[o] = 0;
}

/* A request for target over HTTP/1.1 with a Host, as most requests are. */
static Request request(HttpMethod method, const char *target)
{
        return (Request){.method = method,
                         .target = target,
                         .target_len = strlen(target),
                         .http11 = true,
                         .has_host = true};
}

/* The sales fixture is 5 seconds old, with a 10 minute max age. */
#define SALES_NOW_USEC (1714564800000000 + 5 * USEC_PER_SEC)

static void get(Served *s, const char *target, Response *resp, char *out, size_t n)
{
        Request req = request(METHOD_GET, target);
        RespondContext ctx = {
            .served = s, .now_usec = SALES_NOW_USEC, .max_age_usec = 600 * USEC_PER_SEC};
        respond(&ctx, &req, resp);
        body(resp, out, n);
}

/* One GET and what its reply must be; fields left 0 or NULL are not checked. */
typedef struct GetRow {
        const char *target;
        const char *accept, *accept_encoding;
        int status;
        const char *body;   /* the whole body */
        const char *has[2]; /* words the body holds */
        const char *content_type;
        bool identity; /* no content encoding */
} GetRow;

static void check_reply(const GetRow *row, const Response *r, const char *b)
{
        if (row->status)
                CHECK_EQ_INT(r->status, row->status);
        if (row->body)
                CHECK_STREQ(b, row->body);
        for (size_t i = 0; i < ELEMENTSOF(row->has) && row->has[i]; i++)
                if (!strstr(b, row->has[i])) {
                        fprintf(stderr, "# body: %s\n", b);
                        CHECK(strstr(b, row->has[i]));
                }
        if (row->content_type)
                CHECK_STREQ(r->content_type, row->content_type);
        if (row->identity)
                CHECK(r->content_encoding == NULL);
}

static void setup(void)
{
        if (!sv) {
                Snapshot *s = snapfix_build(9, 600);
                served_new(s, &sv);
                snapshot_free(s);
        }
}

static void check_sales_get(const GetRow *row)
{
        setup();
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        static char b[1 << 20];
        get(sv, row->target, &r, b, sizeof(b));
        check_reply(row, &r, b);
}

static void check_sales_gets(const GetRow *rows, size_t n)
{
        for (size_t i = 0; i < n; i++)
                TEST_ROW(rows[i].target, check_sales_get(&rows[i]));
}

static void test_healthz_always_ok(void)
{
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[256];
        get(NULL, "/healthz", &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK_STREQ(b, "{\"status\":\"ok\"}");
}

static void test_data_endpoints_503_before_a_snapshot(void)
{
        static const char *const t[] = {"/v1/views", "/v1/views/sales", "/v1/snapshot",
                                        "/v1/views/sales/rows/a/b", "/readyz"};
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_(response_donep) Response r = RESPONSE_NULL;
                char b[256];
                get(NULL, t[i], &r, b, sizeof(b));
                CHECK_EQ_INT(r.status, 503);
                CHECK(r.retry_after);
        }
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[256];
        get(NULL, "/v1/views", &r, b, sizeof(b));
        CHECK_STREQ(b, "{\"error\":\"no snapshot loaded yet\",\"status\":503}");
}

static void test_view_page_with_limit_and_offset(void)
{
        setup();
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        static char b[1 << 20];
        get(sv, "/v1/views/sales?offset=1&limit=2", &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK(strstr(b, "\"total_rows\":602,\"offset\":1,\"limit\":2,\"rows\":[{\"region\":"
                        "\"eu-west\",\"product\":\"p00001\""));
        CHECK(strstr(b, "\"product\":\"p00002\""));
        CHECK(!strstr(b, "\"product\":\"p00003\""));
        CHECK(b[strlen(b) - 1] == '}' && b[strlen(b) - 2] == ']');
        get(sv, "/v1/views/sales?offset=1000", &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK(strstr(b, "\"offset\":1000,\"limit\":602,\"rows\":[]}"));
        get(sv, "/v1/views/sales?limit=0", &r, b, sizeof(b));
        CHECK(strstr(b, "\"rows\":[]}"));
        get(sv, "/v1/views/sales", &r, b, sizeof(b));
        CHECK(strstr(b, "\"offset\":0,\"limit\":602,\"rows\":[{"));
        CHECK_STREQ(r.etag, "W/\"9-0\"");
        CHECK_STREQ(r.last_modified, "Wed, 01 May 2024 12:00:00 GMT");
        CHECK_EQ_INT(r.generation, 9);
        CHECK(r.vary);
        CHECK_STREQ(r.content_type, "application/json; charset=utf-8");
}

static void test_row_lookup(void)
{
        static const GetRow rows[] = {
            {"/v1/views/sales/rows/eu-west/p00003", .status = 200,
             .body = "{\"view\":\"sales\",\"generation\":9,\"row\":{\"region\":\"eu-west\","
                     "\"product\":\"p00003\",\"count\":3,\"sum(amount)\":3.5,"
                     "\"at\":\"2024-05-01T12:00:00.000003Z\"}}"},
            {"/v1/views/sales/rows/a%2Fb/%C3%A9t%C3%A9", .status = 200},
            {"/v1/views/sales/rows/eu-west/p00004", .status = 404, .has = {"\"status\":404"}},
            {"/v1/views/sales/rows/eu-west/p00001/x", .status = 400},
            /* this fixture's rows are out of key order: no prefix lookups, said plainly */
            {"/v1/views/sales/rows/eu-west", .status = 500, .has = {"not in key order"}},
            {"/v1/views/nope/rows/x", .status = 404},
            {"/v1/views/by_id/rows/42", .status = 200},
        };
        check_sales_gets(rows, ELEMENTSOF(rows));
}

static void test_unknown_endpoint_is_404_in_json(void)
{
        static const GetRow rows[] = {
            {"/nope", .status = 404, .body = "{\"error\":\"no such endpoint\",\"status\":404}",
             .content_type = "application/json; charset=utf-8"},
        };
        check_sales_gets(rows, ELEMENTSOF(rows));
}

static void test_malformed_targets_are_400(void)
{
        static const GetRow rows[] = {
            {"/v1/views/sales?limit=x", .status = 400},
            {"/v1/views/%zz", .status = 400,
             .body = "{\"error\":\"malformed request target or query\",\"status\":400}"},
        };
        check_sales_gets(rows, ELEMENTSOF(rows));
}

static void test_unknown_view_is_named_escaped(void)
{
        static const GetRow rows[] = {
            {"/v1/views/a%22b", .status = 404,
             .body = "{\"error\":\"no view named \\\"a\\\"b\\\"\",\"status\":404}"},
        };
        check_sales_gets(rows, ELEMENTSOF(rows));
}

/* A request for /healthz changed in its head, and what the answer must be: its status,
 * whether the connection closes, and the Allow header when set. */
typedef struct HeadRow {
        const char *name;
        HttpMethod method;
        bool http10, no_host, has_body;
        int status;
        bool close;
        const char *allow;
} HeadRow;

static void check_head(const HeadRow *row)
{
        setup();
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        Request req = request(row->method, "/healthz");
        req.http11 = !row->http10;
        req.has_host = !row->no_host;
        req.has_body = row->has_body;
        RespondContext ctx = {.served = sv};
        respond(&ctx, &req, &r);
        CHECK_EQ_INT(r.status, row->status);
        CHECK_EQ_INT(r.close, row->close);
        if (row->allow)
                CHECK_STREQ(r.allow, row->allow);
}

static void check_heads(const HeadRow *rows, size_t n)
{
        for (size_t i = 0; i < n; i++)
                TEST_ROW(rows[i].name, check_head(&rows[i]));
}

static void test_other_methods_get_405_with_allow(void)
{
        static const HeadRow rows[] = {
            {"another method", METHOD_OTHER, .status = 405, .allow = "GET, HEAD"},
        };
        check_heads(rows, ELEMENTSOF(rows));
}

static void test_host_is_required_on_http11_only(void)
{
        static const HeadRow rows[] = {
            {"HTTP/1.1 without Host", METHOD_GET, .no_host = true, .status = 400, .close = true},
            {"HTTP/1.0 without Host", METHOD_GET, .http10 = true, .no_host = true, .status = 200},
        };
        check_heads(rows, ELEMENTSOF(rows));
}

static void test_a_body_on_get_is_413_and_closes(void)
{
        /* the body was not read: the stream is out of sync */
        static const HeadRow rows[] = {
            {"a body on GET", METHOD_GET, .has_body = true, .status = 413, .close = true},
        };
        check_heads(rows, ELEMENTSOF(rows));
}

/* A conditional GET with the validators the client holds, and the status it gets. */
typedef struct ConditionalRow {
        const char *name, *target, *if_none_match, *if_modified_since;
        int status;
} ConditionalRow;

static void check_conditional(const ConditionalRow *row)
{
        setup();
        Request req = request(METHOD_GET, row->target);
        req.if_none_match = row->if_none_match;
        req.if_modified_since = row->if_modified_since;
        RespondContext ctx = {.served = sv, .max_age_usec = UINT64_MAX / 2};
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        respond(&ctx, &req, &r);
        CHECK_EQ_INT(r.status, row->status);
        if (row->status == 304) {
                CHECK(r.no_body);
                CHECK_STREQ(r.etag, "W/\"9-0\"");
        }
}

static void test_conditional_requests(void)
{
        static const ConditionalRow rows[] = {
            {"the view's tag", "/v1/views/sales", "W/\"9-0\"", NULL, 304},
            {"an older tag", "/v1/views/sales", "W/\"8-0\"", NULL, 200},
            {"not modified since", "/v1/views/sales", NULL, "Wed, 01 May 2024 12:00:00 GMT", 304},
            /* other views have their own tag */
            {"another view's tag", "/v1/views/by_id", "W/\"9-0\"", NULL, 200},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].name, check_conditional(&rows[i]));
}

static void test_head_keeps_length_and_drops_body(void)
{
        setup();
        Request req = request(METHOD_HEAD, "/v1/views/sales");
        RespondContext ctx = {.served = sv, .max_age_usec = UINT64_MAX / 2};
        _cleanup_(response_donep) Response head = RESPONSE_NULL;
        _cleanup_(response_donep) Response get_r = RESPONSE_NULL;
        respond(&ctx, &req, &head);
        req.method = METHOD_GET;
        respond(&ctx, &req, &get_r);
        CHECK(head.no_body);
        CHECK(!get_r.no_body);
        CHECK_EQ_INT(response_body_length(&head), response_body_length(&get_r));
}

static void test_representations(void)
{
        setup();
        Request req = request(METHOD_GET, "/v1/views/sales");
        req.accept_encoding = "gzip";
        RespondContext ctx = {.served = sv, .max_age_usec = UINT64_MAX / 2};
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        respond(&ctx, &req, &r);
        CHECK_STREQ(r.content_encoding, "gzip");
        CHECK_EQ_INT(r.n_pieces, 1);
        CHECK((uint8_t)r.pieces[0].p[0] == 0x1f);
        req.accept = "application/msgpack";
        respond(&ctx, &req, &r);
        CHECK(r.content_encoding == NULL);
        CHECK_STREQ(r.content_type, "application/msgpack");
        CHECK(((uint8_t)r.pieces[0].p[0] & 0xf0) == 0x80); /* a map */
        req.target = "/v1/views/sales/rows/a/b%2Fc";
        req.target_len = strlen(req.target);
        respond(&ctx, &req, &r);
        CHECK_EQ_INT(r.status, 200);
        char b[256];
        body(&r, b, sizeof(b));
        CHECK((uint8_t)b[0] == 0x83);
}

static void test_snapshot_info_and_readyz(void)
{
        setup();
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[1024];
        get(sv, "/v1/snapshot", &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK(strstr(
            b,
            "{\"generation\":9,\"created\":\"2024-05-01T12:00:00Z\",\"age_seconds\":5,"
            "\"pinned\":false,\"pinned_generation\":null,\"worker\":{\"rows_read\":100,\"rows_rejected\":2,\"duration_ms\":7,"
            "\"host\":\"h\"},\"sources\":[{\"name\":\"events\",\"type\":\"csv\","));
        get(sv, "/readyz", &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK(strstr(b, "\"status\":\"ready\""));
        Request req = request(METHOD_GET, "/readyz");
        RespondContext ctx = {.served = sv,
                              .now_usec = 1714564800000000 + 700 * USEC_PER_SEC,
                              .max_age_usec = 600 * USEC_PER_SEC};
        respond(&ctx, &req, &r);
        CHECK_EQ_INT(r.status, 503);
        CHECK(r.stale);
}

static void test_snapshot_info_shows_the_pin_in_both_formats(void)
{
        setup();
        Request req = request(METHOD_GET, "/v1/snapshot");
        RespondContext ctx = {
            .served = sv, .now_usec = SALES_NOW_USEC, .max_age_usec = 600 * USEC_PER_SEC, .pin = 4};
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[1024];
        respond(&ctx, &req, &r);
        body(&r, b, sizeof(b));
        CHECK(strstr(b, "\"age_seconds\":5,\"pinned\":true,\"pinned_generation\":4,\"worker\":"));
        ctx.pin = PINNING_UNREADABLE;
        respond(&ctx, &req, &r);
        body(&r, b, sizeof(b));
        CHECK(strstr(b, "\"pinned\":true,\"pinned_generation\":null,"));
        ctx.pin = 4;
        req.accept = "application/msgpack";
        respond(&ctx, &req, &r);
        size_t len = response_body_length(&r);
        body(&r, b, sizeof(b));
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        CHECK(msgpack_unpack_next(&u, b, len, NULL) == MSGPACK_UNPACK_SUCCESS);
        CHECK(u.data.type == MSGPACK_OBJECT_MAP);
        uint32_t n = u.data.via.map.size;
        bool pinned = false;
        uint64_t gen = 0;
        for (uint32_t i = 0; i < n; i++) {
                const msgpack_object_kv *kv = &u.data.via.map.ptr[i];
                if (kv->key.via.str.size == 6 && memcmp(kv->key.via.str.ptr, "pinned", 6) == 0)
                        pinned = kv->val.type == MSGPACK_OBJECT_BOOLEAN && kv->val.via.boolean;
                if (kv->key.via.str.size == 17 &&
                    memcmp(kv->key.via.str.ptr, "pinned_generation", 17) == 0)
                        gen = kv->val.via.u64;
        }
        msgpack_unpacked_destroy(&u);
        CHECK_EQ_INT(n, 9);
        CHECK(pinned);
        CHECK_EQ_INT(gen, 4);
}

static void render(void *userdata, Buf *out)
{
        buf_puts(out, "x 1\n");
}

static void test_error_quoting_a_long_name_is_whole(void)
{
        /* 200 control bytes escape to 1200: more than any fixed scratch the body once had */
        setup();
        char target[16 + 3 * RESPOND_MAX_QUOTED], want[64 + 6 * RESPOND_MAX_QUOTED];
        size_t t = (size_t)snprintf(target, sizeof(target), "/v1/views/");
        size_t w = (size_t)snprintf(want, sizeof(want), "{\"error\":\"no view named \\\"");
        for (size_t i = 0; i < RESPOND_MAX_QUOTED; i++) {
                t += (size_t)snprintf(target + t, sizeof(target) - t, "%%01");
                w += (size_t)snprintf(want + w, sizeof(want) - w, "\\u0001");
        }
        snprintf(want + w, sizeof(want) - w, "\\\"\",\"status\":404}");
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[4096];
        get(sv, target, &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 404);
        CHECK_EQ_INT(response_body_length(&r), strlen(want));
        CHECK_STREQ(b, want);
        response_done(&r);
}

static void test_snapshot_slices_are_marked_shared(void)
{
        setup();
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[8192];
        get(sv, "/v1/views/sales?offset=1&limit=2", &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK(r.hold == sv);
        for (size_t i = 0; i < r.n_pieces; i++) {
                const char *p = r.pieces[i].p;
                bool in_owned = r.owned.data && p >= r.owned.data && p < r.owned.data + r.owned.len;
                /* a piece is sent by reference only if it lives in the snapshot */
                CHECK(!(r.shared & (1u << i)) || !in_owned);
                CHECK((r.shared & (1u << i)) || in_owned || strcmp(p, "]}") == 0);
        }
        response_done(&r);
        get(NULL, "/healthz", &r, b, sizeof(b));
        CHECK_EQ_INT(r.shared, 0);
        CHECK(r.hold == NULL);
}

static void test_metrics_text(void)
{
        Request req = request(METHOD_GET, "/metrics");
        RespondContext ctx = {.render_metrics = render};
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        respond(&ctx, &req, &r);
        CHECK_EQ_INT(r.status, 200);
        CHECK(strncmp(r.content_type, "text/plain", 10) == 0);
        CHECK(r.n_pieces == 1 && r.pieces[0].len == 4);
        response_done(&r);
        served_unref(sv);
        sv = NULL;
}

static Served *series_sv;

/* The series fixture is 5 seconds old too. */
#define SERIES_NOW_USEC (1767225600000000 + 5 * USEC_PER_SEC)

static void get_with(const char *target, const char *accept, const char *accept_encoding,
                     const char *if_none_match, Response *resp, char *out, size_t n)
{
        if (!series_sv) {
                Snapshot *s = snapfix_series(4);
                served_new(s, &series_sv);
                snapshot_free(s);
        }
        Request req = request(METHOD_GET, target);
        req.accept = accept;
        req.accept_encoding = accept_encoding;
        req.if_none_match = if_none_match;
        RespondContext ctx = {
            .served = series_sv, .now_usec = SERIES_NOW_USEC, .max_age_usec = 600 * USEC_PER_SEC};
        respond(&ctx, &req, resp);
        body(resp, out, n);
}

static void check_series_get(const GetRow *row)
{
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[4096];
        get_with(row->target, row->accept, row->accept_encoding, NULL, &r, b, sizeof(b));
        check_reply(row, &r, b);
}

static void check_series_gets(const GetRow *rows, size_t n)
{
        for (size_t i = 0; i < n; i++)
                TEST_ROW(rows[i].target, check_series_get(&rows[i]));
}

#define SERIES_HEAD                                                                                \
        "{\"view\":\"series\",\"generation\":4,\"keys\":[\"region\",\"bucket\"],\"columns\":[{"    \
        "\"name\":\"region\",\"type\":\"str\"},{\"name\":\"bucket\",\"type\":\"time\"},{\"name\":" \
        "\"count\",\"type\":\"int\"}],"

static void test_prefix_is_the_view_document_of_its_rows(void)
{
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[4096];
        get_with("/v1/views/series/rows/b", NULL, NULL, NULL, &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK_STREQ(b, SERIES_HEAD
                    "\"total_rows\":3,\"offset\":0,\"limit\":3,\"rows\":["
                    "{\"region\":\"b\",\"bucket\":\"2026-01-01T00:00:00Z\",\"count\":10},"
                    "{\"region\":\"b\",\"bucket\":\"2026-01-01T00:05:00Z\",\"count\":11},"
                    "{\"region\":\"b\",\"bucket\":\"2026-01-01T00:10:00Z\",\"count\":12}]}");
        CHECK(r.hold == series_sv);
        CHECK_STREQ(r.etag, "W/\"4-0\"");
        get_with("/v1/views/series/rows/c%2Fd?offset=1&limit=1", NULL, NULL, NULL, &r, b,
                 sizeof(b));
        CHECK_EQ_INT(r.status, 200);
        CHECK(strstr(b, "\"total_rows\":3,\"offset\":1,\"limit\":1,\"rows\":[{\"region\":\"c/d\","
                        "\"bucket\":\"2026-01-01T00:05:00Z\",\"count\":21}]}"));
}

static void test_unknown_prefix_is_an_empty_list(void)
{
#define EMPTY SERIES_HEAD "\"total_rows\":0,\"offset\":0,\"limit\":0,\"rows\":[]}"
        static const GetRow rows[] = {
            {"/v1/views/series/rows/zz", .status = 200, .body = EMPTY},
            {"/v1/views/series/rows/", .status = 200, .body = EMPTY},
            {"/v1/views/series/rows/c", .status = 200, .body = EMPTY},
        };
#undef EMPTY
        check_series_gets(rows, ELEMENTSOF(rows));
}

static void test_range_slices_the_time_key_after_the_prefix(void)
{
        static const GetRow rows[] = {
            {"/v1/views/series/rows/a?from=2026-01-01T00:05:00Z&to=1767226200", .status = 200,
             .has = {"\"total_rows\":1,\"offset\":0,\"limit\":1,\"rows\":[{\"region\":\"a\","
                     "\"bucket\":\"2026-01-01T00:05:00Z\",\"count\":1}]}"}},
            /* no from: every bucket before to, but not the row without one */
            {"/v1/views/series/rows/a?to=2026-01-01T00:05:00Z", .status = 200,
             .has = {"\"total_rows\":1,"}},
            {"/v1/views/by_user/rows/-1?from=1767225900", .status = 200,
             .has = {"\"total_rows\":1,\"offset\":0,\"limit\":1,\"rows\":[{\"user\":-1,"}},
        };
        check_series_gets(rows, ELEMENTSOF(rows));
}

static void test_bad_ranges_and_keys_are_400_naming_them(void)
{
        static const GetRow rows[] = {
            {"/v1/views/series?from=2026-01-01", .status = 400,
             .has = {"\"parameter\":\"from\"", "region"}},
            {"/v1/views/series/rows/a/2026-01-01T00:00:00Z?to=2026-01-02", .status = 400,
             .has = {"\"parameter\":\"to\""}},
            {"/v1/views/series/rows/a?from=noon", .status = 400,
             .body = "{\"error\":\"from: not an RFC 3339 time or epoch seconds\",\"status\":400,"
                     "\"parameter\":\"from\"}"},
            {"/v1/views/by_user/rows/x7", .status = 400,
             .has = {"\"parameter\":\"key 1\"", "user (int)"}},
            {"/v1/views/series/rows/a/b/c", .status = 400},
            {"/v1/views/series?fields=count,nope", .status = 400,
             .has = {"\"parameter\":\"fields\"", "nope"}},
            {"/v1/views/series?format=xml", .status = 400, .has = {"\"parameter\":\"format\""}},
        };
        check_series_gets(rows, ELEMENTSOF(rows));
}

static void test_csv_by_accept_or_format(void)
{
#define CSV_B                                                                               \
        "region,bucket,count\r\nb,2026-01-01T00:00:00Z,10\r\nb,2026-01-01T00:05:00Z,11\r\n" \
        "b,2026-01-01T00:10:00Z,12\r\n"
        static const GetRow rows[] = {
            {"/v1/views/series/rows/b", "text/csv", .status = 200, .body = CSV_B,
             .content_type = "text/csv; charset=utf-8; header=present"},
            /* slices go out as they are */
            {"/v1/views/series/rows/b?format=csv", "application/json", "gzip", .body = CSV_B,
             .identity = true},
            {"/v1/views/series/rows/a/null?format=csv", .body = "region,bucket,count\r\na,,-1\r\n"},
            {"/v1/views/series?format=csv&limit=1", .body = "region,bucket,count\r\na,,-1\r\n"},
            /* documents without a CSV form answer JSON */
            {"/v1/views", "text/csv", .content_type = "application/json; charset=utf-8"},
        };
#undef CSV_B
        check_series_gets(rows, ELEMENTSOF(rows));
}

static void test_fields_on_a_prefix(void)
{
        static const GetRow rows[] = {
            {"/v1/views/series/rows/c%2Fd?fields=region&limit=2&format=csv", .status = 200,
             .body = "region,bucket\r\nc/d,2026-01-01T00:00:00Z\r\nc/d,2026-01-01T00:05:00Z\r\n"},
            {"/v1/views/series/rows/b?fields=count&offset=2",
             .has = {"\"total_rows\":3,\"offset\":2,\"limit\":3,\"rows\":[{\"region\":\"b\","
                     "\"bucket\":\"2026-01-01T00:10:00Z\",\"count\":12}]}"}},
        };
        check_series_gets(rows, ELEMENTSOF(rows));
}

static void test_prefix_304_with_the_views_etag(void)
{
        _cleanup_(response_donep) Response r = RESPONSE_NULL;
        char b[4096];
        get_with("/v1/views/series/rows/b?format=csv", NULL, NULL, "W/\"4-0\"", &r, b, sizeof(b));
        CHECK_EQ_INT(r.status, 304);
        CHECK(r.no_body);
        served_unref(series_sv);
        series_sv = NULL;
}

TEST_MAIN(TEST_CASE(test_prefix_is_the_view_document_of_its_rows),
          TEST_CASE(test_unknown_prefix_is_an_empty_list),
          TEST_CASE(test_range_slices_the_time_key_after_the_prefix),
          TEST_CASE(test_bad_ranges_and_keys_are_400_naming_them),
          TEST_CASE(test_csv_by_accept_or_format), TEST_CASE(test_fields_on_a_prefix),
          TEST_CASE(test_prefix_304_with_the_views_etag), TEST_CASE(test_healthz_always_ok),
          TEST_CASE(test_data_endpoints_503_before_a_snapshot),
          TEST_CASE(test_view_page_with_limit_and_offset), TEST_CASE(test_row_lookup),
          TEST_CASE(test_unknown_endpoint_is_404_in_json),
          TEST_CASE(test_malformed_targets_are_400), TEST_CASE(test_unknown_view_is_named_escaped),
          TEST_CASE(test_other_methods_get_405_with_allow),
          TEST_CASE(test_host_is_required_on_http11_only),
          TEST_CASE(test_a_body_on_get_is_413_and_closes), TEST_CASE(test_conditional_requests),
          TEST_CASE(test_head_keeps_length_and_drops_body), TEST_CASE(test_representations),
          TEST_CASE(test_snapshot_info_and_readyz),
          TEST_CASE(test_error_quoting_a_long_name_is_whole),
          TEST_CASE(test_snapshot_slices_are_marked_shared),
          TEST_CASE(test_snapshot_info_shows_the_pin_in_both_formats), TEST_CASE(test_metrics_text))
