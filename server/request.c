#include "request.h"

#include <strings.h>

#include "bytescan.h"

#define REFUSE(st, msg) refuse(ret, st, "{\"error\":\"" msg "\",\"status\":" #st "}")

static RequestOutcome refuse(RequestHead *ret, int status, const char *body)
{
        ret->status = status;
        ret->error = body;
        return REQUEST_REFUSED;
}

/* RFC 9110 tchar, as a bit per byte below 128: letters and digits by arithmetic and
 * the rest by a switch were 8 instructions a byte of the method and the header names,
 * this is 4 (callgrind, bench rows at c50). */
static bool is_tchar(unsigned char c)
{
        static const uint64_t mask[2] = {UINT64_C(0x03ff6cfa00000000),
                                         UINT64_C(0x57ffffffc7fffffe)};
        return c < 128 && (mask[c >> 6] >> (c & 63) & 1);
}

/* A field value's bytes: visible, SP, HT and obs-text; no other control characters. */
static bool is_value_char(unsigned char c)
{
        return c >= 0x20 ? c != 0x7f : c == '\t';
}

/* name (tchar bytes) is the lowercase want, ignoring case. Folding with | 0x20 is exact
 * here: of the bytes it maps onto a letter or '-' only the uppercase letters (and CR,
 * which is no tchar) are tchar. Inlined, against a literal: the strncasecmp() call was
 * 42 instructions per request for Host alone (callgrind, bench rows at c50). */
static inline __attribute__((always_inline)) bool name_is(const char *name, size_t len,
                                                          const char *want)
{
        if (len != strlen(want))
                return false;
        for (size_t i = 0; i < len; i++)
                if ((name[i] | 0x20) != want[i])
                        return false;
        return true;
}

