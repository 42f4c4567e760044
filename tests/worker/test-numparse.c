/* Typed field parsing agrees with strtod/strtoll and rejects what the grammar excludes. */
#include <math.h>

#include "numparse.h"
#include "test.h"

static double num(const char *s)
{
        double d = NAN;
        if (parse_num_field(s, strlen(s), &d) < 0)
                return NAN;
        return d;
}

static void test_num_matches_strtod_bit_for_bit(void)
{
        static const char *const cases[] = {"0",
                                            "-0",
                                            "1",
                                            "12.50",
                                            "0.1",
                                            "999.99",
                                            "1e3",
                                            "-2.5E-3",
                                            ".5",
                                            "5.",
                                            "123456789012345678901",
                                            "0.30000000000000004",
                                            "1.7976931348623157e308",
                                            "4.9e-324",
                                            "+7.25",
                                            "0000.0001"};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                double want = strtod(cases[i], NULL), got = num(cases[i]);
                CHECK(memcmp(&want, &got, sizeof(double)) == 0);
        }
}

static void test_num_rejects_non_decimal_forms(void)
{
        static const char *const bad[] = {"",    "-",    ".",   "e5", "1e", "1e+",   "inf",
                                          "nan", "0x10", "1,5", " 1", "1 ", "12.x5", "1e400"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(isnan(num(bad[i])));
}

static void test_int_range_and_signs(void)
{
        int64_t v;
        CHECK(parse_int_field("9223372036854775807", 19, &v) == 0 && v == INT64_MAX);
        CHECK(parse_int_field("-9223372036854775808", 20, &v) == 0 && v == INT64_MIN);
        CHECK(parse_int_field("9223372036854775808", 19, &v) < 0);
        CHECK(parse_int_field("+17", 3, &v) == 0 && v == 17);
        CHECK(parse_int_field("1.0", 3, &v) < 0);
        CHECK(parse_int_field("", 0, &v) < 0);
        CHECK(parse_int_field("-", 1, &v) < 0);
}

TEST_MAIN(TEST_CASE(test_num_matches_strtod_bit_for_bit),
          TEST_CASE(test_num_rejects_non_decimal_forms), TEST_CASE(test_int_range_and_signs))
