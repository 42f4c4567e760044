#include "csv.h"
#include "doc.h"
#include "fields.h"
#include "snapfix.h"
#include "test.h"

static Snapshot *snap;
static Served *sv;

static void setup(void)
{
        if (!sv) {
                snap = snapfix_build(9, 40);
                served_new(snap, &sv);
        }
}

/* What a renderer given only the kept columns writes for row r of v (the reference). */
static void reference_row(Buf *out, const SnapshotView *v, const ServedView *sview,
                          Representation rep, const bool *keep, size_t r)
{
        const Value *row = snapshot_view_row(v, r);
        size_t n_kept = 0;
        for (size_t c = 0; c < v->n_columns; c++)
                n_kept += keep[c];
        if (rep == REP_CSV) {
                bool first = true;
                for (size_t c = 0; c < v->n_columns; c++)
                        if (keep[c]) {
                                if (!first)
                                        buf_putc(out, ',');
                                csv_value(out, &row[c]);
                                first = false;
                        }
                buf_put(out, "\r\n", 2);
                return;
        }
        Doc d;
        doc_init(&d, out, rep == REP_MSGPACK ? DOC_MSGPACK : DOC_JSON);
        if (rep == REP_MSGPACK)
                doc_array(&d, (uint32_t)n_kept);
        else
                doc_map(&d, (uint32_t)n_kept);
        for (size_t c = 0; c < v->n_columns; c++)
                if (keep[c]) {
                        if (rep == REP_JSON)
                                doc_key(&d, v->columns[c].name);
                        doc_value(&d, &row[c]);
                }
        doc_end(&d);
        (void)sview;
}

static void test_cut_rows_equal_a_rendering_of_the_kept_columns(void)
{
        setup();
        CHECK(sv);
        static const Representation reps[] = {REP_JSON, REP_MSGPACK, REP_CSV};
        for (size_t vi = 0; vi < snap->n_views; vi++) {
                const SnapshotView *v = &snap->views[vi];
                const ServedView *sview = &sv->views[vi];
                /* every subset of the non-key columns */
                size_t extra = v->n_columns - v->n_keys;
                for (unsigned mask = 0; mask < (1u << extra); mask++) {
                        bool keep[8];
                        for (size_t c = 0; c < v->n_columns; c++)
                                keep[c] = c < v->n_keys || (mask >> (c - v->n_keys) & 1);
                        for (size_t ri = 0; ri < ELEMENTSOF(reps); ri++)
                                for (size_t r = 0; r < v->n_rows; r++) {
                                        _cleanup_(buf_donep) Buf got = BUF_NULL, want = BUF_NULL;
                                        fields_page(&got, sv, sview, reps[ri], keep, 1, 0, 1, r, 1);
                                        reference_row(&want, v, sview, reps[ri], keep, r);
                                        CHECK(buf_ok(&got) && got.len >= want.len);
                                        /* the page ends with the row (and "]}" in JSON) */
                                        size_t tail = reps[ri] == REP_JSON ? 2 : 0;
                                        if (memmem(got.data, got.len, want.data, want.len) !=
                                            got.data + got.len - tail - want.len)
                                                fprintf(stderr,
                                                        "# view %zu mask %u rep %zu row %zu\n", vi,
                                                        mask, ri, r);
                                        CHECK(memmem(got.data, got.len, want.data, want.len) ==
                                              got.data + got.len - tail - want.len);
                                }
                }
        }
}

/* fields_select() of list on the sales view; the name it refused in *bad. */
static int select_sales(const char *list, const ServedView **v, bool keep[8], Segment *bad)
{
        setup();
        *v = served_find_view(sv, "sales", 5);
        return fields_select(*v, list, strlen(list), keep, bad);
}

/* A fields= list on the sales view: what fields_select() returns, the name it refuses,
 * and, accepted, which of region, product, count, sum(amount) and at it keeps. */
typedef struct SelectRow {
        const char *list;
        int r;
        const char *bad;
        bool keep[5];
} SelectRow;

static void check_select(const SelectRow *row)
{
        const ServedView *v;
        bool keep[8];
        Segment bad;
        CHECK_EQ_INT(select_sales(row->list, &v, keep, &bad), row->r);
        if (row->r < 0) {
                CHECK(bad.len == strlen(row->bad) && memcmp(bad.p, row->bad, bad.len) == 0);
                return;
        }
        for (size_t c = 0; c < ELEMENTSOF(row->keep); c++)
                CHECK_EQ_INT(keep[c], row->keep[c]);
}

static void test_unknown_column_is_named(void)
{
        static const SelectRow rows[] = {
            {"count,nope", -ENOENT, "nope"},
            {"count,", -ENOENT, ""},                                     /* an empty name */
            {"at,count,at", 0, .keep = {true, true, true, false, true}}, /* keys always */
            {"region", 0, .keep = {true, true, false, false, false}},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].list, check_select(&rows[i]));
}

static void test_page_document_lists_the_kept_columns(void)
{
        const ServedView *v;
        bool keep[8];
        Segment bad;
        CHECK_EQ_INT(select_sales("count", &v, keep, &bad), 0);
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        fields_page(&b, sv, v, REP_JSON, keep, 42, 3, 2, 3, 2);
        buf_putc(&b, 0);
        CHECK_STREQ(b.data,
                    "{\"view\":\"sales\",\"generation\":9,\"keys\":[\"region\",\"product\"],"
                    "\"columns\":[{\"name\":\"region\",\"type\":\"str\"},{\"name\":\"product\","
                    "\"type\":\"str\"},{\"name\":\"count\",\"type\":\"int\"}],\"total_rows\":42,"
                    "\"offset\":3,\"limit\":2,\"rows\":[{\"region\":\"eu-west\",\"product\":"
                    "\"p00003\",\"count\":3},{\"region\":\"us-east\",\"product\":\"p00004\","
                    "\"count\":4}]}");
        _cleanup_(buf_donep) Buf c = BUF_NULL;
        fields_page(&c, sv, v, REP_CSV, keep, 42, 3, 2, 3, 2);
        buf_putc(&c, 0);
        CHECK_STREQ(c.data, "region,product,count\r\neu-west,p00003,3\r\nus-east,p00004,4\r\n");
}

static void test_one_row_document(void)
{
        const ServedView *v;
        bool keep[8];
        Segment bad;
        CHECK_EQ_INT(select_sales("at", &v, keep, &bad), 0);
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        fields_row(&b, v, REP_JSON, keep, 41);
        buf_putc(&b, 0);
        CHECK_STREQ(b.data, "{\"view\":\"sales\",\"generation\":9,\"row\":{\"region\":\"a\","
                            "\"product\":\"b/c\",\"at\":\"2024-05-01T12:00:00Z\"}}");
}

TEST_MAIN(TEST_CASE(test_cut_rows_equal_a_rendering_of_the_kept_columns),
          TEST_CASE(test_unknown_column_is_named),
          TEST_CASE(test_page_document_lists_the_kept_columns), TEST_CASE(test_one_row_document))
