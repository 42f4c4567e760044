#include "timeparse.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil), so no timegm() and no TZ lookups on the hot path. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *ret)
{
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        *ret = v;
        return true;
}

static int parse_epoch(const char *s, size_t len, int64_t *ret)
{
        size_t i = 0;
        bool neg = false;
        if (len > 0 && (s[0] == '-' || s[0] == '+')) {
                neg = s[0] == '-';
                i = 1;
        }
        if (i == len || len - i > 18)
                return -EINVAL;
        int64_t v = 0;
        for (; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        if (neg)
                v = -v;
        bool millis = v >= INT64_C(100000000000) || v <= -INT64_C(100000000000);
        if (millis) {
                if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
                        return -EINVAL;
                *ret = v * 1000;
        } else
                *ret = v * 1000000;
        return 0;
}

/* Two ASCII digits at s, or -1 (bytes above '9' or below '0' give an out-of-range value). */
static inline int two_digits(const char *s)
{
        unsigned a = (unsigned)(uint8_t)s[0] - '0', b = (unsigned)(uint8_t)s[1] - '0';
        return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

/* The shape event logs write nearly always, YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z: the date is
 * looked up in a small per-thread cache indexed by its month and day digits (rows of a
 * file share few dates, and neighbouring dates take different entries), the rest parsed at fixed
 * offsets. false for anything else: the general parser decides. */
static inline bool parse_rfc3339_utc(const char *s, size_t len, int64_t *ret)
{
        /* initial-exec: the worker and tallyd link this statically, and a TLS access that
         * goes through __tls_get_addr costs more than the parse */
        static _Thread_local __attribute__((tls_model("initial-exec"))) struct {
                uint64_t ymd8; /* "YYYY-MM-", then "DD" */
                uint16_t dd;
                bool valid;
                int64_t days;
        } cache[8];
        if (len < 20 || len > 27 || s[len - 1] != 'Z' || s[10] != 'T' || s[13] != ':' ||
            s[16] != ':')
                return false;
        int h = two_digits(s + 11), mi = two_digits(s + 14), sec = two_digits(s + 17);
        if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
                return false;
        int64_t frac = 0;
        if (len > 20) {
                if (s[19] != '.' || len == 21) /* a point needs a digit */
                        return false;
                int64_t scale = 100000;
                for (size_t i = 20; i < len - 1; i++, scale /= 10) {
                        unsigned dg = (unsigned)(uint8_t)s[i] - '0';
                        if (dg > 9)
                                return false;
                        frac += dg * scale;
                }
        }
        uint64_t ymd8;
        uint16_t dd;
        memcpy(&ymd8, s, 8);
        memcpy(&dd, s + 8, 2);
        int64_t days;
        unsigned e =
            ((unsigned)(uint8_t)s[6] * 3 + (unsigned)(uint8_t)s[8] * 5 + (uint8_t)s[9]) & 7;
        if (cache[e].valid && cache[e].ymd8 == ymd8 && cache[e].dd == dd)
                days = cache[e].days;
        else {
                unsigned y, mo, d;
                static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
                if (s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
                    !digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
                        return false;
                bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                if (mo == 2 && d == 29 && !leap)
                        return false;
                days = days_from_civil(y, mo, d);
                cache[e].ymd8 = ymd8;
                cache[e].dd = dd;
                cache[e].days = days;
                cache[e].valid = true;
        }
        *ret = (days * 86400 + h * 3600 + mi * 60 + sec) * 1000000 + frac;
        return true;
}

int parse_time_usec(const char *s, size_t len, int64_t *ret)
{
        if (parse_rfc3339_utc(s, len, ret))
                return 0;
        unsigned y, mo, d, h = 0, mi = 0, sec = 0;
        if (len < 10 || s[4] != '-' || s[7] != '-')
                return parse_epoch(s, len, ret);
        if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d))
                return -EINVAL;
        size_t i = 10;
        int64_t frac_usec = 0, offset_sec = 0;
        if (i < len) {
                if ((s[i] != 'T' && s[i] != 't' && s[i] != ' ') || len < i + 9 || s[i + 3] != ':' ||
                    s[i + 6] != ':' || !digits(s + i + 1, 2, &h) || !digits(s + i + 4, 2, &mi) ||
                    !digits(s + i + 7, 2, &sec))
                        return -EINVAL;
                i += 9;
                if (i < len && (s[i] == '.' || s[i] == ',')) {
                        i++;
                        size_t start = i;
                        int64_t scale = 100000;
                        while (i < len && s[i] >= '0' && s[i] <= '9') {
                                frac_usec += (s[i] - '0') * scale; /* digits past µs drop */
                                scale /= 10;
                                i++;
                        }
                        if (i == start)
                                return -EINVAL;
                }
                if (i < len) {
                        if (s[i] == 'Z' || s[i] == 'z') {
                                i++;
                        } else if (s[i] == '+' || s[i] == '-') {
                                unsigned oh, om;
                                if (len - i != 6 || s[i + 3] != ':' || !digits(s + i + 1, 2, &oh) ||
                                    !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
                                        return -EINVAL;
                                offset_sec = (int64_t)(oh * 3600 + om * 60);
                                if (s[i] == '-')
                                        offset_sec = -offset_sec;
                                i += 6;
                        }
                }
                if (i != len)
                        return -EINVAL;
        }
        static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo == 2 && d == 29 && !leap)
                return -EINVAL;
        int64_t days = days_from_civil(y, mo, d);
        int64_t t = days * 86400 + h * 3600 + mi * 60 + sec - offset_sec;
        *ret = t * 1000000 + frac_usec;
        return 0;
}

size_t format_time_rfc3339(char *buf, size_t n, int64_t usec)
{
        int64_t secs = usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);
        int64_t frac = usec - secs * 1000000;
        int64_t z = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
        int64_t rem = secs - z * 86400;
        /* civil_from_days */
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = (int64_t)yoe + era * 400;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        y += m <= 2;
        int len;
        if (frac)
                len = snprintf(buf, n, "%04lld-%02u-%02uT%02u:%02u:%02u.%06lldZ", (long long)y, m,
                               d, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
                               (unsigned)(rem % 60), (long long)frac);
        else
                len = snprintf(buf, n, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
                               (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60),
                               (unsigned)(rem % 60));
        return len < 0 ? 0 : MIN((size_t)len, n ? n - 1 : 0);
}
