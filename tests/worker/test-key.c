/* Group keys: what goes in comes out, and keys sort as the view's rows must. */
#include <inttypes.h>

#include "key.h"
#include "test.h"

static int cols[] = {0, 1, 2, 3};
static const ViewConfig view = {.group_by = cols, .n_group_by = 4};

static size_t encode(char *buf, Value a, Value b, Value c, Value d)
{
        Value row[] = {a, b, c, d};
        return key_encode(buf, &view, row);
}

#define STR(x) ((Value){.type = VALUE_STR, .s = (x), .len = sizeof(x) - 1})
#define INT(x) ((Value){.type = VALUE_INT, .i = (x)})
#define NUM(x) ((Value){.type = VALUE_NUM, .d = (x)})
#define NIL    ((Value){.type = VALUE_NIL})

static void test_key_decode_returns_every_type_encoded(void)
{
        char buf[KEY_MAX_BYTES(64)];
        Value t = {.type = VALUE_TIME, .i = 1767225600000000};
        size_t n = encode(buf, STR("eu-west"), INT(-42), NUM(2.5), t);
        CHECK_EQ_INT(n, 4 + 4 + 7 + 3 * 8);
        Value out[4];
        key_decode(buf, 4, out);
        CHECK_EQ_INT(out[0].type, VALUE_STR);
        CHECK(out[0].len == 7 && memcmp(out[0].s, "eu-west", 7) == 0);
        CHECK(out[1].type == VALUE_INT && out[1].i == -42);
        CHECK(out[2].type == VALUE_NUM && out[2].d == 2.5);
        CHECK(out[3].type == VALUE_TIME && out[3].i == t.i);
}

static void test_key_missing_value_is_one_byte_and_decodes_as_nil(void)
{
        char buf[KEY_MAX_BYTES(0)];
        CHECK_EQ_INT(encode(buf, NIL, NIL, NIL, NIL), 4);
        Value out[4];
        key_decode(buf, 4, out);
        for (int i = 0; i < 4; i++)
                CHECK_EQ_INT(out[i].type, VALUE_NIL);
}

static void test_key_negative_zero_is_the_same_key_as_zero(void)
{
        char a[KEY_MAX_BYTES(0)], b[KEY_MAX_BYTES(0)];
        size_t na = encode(a, NIL, NIL, NUM(0.0), NIL), nb = encode(b, NIL, NIL, NUM(-0.0), NIL);
        CHECK(na == nb && memcmp(a, b, na) == 0);
}

static int cmp(Value a1, Value a2, Value b1, Value b2)
{
        char a[KEY_MAX_BYTES(64)], b[KEY_MAX_BYTES(64)];
        size_t na = encode(a, a1, a2, NIL, NIL), nb = encode(b, b1, b2, NIL, NIL);
        int c = key_cmp(a, na, b, nb);
        return (c > 0) - (c < 0);
}

static void test_key_cmp_orders_missing_first(void)
{
        CHECK_EQ_INT(cmp(NIL, INT(1), STR(""), INT(0)), -1);
        CHECK_EQ_INT(cmp(STR(""), INT(0), NIL, INT(1)), 1);
}

static void test_key_cmp_orders_strings_bytewise_shorter_first(void)
{
        CHECK_EQ_INT(cmp(STR("ab"), NIL, STR("abc"), NIL), -1);
        CHECK_EQ_INT(cmp(STR("b"), NIL, STR("abc"), NIL), 1);
        CHECK_EQ_INT(cmp(STR("\xff"), NIL, STR("a"), NIL), 1); /* unsigned bytes */
        CHECK_EQ_INT(cmp(STR("same"), INT(2), STR("same"), INT(2)), 0);
}

static void test_key_cmp_orders_numbers_by_value_column_by_column(void)
{
        CHECK_EQ_INT(cmp(INT(-5), INT(9), INT(3), INT(0)), -1);
        CHECK_EQ_INT(cmp(INT(3), INT(1), INT(3), INT(0)), 1);
        CHECK_EQ_INT(cmp(NUM(-1.5), NIL, NUM(0.25), NIL), -1);
}

#define MIN_US (INT64_C(60) * 1000000)
#define DAY_US (INT64_C(86400) * 1000000)

static void test_key_bucket_floors_to_epoch_aligned_starts(void)
{
        uint64_t w = 5 * MIN_US;
        CHECK(key_bucket_start(0, w) == 0);
        CHECK(key_bucket_start(w - 1, w) == 0);
        CHECK(key_bucket_start(w, w) == (int64_t)w);
        CHECK(key_bucket_start(1767225600000000 + 7 * MIN_US + 3, w) ==
              1767225600000000 + 5 * MIN_US);
}

static void test_key_bucket_of_negative_times_floors_not_truncates(void)
{
        uint64_t w = 5 * MIN_US;
        CHECK(key_bucket_start(-1, w) == -(int64_t)w);
        CHECK(key_bucket_start(-(int64_t)w, w) == -(int64_t)w);
        CHECK(key_bucket_start(-(int64_t)w - 1, w) == -2 * (int64_t)w);
        /* 7d buckets start on Thursdays, as 1970-01-01 was one */
        CHECK(key_bucket_start(-1, 7 * DAY_US) == -7 * DAY_US);
}

