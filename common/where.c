#include "where.h"

#include <stdarg.h>
#include <strings.h>

#include "strv.h"
#include "timeparse.h"

typedef struct WhereParser {
        WhereResolve resolve;
        void *userdata;
        char *reason;
        size_t reason_size;
} WhereParser;

/* A source's columns, for where_parse. */
typedef struct SourceColumns {
        const char *source;
        const ColumnDef *columns;
        size_t n_columns;
} SourceColumns;

static int fail(WhereParser *w, const char *fmt, ...) _printf_(2, 3);
static int fail(WhereParser *w, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        if (w->reason_size > 0)
                vsnprintf(w->reason, w->reason_size, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static int resolve_column(void *userdata, const char *name, int *ret_index, ValueType *ret_type,
                          char *reason, size_t reason_size)
{
        const SourceColumns *c = userdata;
        for (size_t i = 0; i < c->n_columns; i++)
                if (strcmp(c->columns[i].name, name) == 0) {
                        *ret_index = (int)i;
                        *ret_type = c->columns[i].type;
                        return 0;
                }
        snprintf(reason, reason_size, "source '%s' has no column '%s'", c->source, name);
        return -EINVAL;
}

static void literal_done(Value *v)
{
        if (v->type == VALUE_STR)
                free((char *)v->s);
}

static int parse_literal(WhereParser *w, ValueType t, const char *name, char *text, Value *ret)
{
        char *lit = unquote(text);
        int r = 0;
        *ret = (Value){.type = (uint8_t)t};
        switch (t) {
        case VALUE_STR:
                ret->s = strdup(lit);
                ret->len = (uint32_t)strlen(lit);
                return ret->s ? 0 : -ENOMEM;
        case VALUE_INT: {
                char *end;
                errno = 0;
                long long v = strtoll(lit, &end, 10);
                if (!*lit || *end || errno)
                        r = -EINVAL;
                ret->i = v;
                break;
        }
        case VALUE_NUM: r = parse_double(lit, &ret->d); break;
        case VALUE_TIME: r = parse_time_usec(lit, strlen(lit), &ret->i); break;
        default: r = -EINVAL;
        }
        if (r < 0)
                return fail(w, "'%s' is not a valid %s for column '%s'", lit,
                            value_type_to_string(t), name);
        return 0;
}

static int parse_in_list(WhereParser *w, ValueType t, const char *name, char *rest, Predicate *pred)
{
        char *open = strchr(rest, '('), *close = strrchr(rest, ')');
        if (!open || !close || close < open || close[1] != 0)
                return fail(w, "'in' needs a parenthesised list: COLUMN in (A, B)");
        *close = 0;
        _cleanup_(strv_freep) char **items = NULL;
        int n = strv_split_quoted(open + 1, ',', &items);
        if (n == -ENOMEM)
                return n;
        if (n <= 0 || (n == 1 && !*items[0]))
                return fail(w, "empty or malformed 'in' list");
        pred->op = CMP_IN;
        pred->literals = calloc((size_t)n, sizeof(Value));
        if (!pred->literals)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                int r = parse_literal(w, t, name, items[i], &pred->literals[i]);
                if (r < 0)
                        return r;
                pred->n_literals++;
        }
        return 0;
}

/* One clause: COLUMN OP LITERAL or COLUMN in (A, B, ...). */
static int parse_clause(WhereParser *w, char *clause, Predicate *pred)
{
        static const struct {
                const char *tok;
                CmpOp op;
        } ops[] = {{"<=", CMP_LE}, {">=", CMP_GE}, {"!=", CMP_NE}, {"==", CMP_EQ},
                   {"=", CMP_EQ},  {"<", CMP_LT},  {">", CMP_GT}};
        /* the name ends at an operator or a blank outside parentheses: p95(x) > 3 */
        char *name = clause;
        size_t nl = 0;
        for (int depth = 0; name[nl]; nl++) {
                if (name[nl] == '(')
                        depth++;
                else if (name[nl] == ')')
                        depth--;
                else if (depth == 0 && strchr(" \t=<>!", name[nl]))
                        break;
        }
        char *rest = name + nl;
        while (*rest == ' ' || *rest == '\t')
                rest++;
        _cleanup_free_ char *nm = strndup(name, nl);
        if (!nm)
                return -ENOMEM;
        int col;
        ValueType type;
        int r = w->resolve(w->userdata, nm, &col, &type, w->reason, w->reason_size);
        if (r < 0)
                return r;
        pred->column = col;
        if (strncasecmp(rest, "in", 2) == 0 && (rest[2] == ' ' || rest[2] == '('))
                return parse_in_list(w, type, nm, rest, pred);
        for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
                size_t tl = strlen(ops[i].tok);
                if (strncmp(rest, ops[i].tok, tl) != 0)
                        continue;
                char *lit = rest + tl;
                while (*lit == ' ' || *lit == '\t')
                        lit++;
                if (!*lit)
                        return fail(w, "missing value after '%s'", ops[i].tok);
                pred->op = ops[i].op;
                if (type == VALUE_STR && pred->op != CMP_EQ && pred->op != CMP_NE)
                        return fail(w, "'%s' compares a str column: only =, != and in are allowed",
                                    ops[i].tok);
                pred->literals = calloc(1, sizeof(Value));
                if (!pred->literals)
                        return -ENOMEM;
                r = parse_literal(w, type, nm, lit, &pred->literals[0]);
                if (r < 0)
                        return r;
                pred->n_literals = 1;
                return 0;
        }
        return fail(w, "expected an operator (=, !=, <, <=, >, >=, in) after '%s'", clause);
}

