/* The PostgreSQL column types tally reads, and COPY's rows of them into Values: the binary
 * and text forms (pg_decode.h). */
#include "pg_decode.h"

#include <math.h>

#include "numparse.h"
#include "timeparse.h"

/* pg_type OIDs (stable since forever: src/include/catalog/pg_type.dat) */
enum {
        OID_NAME = 19,
        OID_INT8 = 20,
        OID_INT2 = 21,
        OID_INT4 = 23,
        OID_TEXT = 25,
        OID_FLOAT4 = 700,
        OID_FLOAT8 = 701,
        OID_BPCHAR = 1042,
        OID_VARCHAR = 1043,
        OID_DATE = 1082,
        OID_TIMESTAMP = 1114,
        OID_TIMESTAMPTZ = 1184,
        OID_NUMERIC = 1700,
};

#define PG_EPOCH_USEC INT64_C(946684800000000) /* 2000-01-01 in Unix µs */
#define PG_EPOCH_DAYS 10957

bool pg_type_gives(Oid oid, ValueType t)
{
        switch (oid) {
        case OID_TEXT:
        case OID_VARCHAR:
        case OID_BPCHAR:
        case OID_NAME: return t == VALUE_STR;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8: return t == VALUE_INT;
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC: return t == VALUE_NUM;
        case OID_DATE:
        case OID_TIMESTAMP:
        case OID_TIMESTAMPTZ: return t == VALUE_TIME;
        default: return false;
        }
}

const char *pg_type_name(Oid oid, char *buf, size_t n)
{
        static const struct {
                Oid oid;
                const char *name;
        } names[] = {
            {16, "boolean"},
            {17, "bytea"},
            {OID_NAME, "name"},
            {OID_INT8, "bigint"},
            {OID_INT2, "smallint"},
            {OID_INT4, "integer"},
            {OID_TEXT, "text"},
            {114, "json"},
            {OID_FLOAT4, "real"},
            {OID_FLOAT8, "double precision"},
            {OID_BPCHAR, "character"},
            {OID_VARCHAR, "character varying"},
            {OID_DATE, "date"},
            {1083, "time"},
            {OID_TIMESTAMP, "timestamp"},
            {OID_TIMESTAMPTZ, "timestamptz"},
            {1186, "interval"},
            {OID_NUMERIC, "numeric"},
            {2950, "uuid"},
            {3802, "jsonb"},
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].oid == oid)
                        return names[i].name;
        snprintf(buf, n, "type oid %u", (unsigned)oid);
        return buf;
}

