#include "key.h"
#include "slice.h"
#include "test.h"

#include "../worker/rng.h"
#include <math.h>

#define T0   INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define MIN5 INT64_C(300000000)

static Value S(const char *s)
{
        return (Value){.type = VALUE_STR, .len = (uint32_t)strlen(s), .s = s};
}
static Value TM(int64_t usec)
{
        return (Value){.type = VALUE_TIME, .i = usec};
}
static Value I(int64_t i)
{
        return (Value){.type = VALUE_INT, .i = i};
}
static const Value NIL = {.type = VALUE_NIL};

static int sign(int c)
{
        return (c > 0) - (c < 0);
}

/* Random cells of one type (a fifth missing), encoded as one-column worker keys. */
static Value random_value(ValueType t, char *strbuf)
{
        if (next() % 5 == 0)
                return NIL;
        switch (t) {
        case VALUE_STR: {
                static const char alphabet[] = {0, 'a', 'b', (char)0xc3, (char)0xff};
                size_t n = next() % 4;
                for (size_t i = 0; i < n; i++)
                        strbuf[i] = alphabet[next() % sizeof(alphabet)];
                return (Value){.type = VALUE_STR, .len = (uint32_t)n, .s = strbuf};
        }
        case VALUE_NUM: {
                static const double nums[] = {-1e300, -2.5, -0.0, 0.0, 1e-300, 2.5, 3, 1e300};
                return (Value){.type = VALUE_NUM, .d = nums[next() % ELEMENTSOF(nums)]};
        }
        default: {
                static const int64_t ints[] = {INT64_MIN, -5, -1, 0, 1, 7, INT64_MAX};
                return (Value){.type = (uint8_t)t, .i = ints[next() % ELEMENTSOF(ints)]};
        }
        }
}

static void test_order_is_the_workers_key_order(void)
{
        int group_by[] = {0};
        ViewConfig vc = {.group_by = group_by, .n_group_by = 1};
        static const ValueType types[] = {VALUE_STR, VALUE_INT, VALUE_NUM, VALUE_TIME};
        for (size_t t = 0; t < ELEMENTSOF(types); t++)
                for (int i = 0; i < 5000; i++) {
                        char sa[4], sb[4], ka[KEY_MAX_BYTES(8)], kb[KEY_MAX_BYTES(8)];
                        Value a = random_value(types[t], sa), b = random_value(types[t], sb);
                        size_t la = key_encode(ka, &vc, &a), lb = key_encode(kb, &vc, &b);
                        int want = sign(key_cmp(ka, la, kb, lb));
                        if (sign(slice_value_cmp(&a, &b)) != want)
                                fprintf(stderr, "# type %d, case %d\n", (int)types[t], i);
                        CHECK_EQ_INT(sign(slice_value_cmp(&a, &b)), want);
                }
        Value nan = {.type = VALUE_NUM, .d = NAN}, one = {.type = VALUE_NUM, .d = 1};
        CHECK(slice_value_cmp(&nan, &one) > 0 && slice_value_cmp(&one, &nan) < 0);
        CHECK_EQ_INT(slice_value_cmp(&nan, &nan), 0);
}

typedef struct Fixture {
        Arena *arena;
        SnapshotColumn cols[4];
        SnapshotView v;
        Value cells[64 * 4];
        SliceIndex ix;
} Fixture;

static void fixture_done(Fixture *f)
{
        arena_free(f->arena);
}

/* A view of rows given as n_columns cells each; indexed into f->ix. */
static void series_rows(void);

static int fixture(Fixture *f, size_t n_keys, size_t n_columns, const ValueType *types,
                   const Value *cells, size_t n_rows)
{
        *f = (Fixture){0};
        if (arena_new(&f->arena) < 0)
                return -ENOMEM;
        static const char *const names[] = {"k1", "k2", "k3", "n"};
        for (size_t c = 0; c < n_columns; c++)
                f->cols[c] = (SnapshotColumn){names[c], types[c]};
        series_rows(); /* the shared table, for fixtures of it */
        memcpy(f->cells, cells, n_rows * n_columns * sizeof(Value));
        f->v = (SnapshotView){.name = "v",
                              .n_keys = n_keys,
                              .n_columns = n_columns,
                              .columns = f->cols,
                              .n_rows = n_rows,
                              .cells = f->cells};
        return slice_index_build(f->arena, &f->v, &f->ix);
}

static const ValueType region_bucket[] = {VALUE_STR, VALUE_TIME, VALUE_INT};
/* (region, bucket | n), in key order; a missing bucket sorts first */
static Value series[21];

