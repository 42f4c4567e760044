#include "numparse.h"

#include <math.h>

int parse_int_field(const char *s, size_t len, int64_t *ret)
{
        size_t i = 0;
        bool neg = false;
        if (len > 0 && (s[0] == '-' || s[0] == '+')) {
                neg = s[0] == '-';
                i = 1;
        }
        if (i == len || len - i > 19)
                return -EINVAL;
        uint64_t v = 0;
        for (; i < len; i++) {
                unsigned d = (unsigned)(uint8_t)s[i] - '0';
                if (d > 9)
                        return -EINVAL;
                v = v * 10 + d; /* 19 digits cannot wrap a uint64 */
        }
        if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
                return -EINVAL;
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

/* Exact powers of ten: a mantissa below 2^53 divided or multiplied by one of these is
 * correctly rounded (Clinger's fast path), which covers nearly every value in event logs. */
static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The common shape, [sign]digits[.digits] with at most 19 digits: one loop, no leading-zero
 * or exponent handling; false sends everything else (and mantissas of 2^53 and above) to
 * the general path below, which gives the same result for these. */
static inline bool parse_short_decimal(const char *s, size_t len, double *ret)
{
        if (len == 0 || len > 21)
                return false;
        size_t i = 0;
        bool neg = s[0] == '-';
        if (neg || s[0] == '+')
                i = 1;
        uint64_t mant = 0;
        size_t start = i;
        for (unsigned d; i < len && (d = (unsigned)(uint8_t)s[i] - '0') <= 9; i++)
                mant = mant * 10 + d;
        size_t digits = i - start, frac = 0;
        if (i < len && s[i] == '.') {
                size_t fstart = ++i;
                for (unsigned d; i < len && (d = (unsigned)(uint8_t)s[i] - '0') <= 9; i++)
                        mant = mant * 10 + d;
                frac = i - fstart;
                digits += frac;
        }
        if (i != len || digits == 0 || digits > 19 || mant >= (UINT64_C(1) << 53))
                return false;
        /* both operands exact, so the quotient is correctly rounded (Clinger) */
        double v = (double)mant / pow10_exact[frac];
        *ret = neg ? -v : v;
        return true;
}

int parse_num_field(const char *s, size_t len, double *ret)
{
        if (parse_short_decimal(s, len, ret))
                return 0;
        size_t i = 0;
        bool neg = false;
        if (len > 0 && (s[0] == '-' || s[0] == '+')) {
                neg = s[0] == '-';
                i = 1;
        }
        uint64_t mant = 0;
        int digits = 0, int_digits = 0, frac_digits = 0;
        bool overflow = false;
        for (; i < len && (unsigned)(uint8_t)s[i] - '0' <= 9; i++, int_digits++) {
                if (mant == 0 && s[i] == '0')
                        continue; /* leading zeros carry no precision */
                if (digits < 19) {
                        mant = mant * 10 + (unsigned)(s[i] - '0');
                        digits++;
                } else
                        overflow = true;
        }
        if (i < len && s[i] == '.') {
                i++;
                for (; i < len && (unsigned)(uint8_t)s[i] - '0' <= 9; i++, frac_digits++) {
                        if (mant == 0 && s[i] == '0') {
                                continue;
                        }
                        if (digits < 19) {
                                mant = mant * 10 + (unsigned)(s[i] - '0');
                                digits++;
                        } else
                                overflow = true;
                }
        }
        if (int_digits + frac_digits == 0)
                return -EINVAL;
        int exp10 = 0;
        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                bool eneg = false;
                if (i < len && (s[i] == '-' || s[i] == '+')) {
                        eneg = s[i] == '-';
                        i++;
                }
                size_t estart = i;
                for (; i < len && (unsigned)(uint8_t)s[i] - '0' <= 9; i++)
                        if (exp10 < 100000)
                                exp10 = exp10 * 10 + (s[i] - '0');
                if (i == estart)
                        return -EINVAL;
                if (eneg)
                        exp10 = -exp10;
        }
        if (i != len)
                return -EINVAL;
        if (!overflow && mant < (UINT64_C(1) << 53)) {
                /* the value is mant * 10^(exp10 - fraction digits that reached mant) */
                int scale = exp10 - frac_digits;
                double v = (double)mant;
                if (mant == 0) {
                        *ret = neg ? -0.0 : 0.0;
                        return 0;
                }
                if (scale >= 0 && scale <= 22) {
                        *ret = neg ? -(v * pow10_exact[scale]) : v * pow10_exact[scale];
                        return 0;
                }
                if (scale < 0 && scale >= -22) {
                        *ret = neg ? -(v / pow10_exact[-scale]) : v / pow10_exact[-scale];
                        return 0;
                }
        }
        /* slow path: strtod on a bounded copy; the grammar above already validated it */
        char buf[512];
        if (len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        errno = 0;
        char *end;
        double v = strtod(buf, &end);
        if (end != buf + len || !isfinite(v))
                return -EINVAL;
        *ret = v;
        return 0;
}
