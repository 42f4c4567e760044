/* Time values: every accepted spelling maps to the same instant; nonsense is refused. */
#include "test.h"
#include "timeparse.h"

static int64_t t(const char *s)
{
        int64_t v = INT64_MIN;
        if (parse_time_usec(s, strlen(s), &v) < 0)
                return INT64_MIN;
        return v;
}

static void rfc3339_variants_agree(void)
{
        const int64_t base = INT64_C(1767225600) * 1000000; /* 2026-01-01T00:00:00Z */
        CHECK_EQ_INT(t("2026-01-01T00:00:00Z"), base);
        CHECK_EQ_INT(t("2026-01-01 00:00:00"), base);
        CHECK_EQ_INT(t("2026-01-01"), base);
        CHECK_EQ_INT(t("2026-01-01T02:00:00+02:00"), base);
        CHECK_EQ_INT(t("2025-12-31T19:30:00-04:30"), base);
        CHECK_EQ_INT(t("2026-01-01T00:00:00.5Z"), base + 500000);
        CHECK_EQ_INT(t("2026-01-01T00:00:00.123456789Z"), base + 123456);
        CHECK_EQ_INT(t("1767225600"), base);
        CHECK_EQ_INT(t("1767225600000"), base);
        CHECK_EQ_INT(t("1970-01-01T00:00:00Z"), 0);
        CHECK_EQ_INT(t("1969-12-31T23:59:59Z"), -1000000);
        CHECK_EQ_INT(t("2024-02-29T00:00:00Z"), INT64_C(1709164800) * 1000000);
}

static void nonsense_is_refused(void)
{
        const char *bad[] = {"",
                             "yesterday",
                             "2026-13-01",
                             "2026-02-30",
                             "2025-02-29",
                             "2026-01-01T25:00:00Z",
                             "2026-01-01T00:00:00+2",
                             "2026-01-01T00:00:00.Z",
                             "12a",
                             "2026-01-01X00:00:00"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (t(bad[i]) != INT64_MIN)
                        fprintf(stderr, "# accepted '%s'\n", bad[i]);
                CHECK(t(bad[i]) == INT64_MIN);
        }
}

static void formatting_round_trips(void)
{
        const char *in[] = {"2026-01-01T00:00:00Z", "1999-12-31T23:59:59.000001Z",
                            "1969-07-20T20:17:40Z", "2400-02-29T12:00:00.5Z"};
        for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
                char buf[64];
                format_time_rfc3339(buf, sizeof(buf), t(in[i]));
                CHECK_EQ_INT(t(buf), t(in[i]));
        }
        char buf[64];
        format_time_rfc3339(buf, sizeof(buf), 0);
        CHECK_STREQ(buf, "1970-01-01T00:00:00Z");
}

TEST_MAIN(TEST_CASE(rfc3339_variants_agree), TEST_CASE(nonsense_is_refused),
          TEST_CASE(formatting_round_trips))