static void series_rows(void)
{
        const Value rows[] = {S("a"),
                              NIL,
                              I(0),
                              S("a"),
                              TM(T0),
                              I(1),
                              S("a"),
                              TM(T0 + MIN5),
                              I(2),
                              S("b"),
                              TM(T0),
                              I(3),
                              S("b"),
                              TM(T0 + 2 * MIN5),
                              I(4),
                              S("b"),
                              TM(T0 + 3 * MIN5),
                              I(5),
                              S("c/d"),
                              TM(T0 + MIN5),
                              I(6)};
        memcpy(series, rows, sizeof(rows));
}

static int find(const Fixture *f, const Value *prefix, size_t n, size_t *first, size_t *count)
{
        SliceQuery q = {.prefix = prefix, .n_prefix = n};
        return slice_find(&f->ix, &q, first, count);
}

static int find_range(const Fixture *f, const Value *prefix, size_t n, const int64_t *from,
                      const int64_t *to, size_t *first, size_t *count)
{
        SliceQuery q = {.prefix = prefix,
                        .n_prefix = n,
                        .has_from = from != NULL,
                        .has_to = to != NULL,
                        .from = from ? *from : 0,
                        .to = to ? *to : 0};
        return slice_find(&f->ix, &q, first, count);
}

static void test_prefix_is_one_contiguous_run(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, region_bucket, series, 7), 0);
        CHECK(f.ix.sorted);
        CHECK_EQ_INT(f.ix.n_levels, 2); /* the last key is a time: kept for ranges */
        CHECK_EQ_INT(f.ix.levels[0].n, 3);
        size_t first, n;
        Value p = S("a");
        CHECK_EQ_INT(find(&f, &p, 1, &first, &n), 0);
        CHECK(first == 0 && n == 3);
        p = S("b");
        CHECK_EQ_INT(find(&f, &p, 1, &first, &n), 0);
        CHECK(first == 3 && n == 3);
        p = S("c/d");
        CHECK_EQ_INT(find(&f, &p, 1, &first, &n), 0);
        CHECK(first == 6 && n == 1);
        /* no prefix: every row */
        CHECK_EQ_INT(find(&f, NULL, 0, &first, &n), 0);
        CHECK(first == 0 && n == 7);
}

static void test_unknown_and_empty_prefixes_match_no_rows(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, region_bucket, series, 7), 0);
        static const char *const none[] = {"", "0", "aa", "a/", "bb", "c", "c/d/e", "zz"};
        for (size_t i = 0; i < ELEMENTSOF(none); i++) {
                size_t first = 99, n = 99;
                Value p = S(none[i]);
                CHECK_EQ_INT(find(&f, &p, 1, &first, &n), 0);
                CHECK_EQ_INT(n, 0);
        }
        size_t first, n;
        CHECK_EQ_INT(find(&f, &NIL, 1, &first, &n), 0); /* no missing region */
        CHECK_EQ_INT(n, 0);
}

static void test_full_keys_and_too_deep_prefixes(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, region_bucket, series, 7), 0);
        Value p[3] = {S("b"), TM(T0 + 2 * MIN5), S("x")};
        size_t first, n;
        CHECK_EQ_INT(find(&f, p, 2, &first, &n), 0); /* the time level serves whole keys too */
        CHECK(first == 4 && n == 1);
        p[1] = NIL;
        CHECK_EQ_INT(find(&f, p, 2, &first, &n), 0);
        CHECK_EQ_INT(n, 0);
        p[0] = S("a");
        CHECK_EQ_INT(find(&f, p, 2, &first, &n), 0);
        CHECK(first == 0 && n == 1);
        CHECK_EQ_INT(find(&f, p, 3, &first, &n), -EINVAL);
}

