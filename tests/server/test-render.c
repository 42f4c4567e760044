#include "render.h"
#include "served.h"
#include "snapfix.h"
#include "test.h"

static bool piece_eq(Piece p, const char *s)
{
        return p.len == strlen(s) && memcmp(p.p, s, p.len) == 0;
}

static void test_view_body_shape(void)
{
        Served *sv = snapfix_served(9, 2);
        CHECK(sv);
        const ServedView *v = served_find_view(sv, "sales", 5);
        CHECK(v);
        CHECK_EQ_INT(v->n_rows, 4);
        const char *want =
            "{\"view\":\"sales\",\"generation\":9,\"keys\":[\"region\",\"product\"],"
            "\"columns\":[{\"name\":\"region\",\"type\":\"str\"},{\"name\":\"product\","
            "\"type\":\"str\"},{\"name\":\"count\",\"type\":\"int\"},{\"name\":"
            "\"sum(amount)\",\"type\":\"num\"},{\"name\":\"at\",\"type\":\"time\"}],"
            "\"total_rows\":4,\"offset\":0,\"limit\":4,\"rows\":["
            "{\"region\":\"us-east\",\"product\":\"p00000\",\"count\":0,\"sum(amount)\":0.5,"
            "\"at\":\"2024-05-01T12:00:00Z\"},"
            "{\"region\":\"eu-west\",\"product\":\"p00001\",\"count\":1,\"sum(amount)\":1.5,"
            "\"at\":\"2024-05-01T12:00:00.000001Z\"},"
            "{\"region\":\"a/b\",\"product\":\"\xc3\xa9t\xc3\xa9\",\"count\":-1,"
            "\"sum(amount)\":null,\"at\":null},"
            "{\"region\":\"a\",\"product\":\"b/c\",\"count\":2,\"sum(amount)\":null,"
            "\"at\":\"2024-05-01T12:00:00Z\"}]}";
        if (!piece_eq(v->json.full, want))
                fprintf(stderr, "# got %.*s\n", (int)v->json.full.len, v->json.full.p);
        CHECK(piece_eq(v->json.full, want));
        CHECK(v->json.head.len < v->json.full.len);
        CHECK(v->json.head.p[v->json.head.len - 1] == ',');
        CHECK(v->json.full_gz.p == NULL); /* below SERVED_GZIP_MIN */
        served_unref(sv);
}

static void test_row_slices(void)
{
        Served *sv = snapfix_served(9, 3);
        CHECK(sv);
        const ServedView *v = served_find_view(sv, "sales", 5);
        Piece r0 = served_row(&v->json, 0);
        CHECK(r0.p[0] == '{' && r0.p[r0.len - 1] == '}');
        Piece last = served_row(&v->json, v->n_rows - 1);
        CHECK(last.p[last.len - 1] == '}' && last.p[last.len] == ']');
        Piece all = served_rows(&v->json, 0, v->n_rows);
        CHECK(all.p == r0.p && all.p + all.len == last.p + last.len);
        Piece mid = served_rows(&v->json, 1, 2);
        CHECK(mid.p[0] == '{' && mid.p[mid.len - 1] == '}');
        CHECK(served_rows(&v->json, 2, 0).len == 0);
        CHECK(piece_eq(v->json.row_prefix, "{\"view\":\"sales\",\"generation\":9,\"row\":"));
        /* msgpack rows are arrays of five cells */
        Piece m0 = served_row(&v->mp, 0);
        CHECK((uint8_t)m0.p[0] == 0x95);
        served_unref(sv);
}

static void test_large_bodies_are_gzipped(void)
{
        Served *sv = snapfix_served(9, 500);
        CHECK(sv);
        const ServedView *v = served_find_view(sv, "sales", 5);
        CHECK(v->json.full_gz.p != NULL);
        CHECK(v->json.full_gz.len < v->json.full.len / 2);
        CHECK((uint8_t)v->json.full_gz.p[0] == 0x1f && (uint8_t)v->json.full_gz.p[1] == 0x8b);
        served_unref(sv);
}

static void test_views_and_snapshot_documents(void)
{
        Served *sv = snapfix_served(9, 1);
        CHECK(sv);
        CHECK(piece_eq(sv->views_json,
                       "{\"generation\":9,\"views\":[{\"name\":\"sales\",\"rows\":3,\"keys\":"
                       "[\"region\",\"product\"],\"columns\":5},{\"name\":\"by_id\",\"rows\":2,"
                       "\"keys\":[\"id\"],\"columns\":2}]}"));
        CHECK(piece_eq(sv->snap_json_head, "{\"generation\":9,\"created\":\"2024-05-01T12:00:00Z\","
                                           "\"age_seconds\":"));
        CHECK(sv->snap_json_tail.p[0] == ',');
        CHECK_STREQ(sv->last_modified, "Wed, 01 May 2024 12:00:00 GMT");
        CHECK_EQ_INT(sv->total_rows, 5);
        served_unref(sv);
}

TEST_MAIN(TEST_CASE(test_view_body_shape), TEST_CASE(test_row_slices),
          TEST_CASE(test_large_bodies_are_gzipped), TEST_CASE(test_views_and_snapshot_documents))
