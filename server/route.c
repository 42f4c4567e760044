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
                return ROUTE_TOO_LONG;
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
                return ROUTE_MALFORMED;
        /* A fragment never belongs in a request target (RFC 9112 3.2): refuse it rather
         * than guess where path and query end. */
        if (memchr(target, '#', len))
                return ROUTE_MALFORMED;
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
                        return ROUTE_MALFORMED;
                ssize_t d = percent_decode(target + i, end - i, scratch + o, false);
                if (d < 0)
                        return ROUTE_MALFORMED;
                segs[n++] = (Segment){scratch + o, (size_t)d};
                o += (size_t)d;
                if (end >= plen)
                        break;
                i = end + 1;
        }

        if (n == 1 && seg_is(segs[0].p, segs[0].len, "healthz"))
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
                                        return ROUTE_MALFORMED;
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
                if (parse_query(qs, qlen, scratch + o, &r) < 0)
                        return ROUTE_MALFORMED;
        }
        *ret = r;
        return ROUTE_PARSED;
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
        };
        return (unsigned)k < ELEMENTSOF(names) ? names[k] : "unknown";
}