static void test_range_after_a_prefix_is_half_open_and_skips_missing_times(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, region_bucket, series, 7), 0);
        size_t first, n;
        Value a = S("a"), b = S("b");
        int64_t t0 = T0, t1 = T0 + MIN5, t2 = T0 + 2 * MIN5, t3 = T0 + 3 * MIN5, t9 = T0 + 9 * MIN5;
        CHECK_EQ_INT(find_range(&f, &a, 1, &t0, NULL, &first, &n), 0);
        CHECK(first == 1 && n == 2);
        CHECK_EQ_INT(find_range(&f, &a, 1, NULL, &t1, &first, &n), 0);
        CHECK(first == 1 && n == 1);
        CHECK_EQ_INT(find_range(&f, &a, 1, NULL, &t0, &first, &n), 0);
        CHECK_EQ_INT(n, 0);
        CHECK_EQ_INT(find_range(&f, &b, 1, &t1, &t3, &first, &n), 0);
        CHECK(first == 4 && n == 1);
        CHECK_EQ_INT(find_range(&f, &b, 1, &t2, &t2, &first, &n), 0);
        CHECK_EQ_INT(n, 0);
        CHECK_EQ_INT(find_range(&f, &b, 1, &t9, NULL, &first, &n), 0);
        CHECK_EQ_INT(n, 0);
        CHECK_EQ_INT(find_range(&f, &b, 1, &t0, &t9, &first, &n), 0);
        CHECK(first == 3 && n == 3);
        /* the column right after no prefix is the region, not a time */
        CHECK_EQ_INT(find_range(&f, NULL, 0, &t0, NULL, &first, &n), -EINVAL);
}

static void test_range_on_a_leading_time_key(void)
{
        static const ValueType types[] = {VALUE_TIME, VALUE_STR, VALUE_INT};
        const Value rows[] = {TM(T0), S("a"),        I(1),   TM(T0), S("b"),
                              I(2),   TM(T0 + MIN5), S("a"), I(3),   TM(T0 + 2 * MIN5),
                              S("a"), I(4)};
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, types, rows, 4), 0);
        CHECK_EQ_INT(f.ix.n_levels, 1);
        size_t first, n;
        int64_t from = T0 + 1, to = T0 + 2 * MIN5 + 1;
        CHECK_EQ_INT(find_range(&f, NULL, 0, &from, &to, &first, &n), 0);
        CHECK(first == 2 && n == 2);
        CHECK_EQ_INT(find_range(&f, NULL, 0, NULL, &from, &first, &n), 0);
        CHECK(first == 0 && n == 2);
}

static void test_three_keys(void)
{
        static const ValueType types[] = {VALUE_STR, VALUE_STR, VALUE_TIME, VALUE_INT};
        const Value rows[] = {S("eu"), S("p1"),       TM(T0),  I(1),          S("eu"),
                              S("p1"), TM(T0 + MIN5), I(2),    S("eu"),       S("p2"),
                              TM(T0),  I(3),          S("us"), S("p1"),       TM(T0),
                              I(4),    S("us"),       S("p1"), TM(T0 + MIN5), I(5)};
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 3, 4, types, rows, 5), 0);
        CHECK_EQ_INT(f.ix.n_levels, 3);
        Value p[2] = {S("us"), S("p1")};
        size_t first, n;
        CHECK_EQ_INT(find(&f, p, 2, &first, &n), 0);
        CHECK(first == 3 && n == 2);
        int64_t from = T0 + MIN5;
        CHECK_EQ_INT(find_range(&f, p, 2, &from, NULL, &first, &n), 0);
        CHECK(first == 4 && n == 1);
        p[0] = S("eu");
        CHECK_EQ_INT(find_range(&f, p, 2, &from, NULL, &first, &n), 0);
        CHECK(first == 1 && n == 1);
        p[1] = S("p3");
        CHECK_EQ_INT(find(&f, p, 2, &first, &n), 0);
        CHECK_EQ_INT(n, 0);
        /* a range on the product column: not a time */
        CHECK_EQ_INT(find_range(&f, p, 1, &from, NULL, &first, &n), -EINVAL);
}

static void test_duplicate_keys_stay_in_one_run(void)
{
        static const ValueType types[] = {VALUE_STR, VALUE_INT, VALUE_INT};
        const Value rows[] = {S("a"), I(1), I(0), S("a"), I(1), I(1), S("b"), I(1), I(2)};
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, types, rows, 3), 0);
        CHECK(f.ix.sorted);
        Value p = S("a");
        size_t first, n;
        CHECK_EQ_INT(find(&f, &p, 1, &first, &n), 0);
        CHECK(first == 0 && n == 2);
}

static void test_rows_out_of_key_order_get_no_index(void)
{
        static const ValueType types[] = {VALUE_STR, VALUE_INT, VALUE_INT};
        const Value rows[] = {S("b"), I(1), I(0), S("a"), I(1), I(1)};
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, types, rows, 2), 0);
        CHECK(!f.ix.sorted);
        size_t first, n;
        CHECK_EQ_INT(find(&f, NULL, 0, &first, &n), -EMEDIUMTYPE);
        /* missing values go first: a missing one after a string is out of order too */
        const Value rows2[] = {S("a"), I(1), I(0), NIL, I(1), I(1)};
        _cleanup_(fixture_done) Fixture g;
        CHECK_EQ_INT(fixture(&g, 2, 3, types, rows2, 2), 0);
        CHECK(!g.ix.sorted);
}

