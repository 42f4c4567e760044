/* NDJSON lines into typed rows; see ndjson.h for the grammar and why it is our own. */
#include "ndjson.h"

#include "numparse.h"
#include "timeparse.h"

struct NdjsonParser {
        size_t n;
        char **names;
        uint32_t *name_len;
        uint8_t *types;
        uint32_t *seen; /* seen[i] == gen: column i was set on this line */
        uint32_t gen;
        char *scratch; /* decoded strings of the current line; never longer than the line */
        size_t scratch_cap, scratch_len;
        char reason[160];
};

NdjsonParser *ndjson_parser_free(NdjsonParser *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; p->names && i < p->n; i++)
                free(p->names[i]);
        free(p->names);
        free(p->name_len);
        free(p->types);
        free(p->seen);
        free(p->scratch);
        free(p);
        return NULL;
}

int ndjson_parser_new(const NdjsonColumn *columns, size_t n, NdjsonParser **ret)
{
        if (n == 0 || n > NDJSON_MAX_COLUMNS)
                return -EINVAL;
        _cleanup_(ndjson_parser_freep) NdjsonParser *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->names = calloc(n, sizeof(char *));
        p->name_len = calloc(n, sizeof(uint32_t));
        p->types = calloc(n, 1);
        p->seen = calloc(n, sizeof(uint32_t));
        if (!p->names || !p->name_len || !p->types || !p->seen)
                return -ENOMEM;
        p->n = n;
        for (size_t i = 0; i < n; i++) {
                if (!columns[i].name || columns[i].type <= VALUE_NIL ||
                    columns[i].type >= _VALUE_TYPE_MAX)
                        return -EINVAL;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(columns[j].name, columns[i].name) == 0)
                                return -EINVAL;
                p->names[i] = strdup(columns[i].name);
                if (!p->names[i])
                        return -ENOMEM;
                p->name_len[i] = (uint32_t)strlen(p->names[i]);
                p->types[i] = columns[i].type;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

/* Parse state of one line. */
typedef struct Lex {
        const unsigned char *p, *end;
        NdjsonParser *np;
        const char *why; /* static reason, or np->reason */
} Lex;

static inline void skip_ws(Lex *l)
{
        while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\r' || *l->p == '\n'))
                l->p++;
}

static bool bad(Lex *l, const char *why)
{
        l->why = why;
        return false;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
        unsigned c = p[0];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
                n = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
                n = 3;
                if (c == 0xE0)
                        lo = 0xA0;
                else if (c == 0xED)
                        hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
                n = 4;
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4)
                        hi = 0x8F;
        } else
                return 0;
        if ((size_t)(end - p) < n)
                return 0;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (p[i] < 0x80 || p[i] > 0xBF)
                        return 0;
        return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *ret)
{
        if (end - p < 4)
                return -1;
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                unsigned c = p[i], d;
                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        d = (c | 0x20) - 'a' + 10;
                else
                        return -1;
                v = v << 4 | d;
        }
        *ret = v;
        return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xC0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xE0 | cp >> 12);
                o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* l->p at the opening quote. Sets (*s, *len) to the decoded string: into the line when it
 * has no escapes (the common case, scanned without copying), else into the scratch. */
