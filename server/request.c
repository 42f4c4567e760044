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

/* RFC 9110 tchar. Letters and digits by arithmetic, the rest by a switch: the memchr()
 * over the extra characters for every '-' in a header name was 5% of the parse
 * (callgrind, bench rows at c50). */
static bool is_tchar(unsigned char c)
{
        if ((unsigned)((c | 0x20) - 'a') < 26 || (unsigned)(c - '0') < 10)
                return true;
        switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~': return true;
        default: return false;
        }
}

/* A field value's bytes: visible, SP, HT and obs-text; no other control characters. */
static bool is_value_char(unsigned char c)
{
        return c >= 0x20 ? c != 0x7f : c == '\t';
}

static bool name_is(const char *name, size_t len, const char *want)
{
        return len == strlen(want) && strncasecmp(name, want, len) == 0;
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
                if (j > start && (buf[j - 1] == '\n' ||
                                  (buf[j - 1] == '\r' && j - 1 > start && buf[j - 2] == '\n')))
                        return j + 1;
                i = j + 1;
        }
        scan->scanned = len;
        return 0;
}

/* One line of the head: [p, eol) without its CR LF / LF; NULL at a bare CR. */
static char *line_end(char *p, char *end, char **next)
{
        char *nl = memchr(p, '\n', (size_t)(end - p));
        *next = nl + 1;
        char *eol = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        return memchr(p, '\r', (size_t)(eol - p)) ? NULL : eol;
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

        if (mlen == 3 && memcmp(m, "GET", 3) == 0)
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

static RequestOutcome parse_head(char *p, char *end, RequestHead *ret)
{
        Request *req = &ret->req;
        char *next;
        char *eol = line_end(p, end, &next);
        if (!eol)
                return REFUSE(400, "malformed request line");
        RequestOutcome o = parse_request_line(p, eol, ret);
        if (o != REQUEST_PARSED)
                return o;
        bool close = false, keep_alive = false, has_length = false;
        const char *length = NULL;
        for (p = next; p < end; p = next) {
                eol = line_end(p, end, &next);
                if (!eol)
                        return REFUSE(400, "malformed header line");
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
                for (char *q = value; q < vend; q++)
                        if (!is_value_char((unsigned char)*q))
                                return REFUSE(400, "malformed header value");
                *vend = 0;

                switch (nlen) {
                case 4:
                        if (name_is(name, nlen, "Host")) {
                                if (req->has_host)
                                        return REFUSE(400, "more than one Host header");
                                req->has_host = true;
                        }
                        break;
                case 6:
                        if (name_is(name, nlen, "Accept") && !req->accept)
                                req->accept = value;
                        break;
                case 10:
                        if (name_is(name, nlen, "Connection"))
                                connection_tokens(value, &close, &keep_alive);
                        break;
                case 13:
                        if (name_is(name, nlen, "If-None-Match") && !req->if_none_match)
                                req->if_none_match = value;
                        break;
                case 14:
                        if (name_is(name, nlen, "Content-Length")) {
                                if (!*value || strspn(value, "0123456789") != strlen(value) ||
                                    (length && strcmp(length, value) != 0))
                                        return REFUSE(400, "malformed Content-Length");
                                length = value;
                                has_length = true;
                        }
                        break;
                case 15:
                        if (name_is(name, nlen, "Accept-Encoding") && !req->accept_encoding)
                                req->accept_encoding = value;
                        break;
                case 17:
                        if (name_is(name, nlen, "If-Modified-Since") && !req->if_modified_since)
                                req->if_modified_since = value;
                        else if (name_is(name, nlen, "Transfer-Encoding"))
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
        *scan = REQUEST_SCAN_NULL;
        ret->length = end;
        return parse_head(buf + start, buf + end, ret);
}
