#include "numparse.h"

#include <math.h>

/* Exact powers of ten: a mantissa below 2^53 divided or multiplied by one of these is
 * correctly rounded (Clinger's fast path), which covers nearly every value in event logs. */
const double numparse_pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                         1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int parse_num_field_general(const char *s, size_t len, double *ret)
{
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
                        *ret = neg ? -(v * numparse_pow10_exact[scale])
                                   : v * numparse_pow10_exact[scale];
                        return 0;
                }
                if (scale < 0 && scale >= -22) {
                        *ret = neg ? -(v / numparse_pow10_exact[-scale])
                                   : v / numparse_pow10_exact[-scale];
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