static inline uint16_t be16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be64(const uint8_t *p)
{
        return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* numeric's binary form: ndigits, weight, sign, dscale, then base-10000 digits. Written
 * out as an integer mantissa and a decimal exponent for strtod, which rounds correctly. */
static const char *decode_numeric(const uint8_t *p, uint32_t len, double *ret)
{
        if (len < 8)
                return "numeric: short field";
        uint16_t nd = be16(p), sign = be16(p + 4);
        int16_t weight = (int16_t)be16(p + 2);
        if (sign == 0xC000)
                return "numeric: NaN";
        if (sign == 0xD000 || sign == 0xF000)
                return "numeric: infinity";
        if (sign != 0 && sign != 0x4000)
                return "numeric: bad sign";
        if (len != 8 + 2u * nd)
                return "numeric: length does not match its digits";
        /* fast path: an integer mantissa below 2^53 and a power of ten up to 1e22 are both
         * exact doubles, so one multiplication or division rounds correctly (as strtod) */
        if (nd <= 4) {
                uint64_t m = 0;
                for (unsigned i = 0; i < nd; i++) {
                        uint16_t d = be16(p + 8 + 2 * i);
                        if (d > 9999)
                                return "numeric: bad digit";
                        m = m * 10000 + d;
                }
                int e = 4 * ((int)weight + 1 - (int)nd);
                static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
                if (m < (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
                        double d = e >= 0 ? (double)m * pow10[e] : (double)m / pow10[-e];
                        *ret = sign == 0x4000 ? -d : d;
                        return NULL;
                }
        }
        /* 40 groups are 160 significant digits, far past a double's 17 */
        unsigned used = MIN(nd, 40u);
        char buf[8 + 4 * 40 + 16], *o = buf;
        if (sign == 0x4000)
                *o++ = '-';
        *o++ = '0';
        for (unsigned i = 0; i < used; i++) {
                uint16_t d = be16(p + 8 + 2 * i);
                if (d > 9999)
                        return "numeric: bad digit";
                o[0] = (char)('0' + d / 1000);
                o[1] = (char)('0' + d / 100 % 10);
                o[2] = (char)('0' + d / 10 % 10);
                o[3] = (char)('0' + d % 10);
                o += 4;
        }
        snprintf(o, sizeof(buf) - (size_t)(o - buf), "e%d", 4 * ((int)weight + 1 - (int)used));
        double d = strtod(buf, NULL);
        if (!isfinite(d))
                return "numeric: out of range for a double";
        *ret = d;
        return NULL;
}

static const char *decode_binary_field(Oid oid, const uint8_t *p, uint32_t len, Value *v)
{
        switch (oid) {
        case OID_TEXT:
        case OID_VARCHAR:
        case OID_BPCHAR:
        case OID_NAME:
                v->type = VALUE_STR;
                v->s = (const char *)p;
                v->len = len;
                return NULL;
        case OID_INT2:
                if (len != 2)
                        return "smallint: not 2 bytes";
                *v = (Value){.type = VALUE_INT, .i = (int16_t)be16(p)};
                return NULL;
        case OID_INT4:
                if (len != 4)
                        return "integer: not 4 bytes";
                *v = (Value){.type = VALUE_INT, .i = (int32_t)be32(p)};
                return NULL;
        case OID_INT8:
                if (len != 8)
                        return "bigint: not 8 bytes";
                *v = (Value){.type = VALUE_INT, .i = (int64_t)be64(p)};
                return NULL;
        case OID_FLOAT4: {
                if (len != 4)
                        return "real: not 4 bytes";
                uint32_t u = be32(p);
                float f;
                memcpy(&f, &u, sizeof(f));
                if (!isfinite(f))
                        return "real: not a finite number";
                *v = (Value){.type = VALUE_NUM, .d = f};
                return NULL;
        }
        case OID_FLOAT8: {
                if (len != 8)
                        return "double precision: not 8 bytes";
                uint64_t u = be64(p);
                double d;
                memcpy(&d, &u, sizeof(d));
                if (!isfinite(d))
                        return "double precision: not a finite number";
                *v = (Value){.type = VALUE_NUM, .d = d};
                return NULL;
        }
        case OID_NUMERIC: {
                double d;
                const char *why = decode_numeric(p, len, &d);
                if (!why)
                        *v = (Value){.type = VALUE_NUM, .d = d};
                return why;
        }
        case OID_TIMESTAMP:
        case OID_TIMESTAMPTZ: {
                if (len != 8)
                        return "timestamp: not 8 bytes";
                int64_t t = (int64_t)be64(p), u;
                if (t == INT64_MAX || t == INT64_MIN)
                        return "timestamp: infinity";
                if (__builtin_add_overflow(t, PG_EPOCH_USEC, &u))
                        return "timestamp: out of range";
                *v = (Value){.type = VALUE_TIME, .i = u};
                return NULL;
        }
        case OID_DATE: {
                if (len != 4)
                        return "date: not 4 bytes";
                int32_t d = (int32_t)be32(p);
                if (d == INT32_MAX || d == INT32_MIN)
                        return "date: infinity";
                /* |d| < 2^31 days: the product stays far inside int64 */
                *v = (Value){.type = VALUE_TIME,
                             .i = ((int64_t)d + PG_EPOCH_DAYS) * 86400 * (int64_t)USEC_PER_SEC};
                return NULL;
        }
        default: return "unexpected column type";
        }
}

static const uint8_t binary_signature[11] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                             '\n', 0xFF, '\r', '\n', 0};

int pg_decode_binary(PgDecoder *d, const uint8_t *p, size_t n, const char **why)
{
        const uint8_t *e = p + n;
        if (!d->header_seen) {
                if (n < 19 || memcmp(p, binary_signature, 11) != 0) {
                        *why = "binary COPY: no header";
                        return PG_DECODE_BAD;
                }
                uint32_t ext = be32(p + 15);
                if (ext > n - 19) {
                        *why = "binary COPY: bad header extension";
                        return PG_DECODE_BAD;
                }
                p += 19 + ext;
                d->header_seen = true;
        }
        if (p == e)
                return PG_DECODE_SKIP;
        if (e - p < 2) {
                *why = "binary COPY: truncated row";
                return PG_DECODE_BAD;
        }
        int16_t nf = (int16_t)be16(p);
        p += 2;
        if (nf == -1)
                return PG_DECODE_SKIP; /* trailer */
        if ((size_t)nf != d->n_columns) {
                *why = "binary COPY: wrong field count";
                return PG_DECODE_BAD;
        }
        for (size_t i = 0; i < d->n_columns; i++) {
                if (e - p < 4) {
                        *why = "binary COPY: truncated row";
                        return PG_DECODE_BAD;
                }
                int32_t len = (int32_t)be32(p);
                p += 4;
                if (len == -1) {
                        d->row[i] = (Value){.type = VALUE_NIL};
                        continue;
                }
                if (len < 0 || len > e - p) {
                        *why = "binary COPY: bad field length";
                        return PG_DECODE_BAD;
                }
                *why = decode_binary_field(d->oids[i], p, (uint32_t)len, &d->row[i]);
                if (*why)
                        return PG_DECODE_BAD;
                p += len;
        }
        if (p != e) {
                *why = "binary COPY: bytes after the row";
                return PG_DECODE_BAD;
        }
        return PG_DECODE_ROW;
}

/* Text COPY: unescapes \t \n \\ … in place into the scratch. */
static const char *unescape_text(const char *s, size_t len, const char **out, size_t *out_len,
                                 char **o)
{
        char *w = *o;
        *out = w;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (ch != '\\') {
                        *w++ = ch;
                        continue;
                }
                if (++i >= len)
                        return "text COPY: trailing backslash";
                switch (s[i]) {
                case 'b': *w++ = '\b'; break;
                case 'f': *w++ = '\f'; break;
                case 'n': *w++ = '\n'; break;
                case 'r': *w++ = '\r'; break;
                case 't': *w++ = '\t'; break;
                case 'v': *w++ = '\v'; break;
                case '0' ... '7': {
                        unsigned v = 0, k = 0;
                        while (k < 3 && i < len && s[i] >= '0' && s[i] <= '7')
                                v = v * 8 + (unsigned)(s[i++] - '0'), k++;
                        i--;
                        *w++ = (char)v;
                        break;
                }
                default: *w++ = s[i]; break; /* \\ and any other: the byte itself */
                }
        }
        *out_len = (size_t)(w - *out);
        *o = w;
        return NULL;
}

