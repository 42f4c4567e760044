#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "ini.h"
#include "log.h"
#include "timeparse.h"

#define CONFIG_MAX_FILE_BYTES (1u << 20)
#define CONFIG_MAX_ENTRIES    4096

/* Raw "[section] key = value" entries; validated once all sections are known, since a
 * view may name a source defined further down. */
typedef struct Entry {
        unsigned line;
        char *section;
        char *key; /* NULL for a section header */
        char *value;
} Entry;

typedef struct Parser {
        const char *path;
        Entry *entries;
        size_t n_entries;
        int errors;
        Config *config;
} Parser;

static void report(Parser *p, unsigned line, const char *section, const char *key, const char *fmt,
                   ...) _printf_(5, 6);
static void report(Parser *p, unsigned line, const char *section, const char *key, const char *fmt,
                   ...)
{
        char reason[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (key)
                log_error("%s:%u: [%s] %s: %s", p->path, line, section, key, reason);
        else if (section)
                log_error("%s:%u: [%s]: %s", p->path, line, section, reason);
        else
                log_error("%s:%u: %s", p->path, line, reason);
        p->errors++;
}

static void ini_error(void *userdata, unsigned line, const char *reason)
{
        report(userdata, line, NULL, NULL, "%s", reason);
}

static int collect(void *userdata, unsigned line, const char *section, const char *key,
                   const char *value)
{
        Parser *p = userdata;
        if (p->n_entries >= CONFIG_MAX_ENTRIES) {
                report(p, line, section, key, "too many entries (limit %d)", CONFIG_MAX_ENTRIES);
                return -E2BIG;
        }
        if (p->n_entries % 64 == 0) {
                Entry *e = realloc(p->entries, (p->n_entries + 64) * sizeof(Entry));
                if (!e)
                        return -ENOMEM;
                p->entries = e;
        }
        Entry *e = &p->entries[p->n_entries];
        *e = (Entry){.line = line};
        e->section = strdup(section);
        e->key = key ? strdup(key) : NULL;
        e->value = value ? strdup(value) : NULL;
        p->n_entries++;
        if (!e->section || (key && !e->key) || (value && !e->value))
                return -ENOMEM;
        return 0;
}

static bool valid_name(const char *s)
{
        if (!*s || strlen(s) > CONFIG_MAX_NAME)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

/* Splits s on sep into trimmed, malloc'd items. Items may be quoted with ' or " to hold
 * the separator. Returns the count or negative errno; *ret is NULL-terminated. */
static int split_list(const char *s, char sep, char ***ret)
{
        size_t n = 0, cap = 8;
        char **items = calloc(cap + 1, sizeof(char *));
        if (!items)
                return -ENOMEM;
        const char *start = s;
        char quote = 0;
        for (const char *q = s;; q++) {
                if (quote) {
                        if (*q == quote)
                                quote = 0;
                        else if (!*q)
                                goto bad;
                        continue;
                }
                if (*q == '\'' || *q == '"') {
                        quote = *q;
                        continue;
                }
                if (*q != sep && *q)
                        continue;
                if (n == cap) {
                        char **t = realloc(items, (cap * 2 + 1) * sizeof(char *));
                        if (!t)
                                goto nomem;
                        items = t;
                        cap *= 2;
                }
                items[n] = strdup_trim(start, (size_t)(q - start));
                if (!items[n])
                        goto nomem;
                items[++n] = NULL;
                if (!*q)
                        break;
                start = q + 1;
        }
        *ret = items;
        return (int)n;
bad:
nomem:
        for (size_t i = 0; i < n; i++)
                free(items[i]);
        free(items);
        return quote ? -EINVAL : -ENOMEM;
}

static void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

/* Removes one level of matching quotes in place. */
static char *unquote(char *s)
{
        size_t len = strlen(s);
        if (len >= 2 && (s[0] == '\'' || s[0] == '"') && s[len - 1] == s[0]) {
                s[len - 1] = 0;
                return s + 1;
        }
        return s;
}

int source_column_index(const SourceConfig *s, const char *name)
{
        for (size_t i = 0; i < s->n_columns; i++)
                if (strcmp(s->columns[i].name, name) == 0)
                        return (int)i;
        return -1;
}

const SourceConfig *config_find_source(const Config *c, const char *name)
{
        for (size_t i = 0; i < c->n_sources; i++)
                if (strcmp(c->sources[i].name, name) == 0)
                        return &c->sources[i];
        return NULL;
}

const ViewConfig *config_find_view(const Config *c, const char *name)
{
        for (size_t i = 0; i < c->n_views; i++)
                if (strcmp(c->views[i].name, name) == 0)
                        return &c->views[i];
        return NULL;
}

static const char *const agg_names[_AGG_KIND_MAX] = {
    [AGG_COUNT] = "count",
    [AGG_SUM] = "sum",
    [AGG_AVG] = "avg",
    [AGG_MIN] = "min",
    [AGG_MAX] = "max",
    [AGG_QUANTILE] = "quantile",
    [AGG_DISTINCT] = "distinct",
    [AGG_APPROX_QUANTILE] = "approx_quantile",
    [AGG_APPROX_DISTINCT] = "approx_distinct",
};

const char *agg_kind_to_string(AggKind k)
{
        return (unsigned)k < _AGG_KIND_MAX ? agg_names[k] : "invalid";
}

/* ---- typed values of keys ---- */

static int get_uint(Parser *p, const Entry *e, uint64_t min, uint64_t max, uint64_t *ret)
{
        int r = parse_uint(e->value, min, max, ret);
        if (r < 0)
                report(p, e->line, e->section, e->key,
                       "'%s' is not a whole number in %" PRIu64 "..%" PRIu64, e->value, min, max);
        return r;
}

static int get_duration(Parser *p, const Entry *e, uint64_t *ret)
{
        int r = parse_duration_usec(e->value, ret);
        if (r < 0)
                report(p, e->line, e->section, e->key,
                       "'%s' is not a duration (e.g. 500ms, 90s, 2m, 24h, 7d)", e->value);
        return r;
}

static int get_ratio(Parser *p, const Entry *e, double *ret)
{
        double v;
        const char *s = e->value;
        size_t len = strlen(s);
        int r;
        if (len > 0 && s[len - 1] == '%') {
                char buf[64];
                if (len >= sizeof(buf))
                        goto bad;
                memcpy(buf, s, len - 1);
                buf[len - 1] = 0;
                r = parse_double(buf, &v);
                v /= 100;
        } else
                r = parse_double(s, &v);
        if (r < 0 || v < 0 || v > 1)
                goto bad;
        *ret = v;
        return 0;
bad:
        report(p, e->line, e->section, e->key, "'%s' is not a ratio in 0..1 (or 0%%..100%%)", s);
        return -EINVAL;
}

static int get_string(Parser *p, const Entry *e, char **ret)
{
        if (!*e->value) {
                report(p, e->line, e->section, e->key, "empty value");
                return -EINVAL;
        }
        char *s = strdup(e->value);
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

static int get_listen(Parser *p, const Entry *e, char **ret)
{
        const char *colon = strrchr(e->value, ':');
        uint64_t port;
        if (!colon || colon == e->value || parse_uint(colon + 1, 1, 65535, &port) < 0) {
                report(p, e->line, e->section, e->key,
                       "'%s' is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080)", e->value);
                return -EINVAL;
        }
        return get_string(p, e, ret);
}

/* ---- sections ---- */

static int parse_tally_key(Parser *p, const Entry *e)
{
        Config *c = p->config;
        uint64_t v;
        if (strcmp(e->key, "snapshot_dir") == 0)
                return get_string(p, e, &c->snapshot_dir);
        if (strcmp(e->key, "keep") == 0) {
                int r = get_uint(p, e, 1, 1000, &v);
                if (r == 0)
                        c->keep = (unsigned)v;
                return r;
        }
        if (strcmp(e->key, "max_snapshot_bytes") == 0)
                return get_uint(p, e, 1024, UINT64_C(1) << 40, &c->max_snapshot_bytes);
        report(p, e->line, e->section, e->key, "unknown key");
        return -EINVAL;
}

static int parse_server_key(Parser *p, const Entry *e)
{
        ServerConfig *s = &p->config->server;
        uint64_t v;
        int r;
        if (strcmp(e->key, "listen") == 0)
                return get_listen(p, e, &s->listen);
        if (strcmp(e->key, "max_age") == 0)
                return get_duration(p, e, &s->max_age_usec);
        if (strcmp(e->key, "poll_interval") == 0)
                return get_duration(p, e, &s->poll_interval_usec);
        if (strcmp(e->key, "timeout") == 0)
                return get_duration(p, e, &s->timeout_usec);
        if (strcmp(e->key, "spawn_interval") == 0)
                return get_duration(p, e, &s->spawn_interval_usec);
        if (strcmp(e->key, "workers") == 0) {
                r = get_uint(p, e, 1, 64, &v);
                s->workers = (unsigned)v;
                return r;
        }
        if (strcmp(e->key, "max_connections") == 0) {
                r = get_uint(p, e, 1, 1000000, &v);
                s->max_connections = (unsigned)v;
                return r;
        }
        if (strcmp(e->key, "max_header_bytes") == 0) {
                r = get_uint(p, e, 256, 1 << 20, &v);
                s->max_header_bytes = (unsigned)v;
                return r;
        }
        report(p, e->line, e->section, e->key, "unknown key");
        return -EINVAL;
}

static int parse_worker_key(Parser *p, const Entry *e)
{
        WorkerConfig *w = &p->config->worker;
        uint64_t v;
        if (strcmp(e->key, "max_runtime") == 0)
                return get_duration(p, e, &w->max_runtime_usec);
        if (strcmp(e->key, "threads") == 0) {
                int r = get_uint(p, e, 0, 256, &v);
                w->threads = (unsigned)v;
                return r;
        }
        if (strcmp(e->key, "max_bad_ratio") == 0)
                return get_ratio(p, e, &w->max_bad_ratio);
        report(p, e->line, e->section, e->key, "unknown key");
        return -EINVAL;
}

/* [nats] lives in config_nats.c; only the FILE:LINE report is ours. */
static int parse_nats_key(Parser *p, const Entry *e)
{
        char reason[256] = "";
        int r = nats_config_parse_key(&p->config->nats, e->line, e->key, e->value, reason,
                                      sizeof(reason));
        if (r == -EINVAL)
                report(p, e->line, e->section, e->key, "%s", reason);
        return r;
}

static int parse_columns(Parser *p, const Entry *e, SourceConfig *s)
{
        _cleanup_(strv_freep) char **items = NULL;
        int n = split_list(e->value, ',', &items);
        if (n < 0)
                return n;
        if (n > CONFIG_MAX_COLUMNS) {
                report(p, e->line, e->section, e->key, "more than %d columns", CONFIG_MAX_COLUMNS);
                return -EINVAL;
        }
        s->columns = calloc((size_t)n, sizeof(ColumnDef));
        if (!s->columns)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                char *colon = strchr(items[i], ':');
                ValueType t;
                if (!colon) {
                        report(p, e->line, e->section, e->key,
                               "column '%s' needs a type (NAME:str|int|num|time)", items[i]);
                        return -EINVAL;
                }
                *colon = 0;
                char *name = items[i], *type = colon + 1;
                while (*type == ' ')
                        type++;
                size_t nl = strlen(name);
                while (nl > 0 && name[nl - 1] == ' ')
                        name[--nl] = 0;
                if (!valid_name(name)) {
                        report(p, e->line, e->section, e->key, "bad column name '%s'", name);
                        return -EINVAL;
                }
                if (value_type_from_string(type, &t) < 0) {
                        report(p, e->line, e->section, e->key,
                               "column '%s': unknown type '%s' (str, int, num, time)", name, type);
                        return -EINVAL;
                }
                if (source_column_index(s, name) >= 0) {
                        report(p, e->line, e->section, e->key, "column '%s' declared twice", name);
                        return -EINVAL;
                }
                s->columns[i].name = strdup(name);
                if (!s->columns[i].name)
                        return -ENOMEM;
                s->columns[i].type = t;
                s->n_columns = (size_t)i + 1;
        }
        return 0;
}

static int parse_source_key(Parser *p, const Entry *e, SourceConfig *s)
{
        if (strcmp(e->key, "type") == 0) {
                if (strcmp(e->value, "csv") == 0)
                        s->type = SOURCE_CSV;
                else if (strcmp(e->value, "postgres") == 0)
                        s->type = SOURCE_POSTGRES;
                else {
                        report(p, e->line, e->section, e->key,
                               "unknown source type '%s' (csv, postgres)", e->value);
                        return -EINVAL;
                }
                return 0;
        }
        if (strcmp(e->key, "path") == 0)
                return get_string(p, e, &s->path);
        if (strcmp(e->key, "columns") == 0) {
                if (s->columns) {
                        report(p, e->line, e->section, e->key, "given twice");
                        return -EINVAL;
                }
                return parse_columns(p, e, s);
        }
        if (strcmp(e->key, "max_bad_ratio") == 0)
                return get_ratio(p, e, &s->max_bad_ratio);
        if (strcmp(e->key, "time_reference") == 0) {
                if (strcmp(e->value, "now") == 0)
                        s->window_from_now = true;
                else if (strcmp(e->value, "newest") == 0)
                        s->window_from_now = false;
                else {
                        report(p, e->line, e->section, e->key, "'%s' is neither 'newest' nor 'now'",
                               e->value);
                        return -EINVAL;
                }
                return 0;
        }
        report(p, e->line, e->section, e->key, "unknown key");
        return -EINVAL;
}

static int column_or_report(Parser *p, const Entry *e, const SourceConfig *s, const char *name)
{
        int i = source_column_index(s, name);
        if (i < 0)
                report(p, e->line, e->section, e->key, "source '%s' has no column '%s'", s->name,
                       name);
        return i;
}

static int parse_aggregate(Parser *p, const Entry *e, const SourceConfig *s, char *item,
                           AggregateDef *a)
{
        static const struct {
                const char *name;
                AggKind kind;
                double q;
        } fns[] = {
            {"sum", AGG_SUM, 0},
            {"avg", AGG_AVG, 0},
            {"min", AGG_MIN, 0},
            {"max", AGG_MAX, 0},
            {"p50", AGG_QUANTILE, 0.5},
            {"p90", AGG_QUANTILE, 0.9},
            {"p95", AGG_QUANTILE, 0.95},
            {"p99", AGG_QUANTILE, 0.99},
            {"distinct", AGG_DISTINCT, 0},
            {"approx_p50", AGG_APPROX_QUANTILE, 0.5},
            {"approx_p90", AGG_APPROX_QUANTILE, 0.9},
            {"approx_p95", AGG_APPROX_QUANTILE, 0.95},
            {"approx_p99", AGG_APPROX_QUANTILE, 0.99},
            {"approx_distinct", AGG_APPROX_DISTINCT, 0},
        };
        a->label = strdup(item);
        if (!a->label)
                return -ENOMEM;
        if (strcmp(item, "count") == 0 || strcmp(item, "count()") == 0) {
                a->kind = AGG_COUNT;
                a->column = -1;
                return 0;
        }
        char *open = strchr(item, '('), *close = strrchr(item, ')');
        if (!open || !close || close < open || close[1] != 0) {
                report(p, e->line, e->section, e->key,
                       "'%s' is not an aggregate (count, sum(c), avg(c), min(c), max(c), "
                       "p50/p90/p95/p99(c), distinct(c), approx_p95(c), approx_distinct(c))",
                       item);
                return -EINVAL;
        }
        *open = 0;
        *close = 0;
        char *fn = item, *arg = open + 1;
        size_t fl = strlen(fn);
        while (fl > 0 && fn[fl - 1] == ' ')
                fn[--fl] = 0;
        while (*arg == ' ')
                arg++;
        size_t al = strlen(arg);
        while (al > 0 && arg[al - 1] == ' ')
                arg[--al] = 0;
        for (size_t i = 0; i < ELEMENTSOF(fns); i++) {
                if (strcmp(fn, fns[i].name) != 0)
                        continue;
                int col = column_or_report(p, e, s, arg);
                if (col < 0)
                        return -EINVAL;
                ValueType t = s->columns[col].type;
                bool numeric = t == VALUE_INT || t == VALUE_NUM;
                bool ordered = numeric || t == VALUE_TIME;
                bool needs_numeric = fns[i].kind == AGG_SUM || fns[i].kind == AGG_AVG ||
                                     fns[i].kind == AGG_QUANTILE ||
                                     fns[i].kind == AGG_APPROX_QUANTILE;
                bool needs_ordered = fns[i].kind == AGG_MIN || fns[i].kind == AGG_MAX;
                if ((needs_numeric && !numeric) || (needs_ordered && !ordered)) {
                        report(p, e->line, e->section, e->key, "%s() needs a %s column, '%s' is %s",
                               fn, needs_numeric ? "numeric" : "numeric or time", arg,
                               value_type_to_string(t));
                        return -EINVAL;
                }
                a->kind = fns[i].kind;
                a->q = fns[i].q;
                a->column = col;
                return 0;
        }
        report(p, e->line, e->section, e->key, "unknown aggregate function '%s'", fn);
        return -EINVAL;
}

static int parse_literal(Parser *p, const Entry *e, const SourceConfig *s, int col, char *text,
                         Value *ret)
{
        ValueType t = s->columns[col].type;
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
                report(p, e->line, e->section, e->key, "'%s' is not a valid %s for column '%s'",
                       lit, value_type_to_string(t), s->columns[col].name);
        return r;
}

/* One clause: COLUMN OP LITERAL or COLUMN in (A, B, ...). */
static int parse_clause(Parser *p, const Entry *e, const SourceConfig *s, char *clause,
                        Predicate *pred)
{
        static const struct {
                const char *tok;
                CmpOp op;
        } ops[] = {{"<=", CMP_LE}, {">=", CMP_GE}, {"!=", CMP_NE}, {"==", CMP_EQ},
                   {"=", CMP_EQ},  {"<", CMP_LT},  {">", CMP_GT}};
        char *name = clause;
        size_t nl = strcspn(name, " \t=<>!");
        char *rest = name + nl;
        while (*rest == ' ' || *rest == '\t')
                rest++;
        char saved = name[nl];
        name[nl] = 0;
        int col = column_or_report(p, e, s, name);
        name[nl] = saved;
        if (col < 0)
                return -EINVAL;
        pred->column = col;
        if (strncasecmp(rest, "in", 2) == 0 && (rest[2] == ' ' || rest[2] == '(')) {
                char *open = strchr(rest, '('), *close = strrchr(rest, ')');
                if (!open || !close || close < open || close[1] != 0) {
                        report(p, e->line, e->section, e->key,
                               "'in' needs a parenthesised list: COLUMN in (A, B)");
                        return -EINVAL;
                }
                *close = 0;
                _cleanup_(strv_freep) char **items = NULL;
                int n = split_list(open + 1, ',', &items);
                if (n <= 0 || (n == 1 && !*items[0])) {
                        report(p, e->line, e->section, e->key, "empty or malformed 'in' list");
                        return -EINVAL;
                }
                pred->op = CMP_IN;
                pred->literals = calloc((size_t)n, sizeof(Value));
                if (!pred->literals)
                        return -ENOMEM;
                for (int i = 0; i < n; i++) {
                        int r = parse_literal(p, e, s, col, items[i], &pred->literals[i]);
                        if (r < 0)
                                return r;
                        pred->n_literals++;
                }
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
                size_t tl = strlen(ops[i].tok);
                if (strncmp(rest, ops[i].tok, tl) != 0)
                        continue;
                char *lit = rest + tl;
                while (*lit == ' ' || *lit == '\t')
                        lit++;
                if (!*lit) {
                        report(p, e->line, e->section, e->key, "missing value after '%s'",
                               ops[i].tok);
                        return -EINVAL;
                }
                pred->op = ops[i].op;
                if (s->columns[col].type == VALUE_STR && pred->op != CMP_EQ && pred->op != CMP_NE) {
                        report(p, e->line, e->section, e->key,
                               "'%s' compares a str column: only =, != and in are allowed",
                               ops[i].tok);
                        return -EINVAL;
                }
                pred->literals = calloc(1, sizeof(Value));
                if (!pred->literals)
                        return -ENOMEM;
                int r = parse_literal(p, e, s, col, lit, &pred->literals[0]);
                if (r < 0)
                        return r;
                pred->n_literals = 1;
                return 0;
        }
        report(p, e->line, e->section, e->key,
               "expected an operator (=, !=, <, <=, >, >=, in) after '%s'", name);
        return -EINVAL;
}

/* Splits a where clause on the word "and" (outside quotes and parentheses). */
static int parse_where(Parser *p, const Entry *e, const SourceConfig *s, ViewConfig *v)
{
        _cleanup_free_ char *text = strdup(e->value);
        if (!text)
                return -ENOMEM;
        char *clauses[64];
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
                        if (n == ELEMENTSOF(clauses)) {
                                report(p, e->line, e->section, e->key, "too many clauses");
                                return -EINVAL;
                        }
                        bool end = !*q;
                        *q = 0;
                        clauses[n++] = start;
                        if (end)
                                break;
                        start = q + 3;
                        q += 2;
                }
        }
        if (quote || depth != 0) {
                report(p, e->line, e->section, e->key, "unbalanced quotes or parentheses");
                return -EINVAL;
        }
        v->where = calloc(n, sizeof(Predicate));
        if (!v->where)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char *c = clauses[i];
                while (*c == ' ' || *c == '\t')
                        c++;
                size_t cl = strlen(c);
                while (cl > 0 && (c[cl - 1] == ' ' || c[cl - 1] == '\t'))
                        c[--cl] = 0;
                if (!*c) {
                        report(p, e->line, e->section, e->key, "empty clause");
                        return -EINVAL;
                }
                int r = parse_clause(p, e, s, c, &v->where[i]);
                v->n_where = i + 1; /* so config_free releases what the clause allocated */
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_view_key(Parser *p, const Entry *e, ViewConfig *v, const SourceConfig *s)
{
        if (strcmp(e->key, "source") == 0)
                return 0; /* resolved before the other keys */
        /* A repeated section merges its keys; a second group_by or where would overwrite
         * (and leak) the first. */
        if ((strcmp(e->key, "group_by") == 0 && v->group_by) ||
            (strcmp(e->key, "where") == 0 && v->where)) {
                report(p, e->line, e->section, e->key, "given twice");
                return -EINVAL;
        }
        if (strcmp(e->key, "group_by") == 0) {
                _cleanup_(strv_freep) char **items = NULL;
                int n = split_list(e->value, ',', &items);
                if (n < 0)
                        return n;
                if (n == 1 && !*items[0])
                        n = 0; /* "group_by =" : one global row */
                v->group_by = calloc((size_t)n + 1, sizeof(int));
                if (!v->group_by)
                        return -ENOMEM;
                for (int i = 0; i < n; i++) {
                        int col = column_or_report(p, e, s, items[i]);
                        if (col < 0)
                                return -EINVAL;
                        for (size_t j = 0; j < v->n_group_by; j++)
                                if (v->group_by[j] == col) {
                                        report(p, e->line, e->section, e->key,
                                               "column '%s' listed twice", items[i]);
                                        return -EINVAL;
                                }
                        v->group_by[v->n_group_by++] = col;
                }
                return 0;
        }
        if (strcmp(e->key, "aggregates") == 0) {
                _cleanup_(strv_freep) char **items = NULL;
                int n = split_list(e->value, ',', &items);
                if (n < 0)
                        return n;
                if (n == 0 || (n == 1 && !*items[0])) {
                        report(p, e->line, e->section, e->key, "no aggregates");
                        return -EINVAL;
                }
                v->aggregates = calloc((size_t)n, sizeof(AggregateDef));
                if (!v->aggregates)
                        return -ENOMEM;
                for (int i = 0; i < n; i++) {
                        int r = parse_aggregate(p, e, s, items[i], &v->aggregates[i]);
                        v->n_aggregates = (size_t)i + 1;
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (strcmp(e->key, "where") == 0)
                return parse_where(p, e, s, v);
        if (strcmp(e->key, "window") == 0) {
                _cleanup_free_ char *copy = strdup(e->value);
                if (!copy)
                        return -ENOMEM;
                char *sp = strpbrk(copy, " \t");
                if (!sp) {
                        report(p, e->line, e->section, e->key,
                               "expected 'COLUMN DURATION', e.g. 'ts 24h'");
                        return -EINVAL;
                }
                *sp++ = 0;
                while (*sp == ' ' || *sp == '\t')
                        sp++;
                int col = column_or_report(p, e, s, copy);
                if (col < 0)
                        return -EINVAL;
                if (s->columns[col].type != VALUE_TIME) {
                        report(p, e->line, e->section, e->key,
                               "window column '%s' must be of type time", copy);
                        return -EINVAL;
                }
                if (parse_duration_usec(sp, &v->window_usec) < 0 || v->window_usec == 0) {
                        report(p, e->line, e->section, e->key, "'%s' is not a duration", sp);
                        return -EINVAL;
                }
                v->window_column = col;
                return 0;
        }
        report(p, e->line, e->section, e->key, "unknown key");
        return -EINVAL;
}

/* ---- assembling ---- */

static const char *section_kind(const char *section, const char **ret_name)
{
        static const char *const kinds[] = {"source.", "view."};
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (strncmp(section, kinds[i], strlen(kinds[i])) == 0) {
                        *ret_name = section + strlen(kinds[i]);
                        return kinds[i];
                }
        *ret_name = NULL;
        return section;
}

static int add_named_sections(Parser *p)
{
        Config *c = p->config;
        size_t n_src = 0, n_view = 0;
        for (size_t i = 0; i < p->n_entries; i++) {
                const char *name;
                const char *kind = section_kind(p->entries[i].section, &name);
                if (p->entries[i].key)
                        continue;
                if (name) {
                        if (*kind == 's')
                                n_src++;
                        else
                                n_view++;
                }
        }
        c->sources = calloc(n_src + 1, sizeof(SourceConfig));
        c->views = calloc(n_view + 1, sizeof(ViewConfig));
        if (!c->sources || !c->views)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_entries; i++) {
                const Entry *e = &p->entries[i];
                const char *name;
                const char *kind = section_kind(e->section, &name);
                if (e->key)
                        continue;
                if (!name) {
                        if (strcmp(kind, "tally") != 0 && strcmp(kind, "server") != 0 &&
                            strcmp(kind, "worker") != 0 && strcmp(kind, "nats") != 0)
                                report(p, e->line, e->section, NULL,
                                       "unknown section (tally, worker, server, nats, "
                                       "source.NAME, view.NAME)");
                        continue;
                }
                if (!valid_name(name)) {
                        report(p, e->line, e->section, NULL,
                               "bad name '%s' (letters, digits, '_' and '-', at most %d)", name,
                               CONFIG_MAX_NAME);
                        continue;
                }
                bool dup = *kind == 's' ? config_find_source(c, name) != NULL
                                        : config_find_view(c, name) != NULL;
                if (dup) {
                        report(p, e->line, e->section, NULL, "defined twice");
                        continue;
                }
                if (*kind == 's') {
                        SourceConfig *s = &c->sources[c->n_sources++];
                        s->name = strdup(name);
                        s->line = e->line;
                        s->max_bad_ratio = -1; /* inherit [worker] max_bad_ratio */
                        if (!s->name)
                                return -ENOMEM;
                } else {
                        ViewConfig *v = &c->views[c->n_views++];
                        v->name = strdup(name);
                        v->line = e->line;
                        v->window_column = -1;
                        if (!v->name)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int parse_entries(Parser *p)
{
        Config *c = p->config;
        int r = add_named_sections(p);
        if (r < 0)
                return r;
        /* Sources first: views refer to their columns. */
        for (size_t i = 0; i < p->n_entries; i++) {
                const Entry *e = &p->entries[i];
                const char *name;
                const char *kind = section_kind(e->section, &name);
                if (!e->key)
                        continue;
                if (!name) {
                        if (strcmp(kind, "tally") == 0)
                                r = parse_tally_key(p, e);
                        else if (strcmp(kind, "server") == 0)
                                r = parse_server_key(p, e);
                        else if (strcmp(kind, "worker") == 0)
                                r = parse_worker_key(p, e);
                        else if (strcmp(kind, "nats") == 0)
                                r = parse_nats_key(p, e);
                } else if (*kind == 's') {
                        SourceConfig *s = (SourceConfig *)config_find_source(c, name);
                        if (s)
                                r = parse_source_key(p, e, s);
                }
                if (r == -ENOMEM)
                        return r;
        }
        for (size_t i = 0; i < c->n_sources; i++) {
                SourceConfig *s = &c->sources[i];
                if (!s->columns)
                        report(p, s->line, "source", s->name, "no 'columns' given");
                if (s->type == SOURCE_CSV && !s->path)
                        report(p, s->line, "source", s->name, "no 'path' given");
                if (s->max_bad_ratio < 0)
                        s->max_bad_ratio = c->worker.max_bad_ratio;
        }
        for (size_t vi = 0; vi < c->n_views; vi++) {
                ViewConfig *v = &c->views[vi];
                const SourceConfig *s = NULL;
                const Entry *source_entry = NULL;
                char section[CONFIG_MAX_NAME + 8];
                snprintf(section, sizeof(section), "view.%s", v->name);
                for (size_t i = 0; i < p->n_entries; i++)
                        if (p->entries[i].key && strcmp(p->entries[i].section, section) == 0 &&
                            strcmp(p->entries[i].key, "source") == 0)
                                source_entry = &p->entries[i];
                if (!source_entry) {
                        report(p, v->line, section, NULL, "no 'source' given");
                        continue;
                }
                s = config_find_source(c, source_entry->value);
                if (!s) {
                        report(p, source_entry->line, section, "source", "unknown source '%s'",
                               source_entry->value);
                        continue;
                }
                if (!s->columns)
                        continue; /* already reported */
                v->source = (size_t)(s - c->sources);
                bool have_aggs = false;
                for (size_t i = 0; i < p->n_entries; i++) {
                        const Entry *e = &p->entries[i];
                        if (!e->key || strcmp(e->section, section) != 0)
                                continue;
                        if (strcmp(e->key, "aggregates") == 0 && have_aggs) {
                                report(p, e->line, e->section, e->key, "given twice");
                                continue;
                        }
                        have_aggs |= strcmp(e->key, "aggregates") == 0;
                        r = parse_view_key(p, e, v, s);
                        if (r == -ENOMEM)
                                return r;
                }
                if (!have_aggs)
                        report(p, v->line, section, NULL, "no 'aggregates' given");
        }
        char reason[256] = "";
        r = nats_config_finish(&c->nats, reason, sizeof(reason));
        if (r == -EINVAL)
                report(p, c->nats.line, "nats", NULL, "%s", reason);
        else if (r < 0)
                return r;
        if (c->n_views == 0 && p->errors == 0)
                log_debug("%s: no views defined", p->path);
        return 0;
}

/* Relative paths in a config file mean "next to the config file", so an example directory
 * works wherever it is checked out. */
static int resolve_relative(const char *config_path, char **path)
{
        if (!*path || (*path)[0] == '/')
                return 0;
        const char *slash = strrchr(config_path, '/');
        if (!slash)
                return 0;
        size_t dl = (size_t)(slash - config_path);
        size_t len = dl + 1 + strlen(*path) + 1;
        char *joined = malloc(len);
        if (!joined)
                return -ENOMEM;
        snprintf(joined, len, "%.*s/%s", (int)dl, config_path, *path);
        free(*path);
        *path = joined;
        return 0;
}

static void config_defaults(Config *c)
{
        c->keep = 5;
        c->max_snapshot_bytes = UINT64_C(256) << 20;
        c->server.max_age_usec = 600 * USEC_PER_SEC;
        c->server.poll_interval_usec = 30 * USEC_PER_SEC;
        c->server.workers = 1;
        c->server.max_connections = 4096;
        c->server.max_header_bytes = 8192;
        c->server.timeout_usec = 30 * USEC_PER_SEC;
        c->server.spawn_interval_usec = 120 * USEC_PER_SEC;
        c->worker.max_bad_ratio = 0.01;
}

int config_parse(const char *path, const char *text, Config **ret)
{
        Parser p = {.path = path};
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        if (!c)
                return -ENOMEM;
        config_defaults(c);
        p.config = c;
        c->path = strdup(path);
        int r = c->path ? ini_parse_string(text, collect, ini_error, &p) : -ENOMEM;
        if (r >= 0)
                r = parse_entries(&p);
        if (r >= 0) {
                if (!c->snapshot_dir)
                        c->snapshot_dir = strdup("/var/lib/tally/snapshots");
                if (!c->server.listen)
                        c->server.listen = strdup("127.0.0.1:8080");
                if (!c->snapshot_dir || !c->server.listen)
                        r = -ENOMEM;
                if (r >= 0)
                        r = resolve_relative(path, &c->snapshot_dir);
                for (size_t i = 0; r >= 0 && i < c->n_sources; i++)
                        r = resolve_relative(path, &c->sources[i].path);
                char **nats_paths[] = {&c->nats.credentials, &c->nats.tls_ca, &c->nats.tls_cert,
                                       &c->nats.tls_key};
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(nats_paths); i++)
                        r = resolve_relative(path, nats_paths[i]);
        }
        for (size_t i = 0; i < p.n_entries; i++) {
                free(p.entries[i].section);
                free(p.entries[i].key);
                free(p.entries[i].value);
        }
        free(p.entries);
        if (r == -ENOMEM)
                return log_error_errno(r, "%s: out of memory", path);
        if (r < 0 || p.errors > 0)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, Config **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "%s: cannot open configuration: %m", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "%s: cannot stat: %m", path);
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "%s: not a regular file", path);
        if (st.st_size > CONFIG_MAX_FILE_BYTES)
                return log_error_errno(EFBIG, "%s: larger than %u bytes", path,
                                       CONFIG_MAX_FILE_BYTES);
        _cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
        if (!text)
                return -ENOMEM;
        size_t got = 0;
        while (got < (size_t)st.st_size) {
                ssize_t k = read(fd, text + got, (size_t)st.st_size - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return log_error_errno(errno, "%s: read error: %m", path);
                if (k == 0)
                        break;
                got += (size_t)k;
        }
        text[got] = 0;
        if (strlen(text) != got)
                return log_error_errno(EINVAL, "%s: contains a NUL byte", path);
        return config_parse(path, text, ret);
}

static void predicate_done(Predicate *pr)
{
        for (size_t i = 0; i < pr->n_literals; i++)
                if (pr->literals[i].type == VALUE_STR)
                        free((char *)pr->literals[i].s);
        free(pr->literals);
}

Config *config_free(Config *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_sources; i++) {
                SourceConfig *s = &c->sources[i];
                for (size_t j = 0; j < s->n_columns; j++)
                        free(s->columns[j].name);
                free(s->columns);
                free(s->name);
                free(s->path);
        }
        for (size_t i = 0; i < c->n_views; i++) {
                ViewConfig *v = &c->views[i];
                for (size_t j = 0; j < v->n_aggregates; j++)
                        free(v->aggregates[j].label);
                for (size_t j = 0; j < v->n_where; j++)
                        predicate_done(&v->where[j]);
                free(v->aggregates);
                free(v->where);
                free(v->group_by);
                free(v->name);
        }
        free(c->sources);
        free(c->views);
        free(c->snapshot_dir);
        free(c->server.listen);
        nats_config_done(&c->nats);
        free(c->path);
        free(c);
        return NULL;
}
