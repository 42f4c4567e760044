/* Group keys: what goes in comes out, and keys sort as the view's rows must. */
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

TEST_MAIN(TEST_CASE(test_key_decode_returns_every_type_encoded),
          TEST_CASE(test_key_missing_value_is_one_byte_and_decodes_as_nil),
          TEST_CASE(test_key_negative_zero_is_the_same_key_as_zero),
          TEST_CASE(test_key_cmp_orders_missing_first),
          TEST_CASE(test_key_cmp_orders_strings_bytewise_shorter_first),
          TEST_CASE(test_key_cmp_orders_numbers_by_value_column_by_column))
