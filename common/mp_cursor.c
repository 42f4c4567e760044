#include "mp_cursor.h"

static uint64_t be(const uint8_t *p, unsigned n)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < n; i++)
                v = (v << 8) | p[i];
        return v;
}

/* Reads an n-byte big-endian length/value after the type byte. */
static int take(MpCursor *c, unsigned n, uint64_t *ret)
{
        if (mp_left(c) < 1 + (size_t)n)
                return -EBADMSG;
        *ret = be(c->p + 1, n);
        c->p += 1 + n;
        return 0;
}

int mp_peek(const MpCursor *c, MpType *ret)
{
        if (c->p >= c->end)
                return -EBADMSG;
        uint8_t b = *c->p;
        if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf)
                *ret = MP_UINT;
        else if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
                *ret = MP_INT;
        else if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb))
                *ret = MP_STR;
        else if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd)
                *ret = MP_ARRAY;
        else if ((b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf)
                *ret = MP_MAP;
        else if (b == 0xc0)
                *ret = MP_NIL;
        else if (b == 0xc2 || b == 0xc3)
                *ret = MP_BOOL;
        else if (b == 0xca || b == 0xcb)
                *ret = MP_FLOAT;
        else if (b >= 0xc4 && b <= 0xc6)
                *ret = MP_BIN;
        else if ((b >= 0xc7 && b <= 0xc9) || (b >= 0xd4 && b <= 0xd8))
                *ret = MP_EXT;
        else
                return -EBADMSG; /* 0xc1 is never used */
        return 0;
}

int mp_read_nil(MpCursor *c)
{
        if (c->p >= c->end || *c->p != 0xc0)
                return -EBADMSG;
        c->p++;
        return 0;
}

/* Reads any integer as a sign flag plus magnitude. */
static int read_int(MpCursor *c, bool *neg, uint64_t *mag)
{
        if (c->p >= c->end)
                return -EBADMSG;
        uint8_t b = *c->p;
        uint64_t v;
        int r;
        if (b <= 0x7f) {
                *neg = false;
                *mag = b;
                c->p++;
                return 0;
        }
        if (b >= 0xe0) {
                *neg = true;
                *mag = (uint64_t)(-(int64_t)(int8_t)b);
                c->p++;
                return 0;
        }
        if (b >= 0xcc && b <= 0xcf) {
                r = take(c, 1u << (b - 0xcc), &v);
                if (r < 0)
                        return r;
                *neg = false;
                *mag = v;
                return 0;
        }
        if (b >= 0xd0 && b <= 0xd3) {
                unsigned n = 1u << (b - 0xd0);
                r = take(c, n, &v);
                if (r < 0)
                        return r;
                /* sign-extend the n-byte two's complement value */
                int64_t s = n == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * n)) >> (64 - 8 * n);
                *neg = s < 0;
                *mag = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
                return 0;
        }
        return -EBADMSG;
}

/* An integer in -max_neg..max_pos; out of range, -ERANGE with the cursor left on it. */
static int read_int_within(MpCursor *c, uint64_t max_pos, uint64_t max_neg, bool *neg,
                           uint64_t *mag)
{
        const uint8_t *save = c->p;
        int r = read_int(c, neg, mag);
        if (r < 0)
                return r;
        if (*mag > (*neg ? max_neg : max_pos)) {
                c->p = save;
                return -ERANGE;
        }
        return 0;
}

int mp_read_u64(MpCursor *c, uint64_t *ret)
{
        bool neg;
        uint64_t mag;
        int r = read_int_within(c, UINT64_MAX, 0, &neg, &mag);
        if (r < 0)
                return r;
        *ret = mag;
        return 0;
}

int mp_read_i64(MpCursor *c, int64_t *ret)
{
        bool neg;
        uint64_t mag;
        int r = read_int_within(c, INT64_MAX, (uint64_t)INT64_MAX + 1, &neg, &mag);
        if (r < 0)
                return r;
        *ret = neg ? (int64_t)(0 - mag) : (int64_t)mag;
        return 0;
}

int mp_read_double(MpCursor *c, double *ret)
{
        if (c->p >= c->end)
                return -EBADMSG;
        uint64_t v;
        if (*c->p == 0xcb) {
                if (take(c, 8, &v) < 0)
                        return -EBADMSG;
                memcpy(ret, &v, 8);
                return 0;
        }
        if (*c->p == 0xca) {
                if (take(c, 4, &v) < 0)
                        return -EBADMSG;
                uint32_t u = (uint32_t)v;
                float f;
                memcpy(&f, &u, 4);
                *ret = f;
                return 0;
        }
        return -EBADMSG;
}