static bool lex_string(Lex *l, const char **s, uint32_t *len)
{
        const unsigned char *start = ++l->p, *q = start;
        for (;;) {
                /* the hot loop: plain ASCII up to the closing quote */
                while (q < l->end && *q != '"' && *q != '\\' && *q >= 0x20 && *q < 0x80)
                        q++;
                if (q >= l->end)
                        return bad(l, "unterminated string");
                if (*q == '"') {
                        *s = (const char *)start;
                        *len = (uint32_t)(q - start);
                        l->p = q + 1;
                        return true;
                }
                if (*q == '\\')
                        break;
                if (*q < 0x20)
                        return bad(l, "control character in a string");
                size_t n = utf8_seq(q, l->end);
                if (n == 0)
                        return bad(l, "invalid UTF-8 in a string");
                q += n;
        }

        /* escapes: decode into the scratch, which the caller sized to the line */
        NdjsonParser *np = l->np;
        char *out = np->scratch + np->scratch_len, *o = out;
        memcpy(o, start, (size_t)(q - start));
        o += q - start;
        for (;;) {
                if (q >= l->end)
                        return bad(l, "unterminated string");
                unsigned c = *q;
                if (c == '"')
                        break;
                if (c < 0x20)
                        return bad(l, "control character in a string");
                if (c >= 0x80) {
                        size_t n = utf8_seq(q, l->end);
                        if (n == 0)
                                return bad(l, "invalid UTF-8 in a string");
                        memcpy(o, q, n);
                        o += n;
                        q += n;
                        continue;
                }
                if (c != '\\') {
                        *o++ = (char)c;
                        q++;
                        continue;
                }
                if (++q >= l->end)
                        return bad(l, "unterminated string");
                switch (*q++) {
                case '"': *o++ = '"'; break;
                case '\\': *o++ = '\\'; break;
                case '/': *o++ = '/'; break;
                case 'b': *o++ = '\b'; break;
                case 'f': *o++ = '\f'; break;
                case 'n': *o++ = '\n'; break;
                case 'r': *o++ = '\r'; break;
                case 't': *o++ = '\t'; break;
                case 'u': {
                        unsigned cp, lo;
                        if (hex4(q, l->end, &cp) < 0)
                                return bad(l, "bad \\u escape");
                        q += 4;
                        if (cp >= 0xDC00 && cp <= 0xDFFF)
                                return bad(l, "lone low surrogate in a \\u escape");
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                if (l->end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
                                    hex4(q + 2, l->end, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                                        return bad(l, "lone high surrogate in a \\u escape");
                                q += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                        o += utf8_put(o, cp);
                        break;
                }
                default: return bad(l, "bad escape in a string");
                }
        }
        l->p = q + 1;
        *s = out;
        *len = (uint32_t)(o - out);
        np->scratch_len += (size_t)(o - out);
        return true;
}

/* l->p at '-' or a digit: a JSON number (RFC 8259 grammar, no leading zeros, no '+'). */
static bool lex_number(Lex *l, const char **s, uint32_t *len, bool *is_int)
{
        const unsigned char *q = l->p, *e = l->end;
        *is_int = true;
        if (q < e && *q == '-')
                q++;
        if (q >= e || *q < '0' || *q > '9')
                return bad(l, "invalid number");
        if (*q == '0')
                q++;
        else
                while (q < e && *q >= '0' && *q <= '9')
                        q++;
        if (q < e && *q == '.') {
                *is_int = false;
                q++;
                if (q >= e || *q < '0' || *q > '9')
                        return bad(l, "invalid number");
                while (q < e && *q >= '0' && *q <= '9')
                        q++;
        }
        if (q < e && (*q == 'e' || *q == 'E')) {
                *is_int = false;
                q++;
                if (q < e && (*q == '+' || *q == '-'))
                        q++;
                if (q >= e || *q < '0' || *q > '9')
                        return bad(l, "invalid number");
                while (q < e && *q >= '0' && *q <= '9')
                        q++;
        }
        *s = (const char *)l->p;
        *len = (uint32_t)(q - l->p);
        l->p = q;
        return true;
}

static bool lex_literal(Lex *l, const char *word, size_t n)
{
        if ((size_t)(l->end - l->p) < n || memcmp(l->p, word, n) != 0)
                return bad(l, "invalid JSON value");
        l->p += n;
        return true;
}

static bool type_error(Lex *l, size_t col, const char *what)
{
        NdjsonParser *np = l->np;
        snprintf(np->reason, sizeof(np->reason), "column \"%.64s\" (%s): %s", np->names[col],
                 value_type_to_string(np->types[col]), what);
        l->why = np->reason;
        return false;
}

static ssize_t find_column(NdjsonParser *np, const char *k, uint32_t klen)
{
        for (size_t i = 0; i < np->n; i++)
                if (np->name_len[i] == klen && memcmp(np->names[i], k, klen) == 0)
                        return (ssize_t)i;
        return -1;
}

/* One "key": value pair; l->p at the key's opening quote. */
static bool lex_member(Lex *l, Value *row)
{
        NdjsonParser *np = l->np;
        const char *k;
        uint32_t klen;
        size_t mark = np->scratch_len;
        if (!lex_string(l, &k, &klen))
                return false;
        ssize_t col = find_column(np, k, klen);
        np->scratch_len = mark; /* the key is not kept */
        skip_ws(l);
        if (l->p >= l->end || *l->p != ':')
                return bad(l, "expected ':' after a key");
        l->p++;
        skip_ws(l);
        if (l->p >= l->end)
                return bad(l, "missing value");
        if (col >= 0) {
                if (np->seen[col] == np->gen)
                        return type_error(l, (size_t)col, "key given twice");
                np->seen[col] = np->gen;
        }

        const char *s;
        uint32_t len;
        bool is_int;
        Value *v = col >= 0 ? &row[col] : NULL;
        ValueType t = col >= 0 ? np->types[col] : VALUE_NIL;
        switch (*l->p) {
        case '"':
                if (!lex_string(l, &s, &len))
                        return false;
                if (!v)
                        return true;
                if (t == VALUE_STR) {
                        v->type = VALUE_STR;
                        v->len = len;
                        v->s = s;
                        return true;
                }
                if (t == VALUE_TIME) {
                        if (parse_time_usec(s, len, &v->i) < 0)
                                return type_error(l, (size_t)col, "not a timestamp");
                        v->type = VALUE_TIME;
                        return true;
                }
                return type_error(l, (size_t)col, "a string is not a number");
        case '-':
        case '0' ... '9':
                if (!lex_number(l, &s, &len, &is_int))
                        return false;
                if (!v)
                        return true;
                switch (t) {
                case VALUE_INT:
                        if (!is_int)
                                return type_error(l, (size_t)col, "not an integer");
                        if (parse_int_field(s, len, &v->i) < 0)
                                return type_error(l, (size_t)col, "integer out of range");
                        v->type = VALUE_INT;
                        return true;
                case VALUE_NUM:
                        if (parse_num_field(s, len, &v->d) < 0)
                                return type_error(l, (size_t)col, "number out of range");
                        v->type = VALUE_NUM;
                        return true;
                case VALUE_TIME:
                        if (!is_int || parse_time_usec(s, len, &v->i) < 0)
                                return type_error(l, (size_t)col, "not an integer epoch");
                        v->type = VALUE_TIME;
                        return true;
                default: return type_error(l, (size_t)col, "a number is not a string");
                }
        case 'n':
                if (!lex_literal(l, "null", 4))
                        return false;
                return true; /* row[col] stays VALUE_NIL */
        case 't':
        case 'f':
                if (!lex_literal(l, *l->p == 't' ? "true" : "false", *l->p == 't' ? 4 : 5))
                        return false;
                if (v)
                        return type_error(l, (size_t)col, "true/false is no column type");
                return true;
        case '{':
        case '[': return bad(l, "nested object or array");
        default: return bad(l, "invalid JSON value");
        }
}

int ndjson_parse_line(NdjsonParser *np, const char *line, size_t len, Value *row,
                      const char **ret_reason)
{
        Lex l = {(const unsigned char *)line, (const unsigned char *)line + len, np, NULL};
        skip_ws(&l);
        if (l.p == l.end)
                return NDJSON_BLANK;
        if (len > NDJSON_MAX_LINE_BYTES) {
                *ret_reason = "line longer than 1 MiB";
                return NDJSON_BAD;
        }
        if (*l.p != '{') {
                *ret_reason = "not a JSON object";
                return NDJSON_BAD;
        }
        /* decoding only shrinks a string, so the line's length bounds the scratch */
        if (np->scratch_cap < len) {
                size_t cap = MAX(len, MIN(np->scratch_cap * 2, (size_t)NDJSON_MAX_LINE_BYTES));
                char *s = realloc(np->scratch, cap);
                if (!s)
                        return -ENOMEM;
                np->scratch = s;
                np->scratch_cap = cap;
        }
        np->scratch_len = 0;
        if (++np->gen == 0) { /* wrapped: forget every column's old mark */
                memset(np->seen, 0, np->n * sizeof(uint32_t));
                np->gen = 1;
        }
        for (size_t i = 0; i < np->n; i++)
                row[i] = (Value){.type = VALUE_NIL};

        l.p++;
        skip_ws(&l);
        if (l.p < l.end && *l.p == '}')
                l.p++;
        else
                for (;;) {
                        if (l.p >= l.end || *l.p != '"') {
                                l.why = "expected a key";
                                goto fail;
                        }
                        if (!lex_member(&l, row))
                                goto fail;
                        skip_ws(&l);
                        if (l.p < l.end && *l.p == ',') {
                                l.p++;
                                skip_ws(&l);
                                continue;
                        }
                        if (l.p < l.end && *l.p == '}') {
                                l.p++;
                                break;
                        }
                        l.why = "expected ',' or '}'";
                        goto fail;
                }
        skip_ws(&l);
        if (l.p != l.end) {
                l.why = "bytes after the object";
                goto fail;
        }
        return NDJSON_ROW;
fail:
        *ret_reason = l.why;
        return NDJSON_BAD;
}