/* Connection: a comma-separated list of tokens. */
static void connection_tokens(const char *v, bool *close, bool *keep_alive)
{
        while (*v) {
                v += strspn(v, " \t,");
                size_t n = strcspn(v, " \t,");
                if (n == 5 && strncasecmp(v, "close", 5) == 0)
                        *close = true;
                else if (n == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                        *keep_alive = true;
                v += n;
        }
}

/* Where the head ends (one past its empty line), or 0; each byte is scanned once. */
static size_t find_end(RequestScan *scan, const char *buf, size_t len, size_t start)
{
        size_t i = MAX(scan->scanned, start);
        while (i < len) {
                const char *nl = memchr(buf + i, '\n', len - i);
                if (!nl)
                        break;
                size_t j = (size_t)(nl - buf);
                if (scan->n_lines < REQUEST_SCAN_LINES)
                        scan->nl[scan->n_lines++] = j;
                if (j > start && (buf[j - 1] == '\n' ||
                                  (buf[j - 1] == '\r' && j - 1 > start && buf[j - 2] == '\n')))
                        return j + 1;
                i = j + 1;
        }
        scan->scanned = len;
        return 0;
}

/* The lines of a complete head, in order: where find_end() saw their newlines, then by
 * search. */
typedef struct Lines {
        char *buf; /* what the recorded offsets count from */
        const size_t *nl;
        unsigned n, k;
} Lines;

/* The next line of the head, starting at p: [p, eol) without its CR LF / LF. A bare CR in
 * the line is left to the callers, whose checks of every byte refuse it (no CR is a tchar,
 * a target byte or a field value byte): the memchr() for it was 18 instructions a line
 * (callgrind, bench rows at c50). */
static char *line_end(Lines *lines, char *p, char *end, char **next)
{
        char *nl = lines->k < lines->n ? lines->buf + lines->nl[lines->k++]
                                       : memchr(p, '\n', (size_t)(end - p));
        *next = nl + 1;
        return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

static RequestOutcome parse_request_line(char *p, char *eol, RequestHead *ret)
{
        Request *req = &ret->req;
        char *m = p;
        while (p < eol && is_tchar((unsigned char)*p))
                p++;
        size_t mlen = (size_t)(p - m);
        if (mlen == 0 || p == eol || *p != ' ')
                return REFUSE(400, "malformed request line");
        char *target = ++p;
        /* the target runs to the next SP; its bytes are checked a word at a time */
        char *sp = memchr(p, ' ', (size_t)(eol - p));
        if (sp && !bytescan_maybe(p, (size_t)(sp - p), 0x21))
                p = sp;
        else
                while (p < eol && (unsigned char)*p > 0x20 && *p != 0x7f)
                        p++;
        if (p == target || p == eol || *p != ' ')
                return REFUSE(400, "malformed request line");
        *p++ = 0;
        req->target = target;
        req->target_len = (size_t)(p - 1 - target);
        if (eol - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
            p[7] < '0' || p[7] > '9')
                return REFUSE(400, "malformed request line");
        if (p[5] != '1')
                return REFUSE(505, "HTTP version not supported");
        ret->http10 = p[7] == '0';
        req->http11 = !ret->http10;

        if (mlen == 3 && m[0] == 'G' && m[1] == 'E' && m[2] == 'T')
                req->method = METHOD_GET;
        else if (mlen == 4 && memcmp(m, "HEAD", 4) == 0)
                req->method = METHOD_HEAD;
        else {
                static const char *const known[] = {"POST",    "PUT",   "DELETE", "OPTIONS",
                                                    "CONNECT", "TRACE", "PATCH"};
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(known) && !found; i++)
                        found = mlen == strlen(known[i]) && memcmp(m, known[i], mlen) == 0;
                if (!found)
                        return REFUSE(501, "method not implemented");
                req->method = METHOD_OTHER; /* respond() answers 405 with Allow */
        }
        return REQUEST_PARSED;
}

static RequestOutcome parse_head(Lines *lines, char *p, char *end, RequestHead *ret)
{
        Request *req = &ret->req;
        char *next;
        char *eol = line_end(lines, p, end, &next);
        RequestOutcome o = parse_request_line(p, eol, ret);
        if (o != REQUEST_PARSED)
                return o;
        bool close = false, keep_alive = false, has_length = false;
        const char *length = NULL;
        for (p = next; p < end; p = next) {
                eol = line_end(lines, p, end, &next);
                if (eol == p)
                        break; /* the empty line */
                char *name = p;
                while (p < eol && is_tchar((unsigned char)*p))
                        p++;
                size_t nlen = (size_t)(p - name);
                /* no space before the colon, no obs-fold (RFC 9112 5.1, 5.2) */
                if (nlen == 0 || p == eol || *p != ':')
                        return REFUSE(400, "malformed header line");
                p++;
                while (p < eol && (*p == ' ' || *p == '\t'))
                        p++;
                char *value = p, *vend = eol;
                while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t'))
                        vend--;
                /* a word at a time; a value with HT or a bad byte byte by byte */
                if (bytescan_maybe(value, (size_t)(vend - value), 0x20))
                        for (char *q = value; q < vend; q++)
                                if (!is_value_char((unsigned char)*q))
                                        return *q == '\r' ? REFUSE(400, "malformed header line")
                                                          : REFUSE(400, "malformed header value");
                *vend = 0;

                switch (nlen) {
                case 4:
                        if (name_is(name, nlen, "host")) {
                                if (req->has_host)
                                        return REFUSE(400, "more than one Host header");
                                req->has_host = true;
                        }
                        break;
                case 6:
                        if (name_is(name, nlen, "accept") && !req->accept)
                                req->accept = value;
                        break;
                case 10:
                        if (name_is(name, nlen, "connection"))
                                connection_tokens(value, &close, &keep_alive);
                        break;
                case 13:
                        if (name_is(name, nlen, "if-none-match") && !req->if_none_match)
                                req->if_none_match = value;
                        break;
                case 14:
                        if (name_is(name, nlen, "content-length")) {
                                if (!*value || strspn(value, "0123456789") != strlen(value) ||
                                    (length && strcmp(length, value) != 0))
                                        return REFUSE(400, "malformed Content-Length");
                                length = value;
                                has_length = true;
                        }
                        break;
                case 15:
                        if (name_is(name, nlen, "accept-encoding") && !req->accept_encoding)
                                req->accept_encoding = value;
                        break;
                case 17:
                        if (name_is(name, nlen, "if-modified-since") && !req->if_modified_since)
                                req->if_modified_since = value;
                        else if (name_is(name, nlen, "transfer-encoding"))
                                req->has_body = true;
                        break;
                default: break;
                }
        }
        if (has_length && strspn(length, "0") != strlen(length))
                req->has_body = true;
        ret->keep_alive = !close && (req->http11 || keep_alive);
        return REQUEST_PARSED;
}

RequestOutcome request_parse(RequestScan *scan, char *buf, size_t len, size_t max, RequestHead *ret)
{
        *ret = (RequestHead){.req.method = METHOD_OTHER};
        /* empty lines before a request line are ignored (RFC 9112 2.2) */
        size_t start = 0;
        while (start < len && (buf[start] == '\r' || buf[start] == '\n'))
                start++;
        size_t end = start < len ? find_end(scan, buf, len, start) : 0;
        if (end == 0) {
                if (len < max)
                        return REQUEST_INCOMPLETE;
                if (start == len || memchr(buf + start, '\n', len - start))
                        return REFUSE(431, "request header fields too large");
                return REFUSE(414, "request line too long");
        }
        if (end > max)
                return REFUSE(431, "request header fields too large");
        Lines lines = {buf, scan->nl, scan->n_lines, 0};
        scan->scanned = 0; /* for the next request; nl[] is read from here */
        scan->n_lines = 0;
        ret->length = end;
        return parse_head(&lines, buf + start, buf + end, ret);
}
