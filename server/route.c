#include "route.h"

#include <strings.h>

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

ssize_t percent_decode(const char *in, size_t len, char *out, bool plus_space)
{
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                if (c == '%') {
                        if (len - i < 3)
                                return -EINVAL;
                        int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
                        if (h < 0 || l < 0)
                                return -EINVAL;
                        out[o++] = (char)(h << 4 | l);
                        i += 2;
                } else if (c == '+' && plus_space)
                        out[o++] = ' ';
                else
                        out[o++] = c;
        }
        return (ssize_t)o;
}

static bool seg_is(const char *p, size_t len, const char *lit)
{
        size_t n = strlen(lit);
        return len == n && memcmp(p, lit, n) == 0;
}

static int parse_u64(const char *p, size_t len, uint64_t *ret)
{
        /* digits only, bounded: limits and offsets beyond 10^12 make no sense */
        if (len == 0 || len > 12)
                return -EINVAL;
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t)(p[i] - '0');
        }
        *ret = v;
        return 0;
}

static int parse_query(const char *q, size_t len, char *scratch, Route *r)
{
        size_t i = 0;
        while (i < len) {
                size_t end = i;
                while (end < len && q[end] != '&')
                        end++;
                const char *eq = memchr(q + i, '=', end - i);
                size_t klen = eq ? (size_t)(eq - (q + i)) : end - i;
                const char *val = eq ? eq + 1 : q + end;
                size_t vlen = eq ? (size_t)(q + end - val) : 0;
                ssize_t kd = percent_decode(q + i, klen, scratch, true);
                if (kd < 0)
                        return -EINVAL;
                bool is_limit = seg_is(scratch, (size_t)kd, "limit");
                bool is_offset = seg_is(scratch, (size_t)kd, "offset");
                if (is_limit || is_offset) {
                        ssize_t vd = percent_decode(val, vlen, scratch, true);
                        uint64_t v;
                        if (vd < 0 || parse_u64(scratch, (size_t)vd, &v) < 0)
                                return -EINVAL;
                        if (is_limit) {
                                r->limit = v;
                                r->has_limit = true;
                        } else
                                r->offset = v;
                }
                /* other parameters are ignored, as caches and proxies add their own */
                i = end + 1;
        }
        return 0;
}

int route_parse(const char *target, size_t len, char *scratch, size_t scratch_size, Route *ret)
{
        Route r = {.kind = ROUTE_NOT_FOUND};
        if (len > ROUTE_MAX_TARGET)
                return -ENAMETOOLONG;
        if (scratch_size < len)
                return -ENOBUFS;
        /* absolute-form (RFC 9112 3.2.2): skip scheme and authority */
        if (len >= 7 && (strncasecmp(target, "http://", 7) == 0 ||
                         (len >= 8 && strncasecmp(target, "https://", 8) == 0))) {
                const char *p = memchr(target + 8 - (target[4] == ':'), '/',
                                       len - (size_t)(8 - (target[4] == ':')));
                if (!p) {
                        target = "/";
                        len = 1;
                } else {
                        len -= (size_t)(p - target);
                        target = p;
                }
        }
        if (len == 0 || target[0] != '/')
                return -EINVAL;
        /* A fragment never belongs in a request target (RFC 9112 3.2): refuse it rather
         * than guess where path and query end. */
        if (memchr(target, '#', len))
                return -EINVAL;
        const char *q = memchr(target, '?', len);
        size_t plen = q ? (size_t)(q - target) : len;

        /* Split the raw path on '/', decode each segment into scratch. */
        Segment segs[ROUTE_MAX_KEYS + 5];
        size_t n = 0, o = 0;
        size_t i = 1;
        for (;;) {
                size_t end = i;
                while (end < plen && target[end] != '/')
                        end++;
                if (n == ELEMENTSOF(segs))
                        return -EINVAL;
                ssize_t d = percent_decode(target + i, end - i, scratch + o, false);
                if (d < 0)
                        return -EINVAL;
                segs[n++] = (Segment){scratch + o, (size_t)d};
                o += (size_t)d;
                if (end >= plen)
                        break;
                i = end + 1;
        }

        if (n == 1 && (segs[0].len == 0 || seg_is(segs[0].p, segs[0].len, "status")))
                r.kind = ROUTE_STATUS;
        else if (n == 2 && seg_is(segs[0].p, segs[0].len, "v1") &&
                 seg_is(segs[1].p, segs[1].len, "history"))
                r.kind = ROUTE_HISTORY;
        else if (n == 1 && seg_is(segs[0].p, segs[0].len, "healthz"))
                r.kind = ROUTE_HEALTHZ;
        else if (n == 1 && seg_is(segs[0].p, segs[0].len, "readyz"))
                r.kind = ROUTE_READYZ;
        else if (n == 1 && seg_is(segs[0].p, segs[0].len, "metrics"))
                r.kind = ROUTE_METRICS;
        else if (n >= 2 && seg_is(segs[0].p, segs[0].len, "v1")) {
                if (n == 2 && seg_is(segs[1].p, segs[1].len, "snapshot"))
                        r.kind = ROUTE_SNAPSHOT;
                else if (seg_is(segs[1].p, segs[1].len, "views")) {
                        if (n == 2)
                                r.kind = ROUTE_VIEWS;
                        else if (segs[2].len == 0)
                                r.kind = ROUTE_NOT_FOUND;
                        else if (n == 3) {
                                r.kind = ROUTE_VIEW;
                                r.view = segs[2];
                        } else if (n >= 5 && seg_is(segs[3].p, segs[3].len, "rows")) {
                                if (n - 4 > ROUTE_MAX_KEYS)
                                        return -EINVAL;
                                r.kind = ROUTE_ROW;
                                r.view = segs[2];
                                r.n_keys = n - 4;
                                for (size_t k = 0; k < r.n_keys; k++)
                                        r.keys[k] = segs[4 + k];
                        }
                }
        }
        if (q && r.kind != ROUTE_NOT_FOUND) {
                size_t qlen = len - plen - 1;
                const char *qs = q + 1;
                /* the query decodes into the scratch space after the path */
                int k = parse_query(qs, qlen, scratch + o, &r);
                if (k < 0)
                        return k;
        }
        *ret = r;
        return 0;
}

