/* Time values: every accepted spelling maps to the same instant; nonsense is refused. */
#include <time.h>

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

/* Random instants in the common UTC shape (the fast path) against gmtime's calendar, and
 * against the same instant spelled with +00:00 (the general parser), dates repeating as in
 * a log so the per-thread date cache is hit and missed. */
static void utc_shape_matches_the_calendar(void)
{
        uint64_t x = 7;
        for (int n = 0; n < 200000; n++) {
                x = x * 6364136223846793005u + 1442695040888963407u;
                int64_t secs = (int64_t)(x >> 20) % INT64_C(8000000000) - INT64_C(2000000000);
                if (n % 4)
                        secs = INT64_C(1767225600) + (int64_t)(x >> 40) % 172800;
                unsigned fd = (unsigned)(x >> 8) % 7; /* 0..6 fraction digits */
                unsigned frac = (unsigned)(x >> 12) % 1000000;
                time_t tt = (time_t)secs;
                struct tm tm;
                gmtime_r(&tt, &tm);
                char base[80], a[96], b[96], f[8] = "";
                snprintf(base, sizeof(base), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
                int64_t want_frac = 0;
                if (fd) {
                        snprintf(f, sizeof(f), "%06u", frac);
                        f[fd] = 0;
                        for (unsigned i = 0, sc = 100000; i < fd; i++, sc /= 10)
                                want_frac += (f[i] - '0') * (int64_t)sc;
                }
                snprintf(a, sizeof(a), "%s%s%sZ", base, fd ? "." : "", f);
                snprintf(b, sizeof(b), "%s%s%s+00:00", base, fd ? "." : "", f);
                int64_t want = secs * 1000000 + want_frac;
                if (t(a) != want || t(b) != want)
                        fprintf(stderr, "# %s: %lld, %s: %lld, want %lld\n", a, (long long)t(a), b,
                                (long long)t(b), (long long)want);
                CHECK(t(a) == want && t(b) == want);
        }
        /* a cached date does not let a bad time part through */
        CHECK(t("2026-02-28T00:00:00Z") != INT64_MIN);
        CHECK(t("2026-02-28T24:00:00Z") == INT64_MIN);
        CHECK(t("2026-02-28T00:00:00.1a2Z") == INT64_MIN);
        CHECK(t("2026-02-28T00:60:00Z") == INT64_MIN);
        CHECK(t("2026-02-28T00:00:00Z ") == INT64_MIN);
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
          TEST_CASE(utc_shape_matches_the_calendar), TEST_CASE(formatting_round_trips))
