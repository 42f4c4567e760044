/* A view's having and top keys: they name aggregates and group_by items, which may come
 * later in the section, so they are read once all keys are (config_parser.h). */
#include "config_parser.h"

#include "strv.h"

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
        HavingNames h = {v, config_view_source(p, v)};
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
        agg = config_trim_inplace(agg);
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
                int k = config_split_items(rest, &items);
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

int config_view_finish_outputs(ConfigParser *p, ConfigObject *o)
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
