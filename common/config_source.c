/* [source.NAME]: where rows come from and what their columns are. */
#include "config_parser.h"

#include "strv.h"

int source_column_index(const SourceConfig *s, const char *name)
{
        for (size_t i = 0; i < s->n_columns; i++)
                if (strcmp(s->columns[i].name, name) == 0)
                        return (int)i;
        return -1;
}

/* One "NAME:TYPE" item of columns. */
static int parse_column(ConfigParser *p, const ConfigEntry *e, SourceConfig *s, char *item)
{
        char *colon = strchr(item, ':');
        ValueType t;
        if (!colon) {
                config_report_entry(p, e, "column '%s' needs a type (NAME:str|int|num|time)", item);
                return -EINVAL;
        }
        *colon = 0;
        char *name = item, *type = colon + 1;
        while (*type == ' ')
                type++;
        size_t nl = strlen(name);
        while (nl > 0 && name[nl - 1] == ' ')
                name[--nl] = 0;
        if (!config_valid_name(name)) {
                config_report_entry(p, e, "bad column name '%s'", name);
                return -EINVAL;
        }
        if (value_type_from_string(type, &t) < 0) {
                config_report_entry(p, e, "column '%s': unknown type '%s' (str, int, num, time)",
                                    name, type);
                return -EINVAL;
        }
        if (source_column_index(s, name) >= 0) {
                config_report_entry(p, e, "column '%s' declared twice", name);
                return -EINVAL;
        }
        ColumnDef *c = &s->columns[s->n_columns];
        if (!(c->name = strdup(name)))
                return -ENOMEM;
        c->type = t;
        s->n_columns++;
        return 0;
}

static int parse_columns(ConfigParser *p, const ConfigEntry *e, void *object)
{
        SourceConfig *s = object;
        _cleanup_(strv_freep) char **items = NULL;
        int n = strv_split_quoted(e->value, ',', &items);
        if (n == -EINVAL)
                config_report_entry(p, e, "unbalanced quotes");
        if (n < 0)
                return n;
        if (n > CONFIG_MAX_COLUMNS) {
                config_report_entry(p, e, "more than %d columns", CONFIG_MAX_COLUMNS);
                return -EINVAL;
        }
        s->columns = calloc((size_t)n, sizeof(ColumnDef));
        if (!s->columns)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                int r = parse_column(p, e, s, items[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_type(ConfigParser *p, const ConfigEntry *e, void *object)
{
        SourceConfig *s = object;
        if (strcmp(e->value, "csv") == 0)
                s->type = SOURCE_CSV;
        else if (strcmp(e->value, "postgres") == 0)
                s->type = SOURCE_POSTGRES;
        else {
                config_report_entry(p, e, "unknown source type '%s' (csv, postgres)", e->value);
                return -EINVAL;
        }
        return 0;
}

static int parse_time_reference(ConfigParser *p, const ConfigEntry *e, void *object)
{
        SourceConfig *s = object;
        if (strcmp(e->value, "now") == 0)
                s->window_from_now = true;
        else if (strcmp(e->value, "newest") == 0)
                s->window_from_now = false;
        else {
                config_report_entry(p, e, "'%s' is neither 'newest' nor 'now'", e->value);
                return -EINVAL;
        }
        return 0;
}

static const ConfigKey source_keys[] = {
    CONFIG_KEY_FUNC("type", parse_type),
    CONFIG_KEY("path", STRING, SourceConfig, path),
    CONFIG_KEY_FUNC("columns", parse_columns, .once = true),
    CONFIG_KEY("max_bad_ratio", RATIO, SourceConfig, max_bad_ratio),
    CONFIG_KEY_FUNC("time_reference", parse_time_reference),
};

static void source_done(void *object)
{
        SourceConfig *s = object;
        config_free_string_keys(&config_source_section, s);
        for (size_t j = 0; j < s->n_columns; j++)
                free(s->columns[j].name);
        free(s->columns);
        free(s->name);
}

static int source_reserve(Config *c, size_t n)
{
        c->sources = calloc(n + 1, sizeof(SourceConfig));
        return c->sources ? 0 : -ENOMEM;
}

static void *source_add(Config *c, const char *name, unsigned line)
{
        SourceConfig *s = &c->sources[c->n_sources];
        *s = (SourceConfig){.line = line, .max_bad_ratio = -1 /* inherit [worker]'s */};
        if (!(s->name = strdup(name)))
                return NULL;
        c->n_sources++;
        return s;
}

static int source_finish(ConfigParser *p, ConfigObject *o)
{
        SourceConfig *s = o->data;
        if (!s->columns)
                config_report(p, s->line, "source", s->name, "no 'columns' given");
        if (s->type == SOURCE_CSV && !s->path)
                config_report(p, s->line, "source", s->name, "no 'path' given");
        if (s->max_bad_ratio < 0)
                s->max_bad_ratio = p->config->worker.max_bad_ratio;
        return config_resolve_relative(p, &s->path);
}

const ConfigSection config_source_section = {
    .name = "source.",
    .named = true,
    .keys = source_keys,
    .n_keys = ELEMENTSOF(source_keys),
    .reserve = source_reserve,
    .add = source_add,
    .finish = source_finish,
    .done = source_done,
};