static void test_empty_and_global_views(void)
{
        _cleanup_(fixture_done) Fixture f;
        CHECK_EQ_INT(fixture(&f, 2, 3, region_bucket, series, 0), 0);
        size_t first = 9, n = 9;
        Value p = S("a");
        CHECK_EQ_INT(find(&f, &p, 1, &first, &n), 0);
        CHECK_EQ_INT(n, 0);
        static const ValueType types[] = {VALUE_INT};
        const Value rows[] = {I(5)};
        _cleanup_(fixture_done) Fixture g;
        CHECK_EQ_INT(fixture(&g, 0, 1, types, rows, 1), 0);
        CHECK_EQ_INT(g.ix.n_levels, 0);
        CHECK_EQ_INT(find(&g, NULL, 0, &first, &n), 0);
        CHECK(first == 0 && n == 1);
}

static void test_path_segments_parse_by_column_type(void)
{
        Value x;
        CHECK_EQ_INT(slice_parse_key(VALUE_STR, "a/b", 3, &x), 0);
        CHECK(x.type == VALUE_STR && x.len == 3);
        CHECK_EQ_INT(slice_parse_key(VALUE_STR, "", 0, &x), 0);
        CHECK(x.type == VALUE_STR && x.len == 0);
        CHECK_EQ_INT(slice_parse_key(VALUE_INT, "-42", 3, &x), 0);
        CHECK(x.type == VALUE_INT && x.i == -42);
        CHECK_EQ_INT(slice_parse_key(VALUE_INT, "-9223372036854775808", 20, &x), 0);
        CHECK(x.i == INT64_MIN);
        CHECK_EQ_INT(slice_parse_key(VALUE_INT, "9223372036854775808", 19, &x), -EINVAL);
        CHECK_EQ_INT(slice_parse_key(VALUE_INT, "4x", 2, &x), -EINVAL);
        CHECK_EQ_INT(slice_parse_key(VALUE_INT, "", 0, &x), -EINVAL);
        CHECK_EQ_INT(slice_parse_key(VALUE_INT, "-", 1, &x), -EINVAL);
        CHECK_EQ_INT(slice_parse_key(VALUE_NUM, "2.5e1", 5, &x), 0);
        CHECK(x.type == VALUE_NUM && x.d == 25);
        CHECK_EQ_INT(slice_parse_key(VALUE_NUM, "-0", 2, &x), 0);
        CHECK(x.d == 0 && !signbit(x.d));
        static const char *const bad_nums[] = {"nan", "inf", "1e400", " 1", "0x10", "1,5", ""};
        for (size_t i = 0; i < ELEMENTSOF(bad_nums); i++)
                CHECK_EQ_INT(slice_parse_key(VALUE_NUM, bad_nums[i], strlen(bad_nums[i]), &x),
                             -EINVAL);
        CHECK_EQ_INT(slice_parse_key(VALUE_TIME, "2026-01-01T00:05:00Z", 20, &x), 0);
        CHECK(x.type == VALUE_TIME && x.i == T0 + MIN5);
        CHECK_EQ_INT(slice_parse_key(VALUE_TIME, "1767225600", 10, &x), 0);
        CHECK(x.i == T0);
        CHECK_EQ_INT(slice_parse_key(VALUE_TIME, "soon", 4, &x), -EINVAL);
        static const ValueType all[] = {VALUE_STR, VALUE_INT, VALUE_NUM, VALUE_TIME};
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                CHECK_EQ_INT(slice_parse_key(all[i], "null", 4, &x), 0);
                CHECK_EQ_INT(x.type, VALUE_NIL);
        }
}

TEST_MAIN(TEST_CASE(test_order_is_the_workers_key_order),
          TEST_CASE(test_prefix_is_one_contiguous_run),
          TEST_CASE(test_unknown_and_empty_prefixes_match_no_rows),
          TEST_CASE(test_full_keys_and_too_deep_prefixes),
          TEST_CASE(test_range_after_a_prefix_is_half_open_and_skips_missing_times),
          TEST_CASE(test_range_on_a_leading_time_key), TEST_CASE(test_three_keys),
          TEST_CASE(test_duplicate_keys_stay_in_one_run),
          TEST_CASE(test_rows_out_of_key_order_get_no_index),
          TEST_CASE(test_empty_and_global_views),
          TEST_CASE(test_path_segments_parse_by_column_type))