static const char *decode_text_field(Oid oid, const char *s, size_t len, Value *v)
{
        switch (oid) {
        case OID_TEXT:
        case OID_VARCHAR:
        case OID_BPCHAR:
        case OID_NAME: *v = (Value){.type = VALUE_STR, .len = (uint32_t)len, .s = s}; return NULL;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
                v->type = VALUE_INT;
                return parse_int_field(s, len, &v->i) < 0 ? "integer: does not parse" : NULL;
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC:
                v->type = VALUE_NUM;
                return parse_num_field(s, len, &v->d) < 0 ? "number: not a finite number" : NULL;
        case OID_TIMESTAMPTZ:
                /* TimeZone is UTC: the offset is always +00, which RFC 3339 spells Z */
                if (len > 3 && memcmp(s + len - 3, "+00", 3) == 0)
                        len -= 3;
                /* fallthrough */
        case OID_TIMESTAMP:
        case OID_DATE:
                v->type = VALUE_TIME;
                return parse_time_usec(s, len, &v->i) < 0 ? "timestamp: does not parse" : NULL;
        default: return "unexpected column type";
        }
}

int pg_decode_text(PgDecoder *d, const char *p, size_t n, const char **why)
{
        if (n > 0 && p[n - 1] == '\n')
                n--;
        if (d->scratch_cap < n + 1) {
                char *s = realloc(d->scratch, n + 1);
                if (!s)
                        return -ENOMEM;
                d->scratch = s;
                d->scratch_cap = n + 1;
        }
        char *o = d->scratch;
        const char *e = p + n;
        for (size_t i = 0; i < d->n_columns; i++) {
                if (i > 0) {
                        if (p >= e || *p != '\t') {
                                *why = "text COPY: too few fields";
                                return PG_DECODE_BAD;
                        }
                        p++;
                }
                const char *end = memchr(p, '\t', (size_t)(e - p));
                if (!end)
                        end = e;
                size_t len = (size_t)(end - p);
                if (len == 2 && p[0] == '\\' && p[1] == 'N') {
                        d->row[i] = (Value){.type = VALUE_NIL};
                        p = end;
                        continue;
                }
                const char *s = p;
                if (memchr(p, '\\', len)) {
                        *why = unescape_text(p, len, &s, &len, &o);
                        if (*why)
                                return PG_DECODE_BAD;
                }
                *why = decode_text_field(d->oids[i], s, len, &d->row[i]);
                if (*why)
                        return PG_DECODE_BAD;
                p = end;
        }
        if (p != e) {
                *why = "text COPY: too many fields";
                return PG_DECODE_BAD;
        }
        return PG_DECODE_ROW;
}
