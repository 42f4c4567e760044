#include "negotiate.h"

#include <strings.h>

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

Representation accept_representation(const char *accept)
{
        if (!accept)
                return REP_JSON;
        int q_mp = -1, q_csv = -1, q_json = -1;
        const char *cur = accept, *p;
        size_t len;
        int q;
        while (list_next(&cur, &p, &len, &q)) {
                if (token_eq(p, len, "application/msgpack") ||
                    token_eq(p, len, "application/x-msgpack") ||
                    token_eq(p, len, "application/vnd.msgpack"))
                        q_mp = MAX(q_mp, q);
                else if (token_eq(p, len, "text/csv") || token_eq(p, len, "text/*"))
                        q_csv = MAX(q_csv, q);
                else if (token_eq(p, len, "application/json") || token_eq(p, len, "*/*") ||
                         token_eq(p, len, "application/*"))
                        q_json = MAX(q_json, q);
        }
        if (q_mp > 0 && q_mp >= q_json && q_mp >= q_csv)
                return REP_MSGPACK;
        if (q_csv > 0 && q_csv >= q_json)
                return REP_CSV;
        return REP_JSON;
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

bool conditional_not_modified(const char *if_none_match, const char *if_modified_since,
                              const char *etag, const char *last_modified)
{
        /* RFC 9110 13.1.3: If-None-Match, when present, decides alone */
        if (if_none_match)
                return etag_list_matches(if_none_match, etag);
        return if_modified_since && last_modified && strcmp(if_modified_since, last_modified) == 0;
}
