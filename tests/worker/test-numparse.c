/* Typed field parsing agrees with strtod/strtoll and rejects what the grammar excludes. */
#include <math.h>

#include "numparse.h"
#include "rng.h"
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

/* Random decimals of every length around the fast paths' limits (19 digits, 2^53, 10^22),
 * with and without sign, point and exponent: identical to strtod or rejected by both. */
static void test_num_random_strings_match_strtod(void)
{
        char buf[64];
        size_t mismatches = 0, accepted = 0;
        for (int n = 0; n < 2000000; n++) {
                uint64_t r = next();
                size_t k = 0;
                if (r & 1)
                        buf[k++] = r & 2 ? '-' : '+';
                r >>= 2;
                unsigned int_digits = r % 12, frac_digits = (r >> 4) % 14;
                r >>= 8;
                uint64_t d = next();
                for (unsigned i = 0; i < int_digits; i++, d /= 10)
                        buf[k++] = (char)('0' + (i == 0 && r % 3 == 0 ? 0 : d % 10));
                if (frac_digits || r % 5 == 0) {
                        buf[k++] = '.';
                        d = next();
                        for (unsigned i = 0; i < frac_digits; i++, d /= 10)
                                buf[k++] = (char)('0' + d % 10);
                }
                if (r % 7 == 0)
                        k += (size_t)snprintf(buf + k, sizeof(buf) - k, "e%d",
                                              (int)((r >> 8) % 60) - 30);
                buf[k] = 0;
                double got = NAN;
                int rc = parse_num_field(buf, k, &got);
                char *end;
                double want = strtod(buf, &end);
                bool valid = k > 0 && *end == 0 && isfinite(want);
                if (rc == 0)
                        accepted++;
                if ((rc == 0) != valid || (valid && memcmp(&want, &got, sizeof(double)) != 0)) {
                        if (mismatches++ < 5)
                                printf("# %s: got %.17g (rc %d), strtod %.17g\n", buf, got, rc,
                                       want);
                }
        }
        CHECK_EQ_INT(mismatches, 0);
        CHECK(accepted > 1000000);
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
          TEST_CASE(test_num_random_strings_match_strtod),
          TEST_CASE(test_num_rejects_non_decimal_forms), TEST_CASE(test_int_range_and_signs))
