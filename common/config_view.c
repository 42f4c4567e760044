/* [view.NAME]: which rows of a source (where, window), grouped how (group_by), reduced to
 * what (aggregates). */
#include "config_parser.h"

#include "strv.h"

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

static const SourceConfig *view_source(const ConfigParser *p, const ViewConfig *v)
{
        return &p->config->sources[v->source];
}

static int column_or_report(ConfigParser *p, const ConfigEntry *e, const SourceConfig *s,
                            const char *name)
{
        int i = source_column_index(s, name);
        if (i < 0)
                config_report_entry(p, e, "source '%s' has no column '%s'", s->name, name);
        return i;
}

static int split_or_report(ConfigParser *p, const ConfigEntry *e, char ***ret)
{
        int n = strv_split_quoted(e->value, ',', ret);
        if (n == -EINVAL)
                config_report_entry(p, e, "unbalanced quotes");
        return n;
}

/* Splits s on commas outside quotes and parentheses into trimmed items, each exactly as
 * written: "region, bucket(ts, 5m)" is two items. Returns the count, -EINVAL on unbalanced
 * quotes or parentheses, -ENOMEM. */
static int split_items(const char *s, char ***ret)
{
        _cleanup_(strv_freep) char **v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        int n = 0, depth = 0;
        char quote = 0;
        for (const char *start = s, *q = s;; q++) {
                if (quote) {
                        if (!*q)
                                return -EINVAL;
                        if (*q == quote)
                                quote = 0;
                        continue;
                }
                if (*q == '\'' || *q == '"')
                        quote = *q;
                else if (*q == '(')
                        depth++;
                else if (*q == ')' && --depth < 0)
                        return -EINVAL;
                if (*q && (*q != ',' || depth > 0))
                        continue;
                char **nv = realloc(v, ((size_t)n + 2) * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                if (!(v[n] = strdup_trim(start, (size_t)(q - start))))
                        return -ENOMEM;
                v[++n] = NULL;
                if (!*q)
                        break;
                start = q + 1;
        }
        if (depth != 0)
                return -EINVAL;
        *ret = TAKE_PTR(v);
        return n;
}

static char *trim_inplace(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
                s[--l] = 0;
        return s;
}

/* "bucket(COLUMN, DURATION)" or "month(COLUMN)": the column, the bucket width (0 when item
 * is a plain column name) */
static int parse_group_item(ConfigParser *p, const ConfigEntry *e, const SourceConfig *s,
                            const char *item, int *ret_col, uint64_t *ret_width)
{
        const char *open = strchr(item, '(');
        if (!open) {
                *ret_width = 0;
                return (*ret_col = column_or_report(p, e, s, item)) < 0 ? -EINVAL : 0;
        }
        _cleanup_free_ char *copy = strdup(item);
        if (!copy)
                return -ENOMEM;
        char *fn = copy, *arg = copy + (open - item) + 1, *close = strrchr(copy, ')');
        arg[-1] = 0;
        if (!close || close < arg || close[1]) {
                config_report_entry(p, e,
                                    "'%s' is not a column, bucket(COLUMN, DURATION) or "
                                    "month(COLUMN)",
                                    item);
                return -EINVAL;
        }
        *close = 0;
        fn = trim_inplace(fn);
        bool bucket = strcmp(fn, "bucket") == 0;
        if (!bucket && strcmp(fn, "month") != 0) {
                config_report_entry(p, e, "unknown group_by function '%s' (bucket, month)", fn);
                return -EINVAL;
        }
        char *width = NULL, *comma = strchr(arg, ',');
        if (bucket != (comma != NULL)) {
                config_report_entry(p, e,
                                    bucket ? "bucket() needs a column and a width, e.g. "
                                             "bucket(ts, 5m)"
                                           : "month() takes one column, e.g. month(ts)");
                return -EINVAL;
        }
        if (comma) {
                *comma = 0;
                width = trim_inplace(comma + 1);
        }
        arg = trim_inplace(arg);
        int col = column_or_report(p, e, s, arg);
        if (col < 0)
                return -EINVAL;
        if (s->columns[col].type != VALUE_TIME) {
                config_report_entry(p, e, "%s() needs a time column, '%s' is %s", fn, arg,
                                    value_type_to_string(s->columns[col].type));
                return -EINVAL;
        }
        *ret_width = BUCKET_MONTH;
        if (bucket && (parse_duration_usec(width, ret_width) < 0 || *ret_width < USEC_PER_SEC ||
                       *ret_width > 7 * 24 * 3600 * USEC_PER_SEC)) {
                config_report_entry(p, e, "bucket width '%s' is not a duration from 1s to 7d",
                                    width);
                return -EINVAL;
        }
        *ret_col = col;
        return 0;
}

static int parse_group_by(ConfigParser *p, const ConfigEntry *e, void *object)
{
        ViewConfig *v = object;
        const SourceConfig *s = view_source(p, v);
        _cleanup_(strv_freep) char **items = NULL;
        int n = split_items(e->value, &items);
        if (n == -EINVAL)
                config_report_entry(p, e, "unbalanced quotes or parentheses");
        if (n < 0)
                return n;
        if (n == 1 && !*items[0])
                n = 0; /* "group_by =" : one global row */
        v->group_by = calloc((size_t)n + 1, sizeof(int));
        v->bucket_usec = calloc((size_t)n + 1, sizeof(uint64_t));
        if (!v->group_by || !v->bucket_usec)
                return -ENOMEM;
        if (n > 0) /* top reads the labels of the items parsed, even past a mistake */
                v->group_labels = TAKE_PTR(items);
        bool buckets = false;
        for (int i = 0; i < n; i++) {
                const char *item = v->group_labels[i];
                int col;
                uint64_t width;
                int r = parse_group_item(p, e, s, item, &col, &width);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < v->n_group_by; j++)
                        if (v->group_by[j] == col && v->bucket_usec[j] == width) {
                                config_report_entry(p, e, "'%s' listed twice", item);
                                return -EINVAL;
                        }
                v->group_by[v->n_group_by] = col;
                v->bucket_usec[v->n_group_by++] = width;
                buckets |= width != 0;
        }
        if (!buckets) {
                free(v->bucket_usec);
                v->bucket_usec = NULL;
        }
        return 0;
}