/* Cuts text at the word "and" outside quotes and parentheses; returns the clause count. */
static int split_clauses(WhereParser *w, char *text, char *clauses[WHERE_MAX_CLAUSES])
{
        size_t n = 0;
        char *start = text, quote = 0;
        int depth = 0;
        for (char *q = text;; q++) {
                if (quote) {
                        if (*q == quote)
                                quote = 0;
                        else if (!*q)
                                break;
                        continue;
                }
                if (*q == '\'' || *q == '"')
                        quote = *q;
                else if (*q == '(')
                        depth++;
                else if (*q == ')')
                        depth--;
                bool at_and = depth == 0 && q > text && (q[-1] == ' ' || q[-1] == '\t') &&
                              strncasecmp(q, "and", 3) == 0 && (q[3] == ' ' || q[3] == '\t');
                if (!*q || at_and) {
                        if (n == WHERE_MAX_CLAUSES)
                                return fail(w, "too many clauses");
                        bool end = !*q;
                        *q = 0;
                        clauses[n++] = start;
                        if (end)
                                break;
                        start = q + 3;
                        q += 2;
                }
        }
        if (quote || depth != 0)
                return fail(w, "unbalanced quotes or parentheses");
        return (int)n;
}

int where_parse(const char *text, const char *source, const ColumnDef *columns, size_t n_columns,
                Predicate **ret, size_t *ret_n, char *reason, size_t reason_size)
{
        SourceColumns c = {source, columns, n_columns};
        return where_parse_names(text, resolve_column, &c, ret, ret_n, reason, reason_size);
}

int where_parse_names(const char *text, WhereResolve resolve, void *userdata, Predicate **ret,
                      size_t *ret_n, char *reason, size_t reason_size)
{
        WhereParser w = {resolve, userdata, reason, reason_size};
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char *clauses[WHERE_MAX_CLAUSES];
        int n = split_clauses(&w, copy, clauses);
        if (n < 0)
                return n;
        Predicate *preds = calloc((size_t)n, sizeof(Predicate));
        if (!preds)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                char *c = clauses[i];
                while (*c == ' ' || *c == '\t')
                        c++;
                size_t cl = strlen(c);
                while (cl > 0 && (c[cl - 1] == ' ' || c[cl - 1] == '\t'))
                        c[--cl] = 0;
                int r = *c ? parse_clause(&w, c, &preds[i]) : fail(&w, "empty clause");
                if (r < 0) {
                        where_free(preds, (size_t)i + 1); /* frees what the clause allocated */
                        return r;
                }
        }
        *ret = preds;
        *ret_n = (size_t)n;
        return 0;
}

Predicate *where_free(Predicate *p, size_t n)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < p[i].n_literals; j++)
                        literal_done(&p[i].literals[j]);
                free(p[i].literals);
        }
        free(p);
        return NULL;
}
