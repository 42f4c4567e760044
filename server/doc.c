#include "doc.h"

#include <math.h>
#include <stdlib.h>

#include "timeparse.h"

/* The packer's sink: a failed append stays visible in the Buf (buf_ok). */
static int buf_write(void *data, const char *p, size_t n)
{
        Buf *b = data;
        buf_put(b, p, n);
        return buf_ok(b) ? 0 : -1;
}

void doc_init(Doc *d, Buf *b, DocFormat fmt)
{
        *d = (Doc){.b = b, .fmt = fmt};
        msgpack_packer_init(&d->pk, b, buf_write);
}

void doc_resume_map(Doc *d, Buf *b, DocFormat fmt)
{
        doc_init(d, b, fmt);
        d->depth = 1;
        d->is_map[1] = true;
        d->first[1] = true;
}

/* JSON separator before a value or key at the current depth. */
static void sep(Doc *d)
{
        if (d->fmt != DOC_JSON || d->depth == 0)
                return;
        if (d->after_key) {
                d->after_key = false;
                return;
        }
        if (!d->first[d->depth])
                buf_putc(d->b, ',');
        d->first[d->depth] = false;
}

static void open_container(Doc *d, bool map, uint32_t n)
{
        sep(d);
        if (d->fmt == DOC_JSON)
                buf_putc(d->b, map ? '{' : '[');
        else if (map)
                (void)msgpack_pack_map(&d->pk, n);
        else
                (void)msgpack_pack_array(&d->pk, n);
        if (d->depth + 1 >= DOC_MAX_DEPTH) {
                d->b->oom = true; /* a programming error; make it visible */
                return;
        }
        d->depth++;
        d->first[d->depth] = true;
        d->is_map[d->depth] = map;
}

void doc_map(Doc *d, uint32_t n)
{
        open_container(d, true, n);
}

void doc_array(Doc *d, uint32_t n)
{
        open_container(d, false, n);
}

void doc_end(Doc *d)
{
        if (d->depth == 0)
                return;
        if (d->fmt == DOC_JSON)
                buf_putc(d->b, d->is_map[d->depth] ? '}' : ']');
        d->depth--;
}

static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
        /* Length of the valid UTF-8 sequence at s, 0 if invalid (RFC 3629 table). */
        unsigned char c = s[0];
        if (c < 0x80)
                return 1;
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return len;
}

static void json_string(Buf *b, const char *str, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *)str;
        if (!buf_reserve(b, n + 2))
                return;
        buf_putc(b, '"');
        size_t run = 0; /* bytes copied as they are, flushed in one memcpy */
        size_t i = 0;
        while (i < n) {
                unsigned char c = s[i];
                if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
                        run++;
                        i++;
                        continue;
                }
                if (c >= 0x80) {
                        size_t l = utf8_valid_prefix(s + i, n - i);
                        if (l) {
                                run += l;
                                i += l;
                                continue;
                        }
                }
                buf_put(b, s + i - run, run);
                run = 0;
                switch (c) {
                case '"': buf_put(b, "\\\"", 2); break;
                case '\\': buf_put(b, "\\\\", 2); break;
                case '\n': buf_put(b, "\\n", 2); break;
                case '\r': buf_put(b, "\\r", 2); break;
                case '\t': buf_put(b, "\\t", 2); break;
                default:
                        if (c < 0x20) {
                                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                                buf_put(b, e, 6);
                        } else
                                buf_put(b, "\xef\xbf\xbd", 3); /* U+FFFD */
                        break;
                }
                i++;
        }
        buf_put(b, s + i - run, run);
        buf_putc(b, '"');
}

/* Results of msgpack_pack_* need no check here: a failed write is the Buf's sticky oom,
 * which every caller checks once with buf_ok(). */
static void mp_string(Doc *d, const char *s, size_t n)
{
        (void)msgpack_pack_str(&d->pk, n);
        (void)msgpack_pack_str_body(&d->pk, s, n);
}

void doc_key(Doc *d, const char *k)
{
        sep(d);
        if (d->fmt == DOC_JSON) {
                json_string(d->b, k, strlen(k));
                buf_putc(d->b, ':');
                d->after_key = true;
        } else
                mp_string(d, k, strlen(k));
}

void doc_str(Doc *d, const char *s, size_t len)
{
        sep(d);
        if (d->fmt == DOC_JSON)
                json_string(d->b, s, len);
        else
                mp_string(d, s, len);
}

void doc_cstr(Doc *d, const char *s)
{
        doc_str(d, s, strlen(s));
}

