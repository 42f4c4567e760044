#include "key.h"

#define USEC_PER_DAY (INT64_C(86400) * 1000000)

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        return q - (a % b != 0 && a < 0);
}

/* Day of the month (1..31) of a day count since 1970-01-01: H. Hinnant's civil_from_days,
 * exact for the whole proleptic Gregorian calendar with plain integer arithmetic. */
static int64_t day_of_month(int64_t days)
{
        int64_t z = days + 719468;
        int64_t era = floor_div(z, 146097);
        int64_t doe = z - era * 146097;                                      /* 0..146096 */
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* from March 1 */
        int64_t mp = (5 * doy + 2) / 153;
        return doy - (153 * mp + 2) / 5 + 1;
}

int64_t key_bucket_start(int64_t t, uint64_t width)
{
        int64_t start;
        if (width == BUCKET_MONTH) {
                int64_t days = floor_div(t, USEC_PER_DAY);
                days -= day_of_month(days) - 1;
                return __builtin_mul_overflow(days, USEC_PER_DAY, &start) ? INT64_MIN : start;
        }
        int64_t w = (int64_t)width; /* at most 7 days: no overflow */
        return __builtin_mul_overflow(floor_div(t, w), w, &start) ? INT64_MIN : start;
}

size_t key_encode(char *buf, const ViewConfig *v, const Value *row)
{
        size_t n = 0;
        for (size_t i = 0; i < v->n_group_by; i++) {
                const Value *x = &row[v->group_by[i]];
                if (v->bucket_usec && v->bucket_usec[i] && x->type == VALUE_TIME) {
                        int64_t start = key_bucket_start(x->i, v->bucket_usec[i]);
                        buf[n++] = VALUE_TIME;
                        memcpy(buf + n, &start, 8);
                        n += 8;
                        continue;
                }
                buf[n++] = (char)x->type;
                if (x->type == VALUE_STR) {
                        memcpy(buf + n, &x->len, 4);
                        memcpy(buf + n + 4, x->s, x->len);
                        n += 4 + x->len;
                } else if (x->type == VALUE_NUM) {
                        double d = x->d == 0 ? 0.0 : x->d; /* -0 and 0 are one group */
                        memcpy(buf + n, &d, 8);
                        n += 8;
                } else if (x->type != VALUE_NIL) {
                        memcpy(buf + n, &x->i, 8);
                        n += 8;
                }
        }
        return n;
}

/* Two 8-byte values of one type (a NaN is unequal to all and compares greater). */
static int cmp_fixed(uint8_t type, const char *a, const char *b)
{
        if (type == VALUE_NUM) {
                double x, y;
                memcpy(&x, a, 8);
                memcpy(&y, b, 8);
                return x == y ? 0 : x < y ? -1 : 1;
        }
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return x == y ? 0 : x < y ? -1 : 1;
}

int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
        size_t i = 0, j = 0;
        while (i < alen && j < blen) {
                uint8_t ta = (uint8_t)a[i++], tb = (uint8_t)b[j++];
                if (ta != tb) /* missing first; types of one column never differ otherwise */
                        return ta < tb ? -1 : 1;
                if (ta == VALUE_NIL)
                        continue;
                if (ta == VALUE_STR) {
                        uint32_t la, lb;
                        memcpy(&la, a + i, 4);
                        memcpy(&lb, b + j, 4);
                        int c = memcmp(a + i + 4, b + j + 4, MIN(la, lb));
                        if (c || la != lb)
                                return c ? c : la < lb ? -1 : 1;
                        i += 4 + la;
                        j += 4 + lb;
                } else {
                        int c = cmp_fixed(ta, a + i, b + j);
                        if (c)
                                return c;
                        i += 8;
                        j += 8;
                }
        }
        return 0;
}

size_t key_prefix_len(const char *key, size_t k)
{
        size_t off = 0;
        for (size_t i = 0; i < k; i++) {
                uint8_t t = (uint8_t)key[off++];
                if (t == VALUE_STR) {
                        uint32_t len;
                        memcpy(&len, key + off, 4);
                        off += 4 + len;
                } else if (t != VALUE_NIL)
                        off += 8;
        }
        return off;
}

void key_decode(const char *key, size_t n_keys, Value *out)
{
        size_t off = 0;
        for (size_t i = 0; i < n_keys; i++) {
                Value *x = &out[i];
                *x = (Value){.type = (uint8_t)key[off++]};
                if (x->type == VALUE_NIL)
                        continue;
                if (x->type == VALUE_STR) {
                        memcpy(&x->len, key + off, 4);
                        x->s = key + off + 4;
                        off += 4 + x->len;
                } else {
                        memcpy(&x->i, key + off, 8);
                        off += 8;
                }
        }
}
