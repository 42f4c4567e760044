/* util.h's conversions. */
#include "test.h"
#include "util.h"

static void timeval_splits_seconds_and_micros(void)
{
        struct timeval tv = timeval_from_usec(90 * USEC_PER_SEC + 250);
        CHECK_EQ_INT(tv.tv_sec, 90);
        CHECK_EQ_INT(tv.tv_usec, 250);
        tv = timeval_from_usec(999999);
        CHECK(tv.tv_sec == 0 && tv.tv_usec == 999999);
}

static void parse_uint_takes_digits_only_in_range(void)
{
        uint64_t v;
        CHECK(parse_uint("42", 0, 100, &v) == 0 && v == 42);
        CHECK_EQ_INT(parse_uint("101", 0, 100, &v), -ERANGE);
        CHECK_EQ_INT(parse_uint("-1", 0, 100, &v), -EINVAL);
        CHECK_EQ_INT(parse_uint(" 1", 0, 100, &v), -EINVAL);
        CHECK_EQ_INT(parse_uint("1x", 0, 100, &v), -EINVAL);
        CHECK_EQ_INT(parse_uint("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
}

TEST_MAIN(TEST_CASE(timeval_splits_seconds_and_micros),
          TEST_CASE(parse_uint_takes_digits_only_in_range))