/* Reads a str (want_str) or bin header and hands out its body. */
static int read_blob(MpCursor *c, bool want_str, const void **ret, uint32_t *ret_len)
{
        if (c->p >= c->end)
                return -EBADMSG;
        uint8_t b = *c->p;
        uint64_t len;
        int r;
        if (want_str && b >= 0xa0 && b <= 0xbf) {
                len = b & 0x1f;
                c->p++;
        } else if (want_str && b >= 0xd9 && b <= 0xdb) {
                r = take(c, 1u << (b - 0xd9), &len);
                if (r < 0)
                        return r;
        } else if (!want_str && b >= 0xc4 && b <= 0xc6) {
                r = take(c, 1u << (b - 0xc4), &len);
                if (r < 0)
                        return r;
        } else
                return -EBADMSG;
        if (len > mp_left(c))
                return -EBADMSG;
        *ret = c->p;
        *ret_len = (uint32_t)len;
        c->p += len;
        return 0;
}

int mp_read_str(MpCursor *c, const char **ret, uint32_t *ret_len)
{
        const void *p;
        int r = read_blob(c, true, &p, ret_len);
        if (r == 0)
                *ret = p;
        return r;
}

int mp_read_bin(MpCursor *c, const void **ret, uint32_t *ret_len)
{
        return read_blob(c, false, ret, ret_len);
}

static int read_container(MpCursor *c, bool map, uint32_t *ret_count)
{
        if (c->p >= c->end)
                return -EBADMSG;
        uint8_t b = *c->p;
        uint64_t n;
        int r;
        uint8_t fix = map ? 0x80 : 0x90, w16 = map ? 0xde : 0xdc;
        if (b >= fix && b <= fix + 0x0f) {
                n = b & 0x0f;
                c->p++;
        } else if (b == w16 || b == w16 + 1) {
                r = take(c, b == w16 ? 2 : 4, &n);
                if (r < 0)
                        return r;
        } else
                return -EBADMSG;
        /* The element count can never exceed the bytes that are left. */
        if (n > mp_left(c) / (map ? 2 : 1))
                return -EBADMSG;
        *ret_count = (uint32_t)n;
        return 0;
}

int mp_read_array(MpCursor *c, uint32_t *ret_count)
{
        return read_container(c, false, ret_count);
}

int mp_read_map(MpCursor *c, uint32_t *ret_count)
{
        return read_container(c, true, ret_count);
}

int mp_skip(MpCursor *c, unsigned max_depth)
{
        MpType t;
        int r = mp_peek(c, &t);
        if (r < 0)
                return r;
        uint8_t b = *c->p;
        uint64_t v;
        const void *p;
        uint32_t n;
        switch (t) {
        case MP_NIL:
        case MP_BOOL: c->p++; return 0;
        case MP_UINT:
        case MP_INT: {
                bool neg;
                return read_int(c, &neg, &v);
        }
        case MP_FLOAT: return take(c, b == 0xca ? 4 : 8, &v);
        case MP_STR: return read_blob(c, true, &p, &n);
        case MP_BIN: return read_blob(c, false, &p, &n);
        case MP_EXT: {
                static const unsigned fixext[] = {1, 2, 4, 8, 16};
                uint64_t len;
                if (b >= 0xd4) {
                        len = fixext[b - 0xd4];
                        c->p++;
                } else {
                        r = take(c, 1u << (b - 0xc7), &len);
                        if (r < 0)
                                return r;
                }
                if (len + 1 > mp_left(c))
                        return -EBADMSG;
                c->p += len + 1; /* type byte + data */
                return 0;
        }
        case MP_ARRAY:
        case MP_MAP: {
                if (max_depth == 0)
                        return -ELOOP;
                r = read_container(c, t == MP_MAP, &n);
                if (r < 0)
                        return r;
                uint64_t items = (uint64_t)n * (t == MP_MAP ? 2 : 1);
                for (uint64_t i = 0; i < items; i++) {
                        r = mp_skip(c, max_depth - 1);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        }
        return -EBADMSG;
}

bool mp_str_eq(const char *s, const char *str, uint32_t len)
{
        return strlen(s) == len && memcmp(s, str, len) == 0;
}