const char *route_kind_to_string(RouteKind k)
{
        static const char *const names[] = {
            [ROUTE_NOT_FOUND] = "not_found",
            [ROUTE_HEALTHZ] = "healthz",
            [ROUTE_READYZ] = "readyz",
            [ROUTE_METRICS] = "metrics",
            [ROUTE_VIEWS] = "views",
            [ROUTE_VIEW] = "view",
            [ROUTE_ROW] = "row",
            [ROUTE_SNAPSHOT] = "snapshot",
            [ROUTE_STATUS] = "status",
            [ROUTE_HISTORY] = "history",
        };
        return (unsigned)k < ELEMENTSOF(names) ? names[k] : "unknown";
}

/* Iterates a comma-separated header list: element [*ret_p, +*ret_len) without surrounding
 * whitespace, and its q-value (1000 = 1.0). Returns false at the end. */
static bool list_next(const char **cursor, const char **ret_p, size_t *ret_len, int *ret_q)
{
        const char *s = *cursor;
        while (*s == ' ' || *s == '\t' || *s == ',')
                s++;
        if (!*s)
                return false;
        const char *e = s;
        while (*e && *e != ',')
                e++;
        *cursor = e;
        const char *semi = memchr(s, ';', (size_t)(e - s));
        const char *end = semi ? semi : e;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        *ret_p = s;
        *ret_len = (size_t)(end - s);
        int q = 1000;
        for (const char *p = semi; p && p < e; p++) {
                if ((p[0] == 'q' || p[0] == 'Q') && p + 1 < e && p[1] == '=' &&
                    (p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t')) {
                        /* q = 0 / 0.xyz / 1 / 1.000 */
                        const char *v = p + 2;
                        if (v < e && *v == '0') {
                                q = 0;
                                int scale = 100;
                                if (v + 1 < e && v[1] == '.')
                                        for (const char *f = v + 2;
                                             f < e && *f >= '0' && *f <= '9' && scale; f++) {
                                                q += (*f - '0') * scale;
                                                scale /= 10;
                                        }
                        }
                        break;
                }
        }
        *ret_q = q;
        return true;
}

static bool token_eq(const char *p, size_t len, const char *lit)
{
        return strlen(lit) == len && strncasecmp(p, lit, len) == 0;
}

bool accept_wants_msgpack(const char *accept)
{
        if (!accept)
                return false;
        int q_mp = -1, q_json = -1;
        const char *cur = accept, *p;
        size_t len;
        int q;
        while (list_next(&cur, &p, &len, &q)) {
                if (token_eq(p, len, "application/msgpack") ||
                    token_eq(p, len, "application/x-msgpack") ||
                    token_eq(p, len, "application/vnd.msgpack"))
                        q_mp = MAX(q_mp, q);
                else if (token_eq(p, len, "application/json") || token_eq(p, len, "*/*") ||
                         token_eq(p, len, "application/*"))
                        q_json = MAX(q_json, q);
        }
        return q_mp > 0 && q_mp >= q_json;
}

bool accept_encoding_gzip(const char *accept_encoding)
{
        if (!accept_encoding)
                return false;
        int q_gzip = -1, q_star = -1;
        const char *cur = accept_encoding, *p;
        size_t len;
        int q;
        while (list_next(&cur, &p, &len, &q)) {
                if (token_eq(p, len, "gzip") || token_eq(p, len, "x-gzip"))
                        q_gzip = MAX(q_gzip, q);
                else if (token_eq(p, len, "*"))
                        q_star = MAX(q_star, q);
        }
        return q_gzip >= 0 ? q_gzip > 0 : q_star > 0;
}

static void strip_weak(const char **p, size_t *len)
{
        if (*len >= 2 && (*p)[0] == 'W' && (*p)[1] == '/') {
                *p += 2;
                *len -= 2;
        }
}

bool etag_list_matches(const char *if_none_match, const char *etag)
{
        if (!if_none_match || !etag)
                return false;
        const char *want = etag;
        size_t want_len = strlen(etag);
        strip_weak(&want, &want_len);
        const char *cur = if_none_match, *p;
        size_t len;
        int q;
        while (list_next(&cur, &p, &len, &q)) {
                if (len == 1 && p[0] == '*')
                        return true;
                strip_weak(&p, &len);
                if (len == want_len && memcmp(p, want, len) == 0)
                        return true;
        }
        return false;
}