static const struct {
        const char *name;
        AggKind kind;
        double q;
} agg_functions[] = {
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

/* Whether fn(column) is defined for the column's type; reports it when not. */
static bool argument_fits(ConfigParser *p, const ConfigEntry *e, AggKind kind, const char *fn,
                          const char *arg, ValueType t)
{
        bool numeric = t == VALUE_INT || t == VALUE_NUM;
        bool ordered = numeric || t == VALUE_TIME;
        bool needs_numeric = kind == AGG_SUM || kind == AGG_AVG || kind == AGG_QUANTILE ||
                             kind == AGG_APPROX_QUANTILE;
        bool needs_ordered = kind == AGG_MIN || kind == AGG_MAX;
        if ((needs_numeric && !numeric) || (needs_ordered && !ordered)) {
                config_report_entry(p, e, "%s() needs a %s column, '%s' is %s", fn,
                                    needs_numeric ? "numeric" : "numeric or time", arg,
                                    value_type_to_string(t));
                return false;
        }
        return true;
}

static int parse_aggregate(ConfigParser *p, const ConfigEntry *e, const SourceConfig *s, char *item,
                           AggregateDef *a)
{
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
                config_report_entry(
                    p, e,
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
        for (size_t i = 0; i < ELEMENTSOF(agg_functions); i++) {
                if (strcmp(fn, agg_functions[i].name) != 0)
                        continue;
                int col = column_or_report(p, e, s, arg);
                if (col < 0 ||
                    !argument_fits(p, e, agg_functions[i].kind, fn, arg, s->columns[col].type))
                        return -EINVAL;
                a->kind = agg_functions[i].kind;
                a->q = agg_functions[i].q;
                a->column = col;
                return 0;
        }
        config_report_entry(p, e, "unknown aggregate function '%s'", fn);
        return -EINVAL;
}

static int parse_aggregates(ConfigParser *p, const ConfigEntry *e, void *object)
{
        ViewConfig *v = object;
        _cleanup_(strv_freep) char **items = NULL;
        int n = split_or_report(p, e, &items);
        if (n < 0)
                return n;
        if (n == 0 || (n == 1 && !*items[0])) {
                config_report_entry(p, e, "no aggregates");
                return -EINVAL;
        }
        v->aggregates = calloc((size_t)n, sizeof(AggregateDef));
        if (!v->aggregates)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                int r = parse_aggregate(p, e, view_source(p, v), items[i], &v->aggregates[i]);
                v->n_aggregates = (size_t)i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_where(ConfigParser *p, const ConfigEntry *e, void *object)
{
        ViewConfig *v = object;
        const SourceConfig *s = view_source(p, v);
        char reason[256];
        int r = where_parse(e->value, s->name, s->columns, s->n_columns, &v->where, &v->n_where,
                            reason, sizeof(reason));
        if (r == -EINVAL)
                config_report_entry(p, e, "%s", reason);
        return r;
}

/* "COLUMN DURATION": only rows whose time column lies within DURATION of the end. */
static int parse_window(ConfigParser *p, const ConfigEntry *e, void *object)
{
        ViewConfig *v = object;
        const SourceConfig *s = view_source(p, v);
        _cleanup_free_ char *copy = strdup(e->value);
        if (!copy)
                return -ENOMEM;
        char *sp = strpbrk(copy, " \t");
        if (!sp) {
                config_report_entry(p, e, "expected 'COLUMN DURATION', e.g. 'ts 24h'");
                return -EINVAL;
        }
        *sp++ = 0;
        while (*sp == ' ' || *sp == '\t')
                sp++;
        int col = column_or_report(p, e, s, copy);
        if (col < 0)
                return -EINVAL;
        if (s->columns[col].type != VALUE_TIME) {
                config_report_entry(p, e, "window column '%s' must be of type time", copy);
                return -EINVAL;
        }
        if (parse_duration_usec(sp, &v->window_usec) < 0 || v->window_usec == 0) {
                config_report_entry(p, e, "'%s' is not a duration", sp);
                return -EINVAL;
        }
        v->window_column = col;
        return 0;
}

ValueType agg_output_type(AggKind k, ValueType column)
{
        switch (k) {
        case AGG_COUNT:
        case AGG_DISTINCT:
        case AGG_APPROX_DISTINCT: return VALUE_INT;
        case AGG_SUM: return column == VALUE_INT ? VALUE_INT : VALUE_NUM;
        case AGG_MIN:
        case AGG_MAX: return column;
        default: return VALUE_NUM;
        }
}

/* The aggregate labelled name, or -1. */
static int aggregate_index(const ViewConfig *v, const char *name)
{
        for (size_t i = 0; i < v->n_aggregates; i++)
                if (strcmp(v->aggregates[i].label, name) == 0)
                        return (int)i;
        return -1;
}

typedef struct HavingNames {
        const ViewConfig *view;
        const SourceConfig *source;
} HavingNames;

/* A having clause names an aggregate exactly as `aggregates` writes it; its literals take
 * the aggregate's output type. */
static int resolve_aggregate(void *userdata, const char *name, int *ret_index, ValueType *ret_type,
                             char *reason, size_t reason_size)
{
        const HavingNames *h = userdata;
        int i = aggregate_index(h->view, name);
        if (i < 0) {
                snprintf(reason, reason_size,
                         "'%s' is not one of the view's aggregates (name it exactly as in "
                         "'aggregates')",
                         name);
                return -EINVAL;
        }
        const AggregateDef *a = &h->view->aggregates[i];
        *ret_index = i;
        *ret_type = agg_output_type(a->kind, a->column >= 0 ? h->source->columns[a->column].type
                                                            : VALUE_INT);
        return 0;
}

static int parse_having(ConfigParser *p, const ConfigEntry *e, ViewConfig *v)
{
        HavingNames h = {v, view_source(p, v)};
        char reason[256];
        int r = where_parse_names(e->value, resolve_aggregate, &h, &v->having, &v->n_having, reason,
                                  sizeof(reason));
        if (r == -EINVAL)
                config_report_entry(p, e, "%s", reason);
        return r;
}

/* The next blank-separated word of *s (advanced past it), or NULL at the end. */
static char *next_word(char **s)
{
        char *w = *s + strspn(*s, " \t");
        if (!*w)
                return NULL;
        char *end = w + strcspn(w, " \t");
        if (*end)
                *end++ = 0;
        *s = end;
        return w;
}

/* "N by AGG [asc|desc] [per ITEM, ...]" */
static int parse_top(ConfigParser *p, const ConfigEntry *e, ViewConfig *v)
{
        static const char syntax[] =
            "expected 'N by AGGREGATE [asc|desc] [per GROUP_BY_ITEM, ...]'";
        _cleanup_free_ char *copy = strdup(e->value);
        if (!copy)
                return -ENOMEM;
        char *rest = copy, *n = next_word(&rest), *by = next_word(&rest);
        uint64_t top;
        if (!n || parse_uint(n, 1, TOP_MAX, &top) < 0) {
                config_report_entry(p, e, "'%s' is not a row count from 1 to %d; %s", n ? n : "",
                                    TOP_MAX, syntax);
                return -EINVAL;
        }
        if (!by || strcmp(by, "by") != 0) {
                config_report_entry(p, e, "%s", syntax);
                return -EINVAL;
        }
        /* the aggregate runs to the first asc, desc or per outside parentheses */
        char *agg = rest + strspn(rest, " \t"), *q = agg;
        for (int depth = 0; *q; q++) {
                depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
                if (depth != 0 || (*q != ' ' && *q != '\t'))
                        continue;
                char *w = q + strspn(q, " \t");
                size_t wl = strcspn(w, " \t");
                if ((wl == 3 && strncmp(w, "asc", 3) == 0) ||
                    (wl == 4 && strncmp(w, "desc", 4) == 0) ||
                    (wl == 3 && strncmp(w, "per", 3) == 0))
                        break;
        }
        rest = *q ? q + 1 : q;
        *q = 0;
        agg = trim_inplace(agg);
        int a = aggregate_index(v, agg);
        if (!*agg) {
                config_report_entry(p, e, "%s", syntax);
                return -EINVAL;
        }
        if (a < 0) {
                config_report_entry(p, e,
                                    "'%s' is not one of the view's aggregates (name it exactly as "
                                    "in 'aggregates')",
                                    agg);
                return -EINVAL;
        }
        char *w = next_word(&rest);
        v->top_asc = false;
        if (w && (strcmp(w, "asc") == 0 || strcmp(w, "desc") == 0)) {
                v->top_asc = w[0] == 'a';
                w = next_word(&rest);
        }
        v->top_per = 0;
        if (w && strcmp(w, "per") == 0) {
                _cleanup_(strv_freep) char **items = NULL;
                int k = split_items(rest, &items);
                if (k == -ENOMEM)
                        return k;
                if (k < 0 || (k == 1 && !*items[0])) {
                        config_report_entry(p, e,
                                            "'per' needs leading group_by items, e.g. "
                                            "'per region'");
                        return -EINVAL;
                }
                for (int i = 0; i < k; i++)
                        if ((size_t)i >= v->n_group_by ||
                            strcmp(items[i], v->group_labels[i]) != 0) {
                                config_report_entry(p, e,
                                                    "'per' must name the leading group_by items "
                                                    "in order; '%s' is not item %d of group_by",
                                                    items[i], i + 1);
                                return -EINVAL;
                        }
                if ((size_t)k == v->n_group_by) {
                        config_report_entry(p, e,
                                            "'per' names every group_by item: each partition would "
                                            "be one row");
                        return -EINVAL;
                }
                v->top_per = (size_t)k;
        } else if (w) {
                config_report_entry(p, e, "unexpected '%s'; %s", w, syntax);
                return -EINVAL;
        }
        for (size_t i = 0; i < v->n_group_by; i++)
                if (strcmp(v->group_labels[i], "rank") == 0) {
                        config_report_entry(p, e,
                                            "a top view adds a column 'rank', and group_by "
                                            "already has one");
                        return -EINVAL;
                }
        v->top_n = (uint32_t)top;
        v->top_by = (size_t)a;
        return 0;
}

/* having and top name aggregates and group_by items, which may come later in the section:
 * they are read once all keys are. */
static int view_finish_outputs(ConfigParser *p, ConfigObject *o)
{
        ViewConfig *v = o->data;
        const ConfigEntry *having = config_last_key(p, o, "having");
        const ConfigEntry *top = config_last_key(p, o, "top");
        int r = having ? parse_having(p, having, v) : 0;
        if (r == -ENOMEM)
                return r;
        r = top ? parse_top(p, top, v) : 0;
        return r == -ENOMEM ? r : 0;
}

/* A repeated section merges its keys; a second group_by, aggregates or where is a mistake
 * rather than a silent override. */
static const ConfigKey view_keys[] = {
    {.name = "source", .kind = CONFIG_KIND_IGNORED}, /* resolved by view_prepare */
    CONFIG_KEY_FUNC("group_by", parse_group_by, .once = true),
    CONFIG_KEY_FUNC("aggregates", parse_aggregates, .once = true),
    CONFIG_KEY_FUNC("where", parse_where, .once = true),
    CONFIG_KEY_FUNC("window", parse_window),
    {.name = "having", .kind = CONFIG_KIND_IGNORED, .once = true}, /* view_finish_outputs */
    {.name = "top", .kind = CONFIG_KIND_IGNORED, .once = true},    /* view_finish_outputs */
};

static void view_done(void *object)
{
        ViewConfig *v = object;
        config_free_string_keys(&config_view_section, v);
        for (size_t j = 0; j < v->n_aggregates; j++)
                free(v->aggregates[j].label);
        where_free(v->where, v->n_where);
        where_free(v->having, v->n_having);
        strv_free(v->group_labels);
        free(v->bucket_usec);
        free(v->aggregates);
        free(v->group_by);
        free(v->name);
}

static int view_reserve(Config *c, size_t n)
{
        c->views = calloc(n + 1, sizeof(ViewConfig));
        return c->views ? 0 : -ENOMEM;
}

static void *view_add(Config *c, const char *name, unsigned line)
{
        ViewConfig *v = &c->views[c->n_views];
        *v = (ViewConfig){.line = line, .window_column = -1};
        if (!(v->name = strdup(name)))
                return NULL;
        c->n_views++;
        return v;
}

/* Every other key needs the source's columns: resolve it first. */
static int view_prepare(ConfigParser *p, ConfigObject *o)
{
        ViewConfig *v = o->data;
        const ConfigEntry *e = config_last_key(p, o, "source");
        if (!e) {
                config_report(p, v->line, o->section, NULL, "no 'source' given");
                return 1;
        }
        const SourceConfig *s = config_find_source(p->config, e->value);
        if (!s) {
                config_report_entry(p, e, "unknown source '%s'", e->value);
                return 1;
        }
        if (!s->columns)
                return 1; /* already reported */
        v->source = (size_t)(s - p->config->sources);
        return 0;
}

static int view_finish(ConfigParser *p, ConfigObject *o)
{
        ViewConfig *v = o->data;
        if (!config_key_seen(o, "aggregates"))
                config_report(p, v->line, o->section, NULL, "no 'aggregates' given");
        return view_finish_outputs(p, o);
}

const ConfigSection config_view_section = {
    .name = "view.",
    .named = true,
    .keys = view_keys,
    .n_keys = ELEMENTSOF(view_keys),
    .reserve = view_reserve,
    .add = view_add,
    .prepare = view_prepare,
    .finish = view_finish,
    .done = view_done,
};