static void test_key_bucket_out_of_range_is_int64_min(void)
{
        CHECK(key_bucket_start(INT64_MIN, 7 * DAY_US) == INT64_MIN);
        CHECK(key_bucket_start(INT64_MIN + 1, BUCKET_MONTH) == INT64_MIN);
}

static void test_key_month_starts_on_the_first_utc(void)
{
        static const struct {
                int64_t t, start;
        } cases[] = {
            {0, 0},
            {31 * DAY_US - 1, 0},                          /* 1970-01-31T23:59:59.999999 */
            {31 * DAY_US, 31 * DAY_US},                    /* 1970-02-01 */
            {-1, -31 * DAY_US},                            /* 1969-12-31 -> 1969-12-01 */
            {-31 * DAY_US, -31 * DAY_US},                  /* 1969-12-01 itself */
            {-31 * DAY_US - 1, -61 * DAY_US},              /* 1969-11-30 -> 1969-11-01 */
            {951782400000000, 949363200000000},            /* 2000-02-29 -> 2000-02-01 */
            {951868800000000 - 1, 949363200000000},        /* 2000-02-29T23:59:59.999999 */
            {951868800000000, 951868800000000},            /* 2000-03-01 */
            {1767225599999999, 1764547200000000},          /* 2025-12-31 -> 2025-12-01 */
            {1767225600000000, 1767225600000000},          /* 2026-01-01 */
            {-2208988800000000 + 1, -2208988800000000},    /* 1900-01-01 */
            {4107542400000000 + DAY_US, 4107542400000000}, /* 2100-03-02 -> 2100-03-01 */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t got = key_bucket_start(cases[i].t, BUCKET_MONTH);
                if (got != cases[i].start)
                        fprintf(stderr, "# month of %" PRId64 ": %" PRId64 ", want %" PRId64 "\n",
                                cases[i].t, got, cases[i].start);
                CHECK(got == cases[i].start);
        }
}

static void test_key_encode_stores_the_bucket_start_and_nil_stays_nil(void)
{
        static int bcols[] = {0, 1};
        static uint64_t widths[] = {0, 5 * MIN_US};
        const ViewConfig bv = {.group_by = bcols, .n_group_by = 2, .bucket_usec = widths};
        char a[KEY_MAX_BYTES(8)], b[KEY_MAX_BYTES(8)];
        Value r1[] = {STR("x"), {.type = VALUE_TIME, .i = -1}};
        Value r2[] = {STR("x"), {.type = VALUE_TIME, .i = -(int64_t)widths[1]}};
        size_t na = key_encode(a, &bv, r1), nb = key_encode(b, &bv, r2);
        CHECK(na == nb && memcmp(a, b, na) == 0);
        Value out[2];
        key_decode(a, 2, out);
        CHECK(out[1].type == VALUE_TIME && out[1].i == -(int64_t)widths[1]);
        Value r3[] = {STR("x"), NIL};
        key_decode(a, 2, out);
        CHECK_EQ_INT(key_encode(a, &bv, r3), 1 + 4 + 1 + 1);
        key_decode(a, 2, out);
        CHECK_EQ_INT(out[1].type, VALUE_NIL);
}

static void test_key_prefix_len_covers_the_leading_values(void)
{
        char buf[KEY_MAX_BYTES(64)];
        size_t n = encode(buf, STR("eu"), NIL, INT(3), NUM(1));
        CHECK_EQ_INT(key_prefix_len(buf, 0), 0);
        CHECK_EQ_INT(key_prefix_len(buf, 1), 1 + 4 + 2);
        CHECK_EQ_INT(key_prefix_len(buf, 2), 1 + 4 + 2 + 1);
        CHECK_EQ_INT(key_prefix_len(buf, 4), n);
}

TEST_MAIN(TEST_CASE(test_key_decode_returns_every_type_encoded),
          TEST_CASE(test_key_missing_value_is_one_byte_and_decodes_as_nil),
          TEST_CASE(test_key_negative_zero_is_the_same_key_as_zero),
          TEST_CASE(test_key_cmp_orders_missing_first),
          TEST_CASE(test_key_cmp_orders_strings_bytewise_shorter_first),
          TEST_CASE(test_key_cmp_orders_numbers_by_value_column_by_column),
          TEST_CASE(test_key_bucket_floors_to_epoch_aligned_starts),
          TEST_CASE(test_key_bucket_of_negative_times_floors_not_truncates),
          TEST_CASE(test_key_bucket_out_of_range_is_int64_min),
          TEST_CASE(test_key_month_starts_on_the_first_utc),
          TEST_CASE(test_key_encode_stores_the_bucket_start_and_nil_stays_nil),
          TEST_CASE(test_key_prefix_len_covers_the_leading_values))
