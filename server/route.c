#include "route.h"

#include <strings.h>

#include "timeparse.h"

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
        /* Runs without an escape are copied whole: a row path's keys rarely have one, and
         * the byte loop was 7% of tallyd's user-space instructions per single-row request
         * (callgrind, bench rows at c50). */
        size_t o = 0, i = 0;
        while (i < len) {
                const char *pct = memchr(in + i, '%', len - i);
                size_t run = pct ? (size_t)(pct - (in + i)) : len - i;
                if (plus_space)
                        for (size_t k = 0; k < run; k++)
                                out[o + k] = in[i + k] == '+' ? ' ' : in[i + k];
                else
                        memcpy(out + o, in + i, run);
                o += run;
                i += run;
                if (!pct)
                        break;
                if (len - i < 3)
                        return -EINVAL;
                int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
                if (h < 0 || l < 0)
                        return -EINVAL;
                out[o++] = (char)(h << 4 | l);
                i += 3;
        }
        return (ssize_t)o;
}

/* Inlined, so a literal's length and compare fold into a few instructions: as a call it
 * was 1% of a single-row request's instructions (callgrind, bench rows at c50). */
static inline __attribute__((always_inline)) bool seg_is(const char *p, size_t len, const char *lit)
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

/* One parameter's value: 0, or -EINVAL with r->bad_param/bad_reason set. */
static int bad(Route *r, const char *param, const char *reason)
{
        r->bad_param = param;
        r->bad_reason = reason;
        return -EINVAL;
}

static int parse_param(const char *key, size_t klen, char *val, size_t vlen, Route *r,
                       bool *ret_keep)
{
        *ret_keep = false;
        bool is_limit = seg_is(key, klen, "limit");
        if (is_limit || seg_is(key, klen, "offset")) {
                uint64_t v;
                if (parse_u64(val, vlen, &v) < 0)
                        return bad(r, is_limit ? "limit" : "offset",
                                   "not a whole number from 0 to 10^12");
                if (is_limit) {
                        r->limit = v;
                        r->has_limit = true;
                } else
                        r->offset = v;
        } else if (seg_is(key, klen, "from") || seg_is(key, klen, "to")) {
                bool from = key[0] == 'f';
                int64_t t;
                if (parse_time_usec(val, vlen, &t) < 0)
                        return bad(r, from ? "from" : "to",
                                   "not an RFC 3339 time or epoch seconds");
                if (from) {
                        r->from = t;
                        r->has_from = true;
                } else {
                        r->to = t;
                        r->has_to = true;
                }
        } else if (seg_is(key, klen, "fields")) {
                if (vlen == 0)
                        return bad(r, "fields", "empty: name at least one column");
                r->fields = (Segment){val, vlen};
                r->has_fields = true;
                *ret_keep = true;
        } else if (seg_is(key, klen, "format")) {
                if (seg_is(val, vlen, "json"))
                        r->format = ROUTE_FORMAT_JSON;
                else if (seg_is(val, vlen, "msgpack"))
                        r->format = ROUTE_FORMAT_MSGPACK;
                else if (seg_is(val, vlen, "csv"))
                        r->format = ROUTE_FORMAT_CSV;
                else
                        return bad(r, "format", "not json, msgpack or csv");
        }
        /* other parameters are ignored, as caches and proxies add their own */
        return 0;
}

/* Decodes each parameter into scratch (which holds at least len bytes); values that must
 * outlive the parse (fields) stay there, the others are overwritten by the next. */
static int parse_query(const char *q, size_t len, char *scratch, Route *r)
{
        size_t i = 0, used = 0;
        while (i < len) {
                size_t end = i;
                while (end < len && q[end] != '&')
                        end++;
                const char *eq = memchr(q + i, '=', end - i);
                size_t klen = eq ? (size_t)(eq - (q + i)) : end - i;
                const char *val = eq ? eq + 1 : q + end;
                size_t vlen = eq ? (size_t)(q + end - val) : 0;
                /* the key decodes after the value's room: decoded text is never longer */
                char *vbuf = scratch + used, *kbuf = vbuf + vlen;
                ssize_t kd = percent_decode(q + i, klen, kbuf, true);
                if (kd < 0)
                        return -EINVAL;
                ssize_t vd = percent_decode(val, vlen, vbuf, true);
                bool keep;
                if (vd < 0) {
                        static const char *const ours[] = {"limit", "offset", "from",
                                                           "to",    "fields", "format"};
                        for (size_t p = 0; p < ELEMENTSOF(ours); p++)
                                if (seg_is(kbuf, (size_t)kd, ours[p]))
                                        return bad(r, ours[p], "bad percent escape");
                        i = end + 1; /* not ours: ignored, as before */
                        continue;
                }
                if (parse_param(kbuf, (size_t)kd, vbuf, (size_t)vd, r, &keep) < 0)
                        return -EINVAL;
                if (keep)
                        used += (size_t)vd;
                i = end + 1;
        }
        if (r->has_from && r->has_to && r->to < r->from)
                return bad(r, "to", "before from");
        return 0;
}

int route_parse(const char *target, size_t len, char *scratch, size_t scratch_size, Route *ret)
{
        /* Only the members before keys[] are cleared, and only the keys in use copied out:
         * the whole 1.1 KB struct cleared and copied per request cost more instructions
         * than the routing itself (callgrind, bench rows at c50). */
        Route r;
        memset(&r, 0, offsetof(Route, keys));
        r.kind = ROUTE_NOT_FOUND;
        if (len > ROUTE_MAX_TARGET)
                return ROUTE_TOO_LONG;
        if (scratch_size < len)
                return -ENOBUFS;
        /* absolute-form (RFC 9112 3.2.2): skip scheme and authority */
        if (len >= 7 && target[0] != '/' &&
            (strncasecmp(target, "http://", 7) == 0 ||
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
        /* Without an escape in the path, the segments are its bytes: one copy and a split
         * instead of a search and a copy per segment (per-segment calls were 900 of the
         * 5,600 user-space instructions of a single-row request, callgrind, bench rows at
         * c50). */
        bool plain = !memchr(target, '%', plen);
        if (plain) {
                memcpy(scratch, target, plen);
                size_t start = 1;
                for (size_t k = 1;; k++)
                        if (k == plen || scratch[k] == '/') {
                                if (n == ELEMENTSOF(segs))
                                        return ROUTE_MALFORMED;
                                segs[n++] = (Segment){scratch + start, k - start};
                                if (k == plen)
                                        break;
                                start = k + 1;
                        }
                o = plen;
        }
        while (!plain) {
                const char *slash = i < plen ? memchr(target + i, '/', plen - i) : NULL;
                size_t end = slash ? (size_t)(slash - target) : MAX(i, plen);
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
                if (parse_query(qs, qlen, scratch + o, &r) < 0) {
                        if (!r.bad_param)
                                return ROUTE_MALFORMED;
                        ret->bad_param = r.bad_param;
                        ret->bad_reason = r.bad_reason;
                        return ROUTE_BAD_PARAM;
                }
        }
        memcpy(ret, &r, offsetof(Route, keys));
        memcpy(ret->keys, r.keys, r.n_keys * sizeof(r.keys[0]));
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
            [ROUTE_STATUS] = "status",
            [ROUTE_HISTORY] = "history",
        };
        return (unsigned)k < ELEMENTSOF(names) ? names[k] : "unknown";
}