static size_t format_u64(char *buf, uint64_t v)
{
        char t[24];
        size_t n = 0;
        do {
                t[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        for (size_t i = 0; i < n; i++)
                buf[i] = t[n - 1 - i];
        return n;
}

static size_t format_i64(char *buf, int64_t v)
{
        if (v >= 0)
                return format_u64(buf, (uint64_t)v);
        buf[0] = '-';
        return 1 + format_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
}

void doc_uint(Doc *d, uint64_t v)
{
        sep(d);
        if (d->fmt == DOC_JSON) {
                char t[24];
                buf_put(d->b, t, format_u64(t, v));
        } else
                (void)msgpack_pack_uint64(&d->pk, v);
}

void doc_int(Doc *d, int64_t v)
{
        sep(d);
        if (d->fmt == DOC_JSON) {
                char t[24];
                buf_put(d->b, t, format_i64(t, v));
        } else
                (void)msgpack_pack_int64(&d->pk, v);
}

/* Most aggregates are sums and extremes of values with a few decimals: if v is exactly
 * the double nearest to r / 10^k for a small k, "r with k decimals" is what strtod turns
 * back into v (IEEE division is correctly rounded, as is strtod), and the first such k is
 * the shortest. About 20x faster than printf's %g, which is the fallback. */
static size_t format_double_fixed(char *buf, double v)
{
        static const double pow10[] = {1, 10, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
        double a = v < 0 ? -v : v;
        if (!(a < 1e15) || (a != 0 && a < 1e-8))
                return 0;
        for (unsigned k = 0; k < ELEMENTSOF(pow10); k++) {
                double scaled = a * pow10[k];
                if (scaled >= 9007199254740992.0) /* 2^53: r must be exact */
                        return 0;
                int64_t r = (int64_t)(scaled + 0.5);
                if ((double)r / pow10[k] != a)
                        continue;
                char digits[24];
                size_t n = format_u64(digits, (uint64_t)r), o = 0;
                if (v < 0 || (v == 0 && signbit(v)))
                        buf[o++] = '-';
                if (n <= k) { /* 0.00ddd */
                        buf[o++] = '0';
                        buf[o++] = '.';
                        for (size_t z = n; z < k; z++)
                                buf[o++] = '0';
                        memcpy(buf + o, digits, n);
                        return o + n;
                }
                memcpy(buf + o, digits, n - k);
                o += n - k;
                if (k) {
                        buf[o++] = '.';
                        memcpy(buf + o, digits + n - k, k);
                        o += k;
                }
                return o;
        }
        return 0;
}

typedef unsigned __int128 u128;

/* What snprintf("%.*g", p, v) writes, for the p of 15..17 the printf loop below would
 * settle on, computed exactly in 128-bit integers instead: v = m / 2^s, its p digits
 * T = m * 10^q / 2^s rounded half to even (as glibc rounds), and T / 10^q parses back to
 * v exactly when it is within half an ulp of v (on the half, when m is even: strtod's tie
 * rule). Covers normal doubles below 2^53 that are not a power of two (whose gap below is
 * half the one above) and not so small that m * 10^q passes 128 bits; 0 for the rest. */
static size_t format_double_exact(char *buf, double v)
{
        uint64_t bits;
        memcpy(&bits, &v, 8);
        int exp = (int)(bits >> 52 & 0x7ff);
        uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52;
        int s = 1075 - exp;
        if (exp == 0 || exp == 0x7ff || m == UINT64_C(1) << 52 || s < 1 || s > 127)
                return 0;
        double a = fabs(v);
        int x0 = (int)floor(log10(a)); /* the decimal exponent, corrected below */
        for (int p = 15; p <= 17; p++) {
                int x = x0, q;
                u128 t, rem, unit;
                for (int tries = 0;; tries++) {
                        q = p - 1 - x;
                        if (q < 0 || q > 22 || tries > 2)
                                return 0;
                        u128 pow = 1;
                        for (int i = 0; i < q; i++)
                                pow *= 10;
                        u128 n = (u128)m * pow;
                        t = n >> s;
                        rem = n & (((u128)1 << s) - 1);
                        unit = pow;
                        uint64_t lo = 1;
                        for (int i = 1; i < p; i++)
                                lo *= 10;
                        if (t < lo)
                                x--;
                        else if (t >= (u128)lo * 10)
                                x++;
                        else
                                break;
                }
                u128 half = (u128)1 << (s - 1);
                bool up = rem > half || (rem == half && (t & 1));
                u128 err = up ? ((u128)1 << s) - rem : rem; /* |T / 10^q - v| * 10^q * 2^s */
                if (p < 17) {
                        /* round trip iff 2 err <= 10^q, the equality only for an even m */
                        u128 lim = q ? unit >> 1 : 0;
                        if (err > lim || (err == lim && (q == 0 ? err != 0 : (m & 1))))
                                continue;
                }
                uint64_t d = (uint64_t)t + up;
                char digits[24];
                size_t n = format_u64(digits, d);
                if (n > (size_t)p) { /* rounded up to 10^p */
                        n--;
                        x++;
                }
                while (n > 1 && digits[n - 1] == '0') /* %g drops trailing zeros */
                        n--;
                size_t o = 0;
                if (v < 0)
                        buf[o++] = '-';
                if (x < -4 || x >= p) {
                        buf[o++] = digits[0];
                        if (n > 1) {
                                buf[o++] = '.';
                                memcpy(buf + o, digits + 1, n - 1);
                                o += n - 1;
                        }
                        o += (size_t)snprintf(buf + o, 8, "e%c%02d", x < 0 ? '-' : '+', abs(x));
                } else if (x < 0) {
                        buf[o++] = '0';
                        buf[o++] = '.';
                        for (int z = 0; z < -x - 1; z++)
                                buf[o++] = '0';
                        memcpy(buf + o, digits, n);
                        o += n;
                } else {
                        size_t ip = (size_t)x + 1;
                        for (size_t i = 0; i < ip; i++)
                                buf[o++] = i < n ? digits[i] : '0';
                        if (n > ip) {
                                buf[o++] = '.';
                                memcpy(buf + o, digits + ip, n - ip);
                                o += n - ip;
                        }
                }
                return o;
        }
        return 0; /* not reached: p = 17 always returns */
}

size_t format_double_shortest(char *buf, double v)
{
        size_t fixed = format_double_fixed(buf, v);
        if (fixed)
                return fixed;
        fixed = format_double_exact(buf, v);
        if (fixed)
                return fixed;
        /* Most values round-trip at 15 significant digits; 17 always does. */
        for (int prec = 15; prec <= 17; prec++) {
                int n = snprintf(buf, 32, "%.*g", prec, v);
                if (prec == 17 || strtod(buf, NULL) == v)
                        return (size_t)n;
        }
        return 0; /* not reached */
}

void doc_num(Doc *d, double v)
{
        if (!isfinite(v)) {
                doc_nil(d);
                return;
        }
        sep(d);
        if (d->fmt == DOC_JSON) {
                char t[32];
                buf_put(d->b, t, format_double_shortest(t, v));
        } else
                (void)msgpack_pack_double(&d->pk, v);
}

void doc_nil(Doc *d)
{
        sep(d);
        if (d->fmt == DOC_JSON)
                buf_put(d->b, "null", 4);
        else
                (void)msgpack_pack_nil(&d->pk);
}

void doc_bool(Doc *d, bool v)
{
        sep(d);
        if (d->fmt == DOC_JSON)
                buf_puts(d->b, v ? "true" : "false");
        else if (v)
                (void)msgpack_pack_true(&d->pk);
        else
                (void)msgpack_pack_false(&d->pk);
}

void doc_value(Doc *d, const Value *v)
{
        switch (v->type) {
        case VALUE_STR: doc_str(d, v->s, v->len); break;
        case VALUE_INT: doc_int(d, v->i); break;
        case VALUE_NUM: doc_num(d, v->d); break;
        case VALUE_TIME: {
                char t[48];
                size_t n = format_time_rfc3339(t, sizeof(t), v->i);
                doc_str(d, t, n);
                break;
        }
        default: doc_nil(d); break;
        }
}

size_t format_value_text(char *buf, size_t n, const Value *v)
{
        /* buf holds at least 48 bytes for the non-string types */
        switch (v->type) {
        case VALUE_INT: return format_i64(buf, v->i);
        case VALUE_NUM:
                if (!isfinite(v->d)) {
                        memcpy(buf, "null", 4);
                        return 4;
                }
                return format_double_shortest(buf, v->d);
        case VALUE_TIME: return format_time_rfc3339(buf, n, v->i);
        case VALUE_STR: {
                size_t l = MIN((size_t)v->len, n);
                memcpy(buf, v->s, l);
                return l;
        }
        default: memcpy(buf, "null", 4); return 4;
        }
}

size_t doc_utf8_sequence_length(const unsigned char *s, size_t n)
{
        return utf8_valid_prefix(s, n);
}
