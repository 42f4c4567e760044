/* tally.conf parser: any text either parses into a config whose cross-references hold,
 * or is rejected; never a crash, a leak or an out-of-bounds index. */
#include <string.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        return 0; /* the parser does not log: its errors come back as a list */
}

static void check_config(const Config *c)
{
        FUZZ_ASSERT(c->snapshot_dir);
        for (size_t i = 0; i < c->n_sources; i++) {
                const SourceConfig *s = &c->sources[i];
                FUZZ_ASSERT(s->name && s->n_columns <= CONFIG_MAX_COLUMNS);
                FUZZ_ASSERT(config_find_source(c, s->name) == s);
                for (size_t j = 0; j < s->n_columns; j++)
                        FUZZ_ASSERT(source_column_index(s, s->columns[j].name) == (int)j);
        }
        for (size_t i = 0; i < c->n_views; i++) {
                const ViewConfig *v = &c->views[i];
                FUZZ_ASSERT(v->name && config_find_view(c, v->name) == v);
                FUZZ_ASSERT(v->source < c->n_sources);
                const SourceConfig *s = &c->sources[v->source];
                for (size_t j = 0; j < v->n_group_by; j++)
                        FUZZ_ASSERT(v->group_by[j] >= 0 && (size_t)v->group_by[j] < s->n_columns);
                for (size_t j = 0; j < v->n_aggregates; j++) {
                        const AggregateDef *a = &v->aggregates[j];
                        FUZZ_ASSERT(a->kind < _AGG_KIND_MAX && a->label);
                        FUZZ_ASSERT(agg_kind_to_string(a->kind));
                        FUZZ_ASSERT(a->column >= -1 && a->column < (int)s->n_columns);
                }
                for (size_t j = 0; j < v->n_where; j++) {
                        const Predicate *p = &v->where[j];
                        FUZZ_ASSERT(p->column >= 0 && (size_t)p->column < s->n_columns);
                        FUZZ_ASSERT(p->n_literals >= 1);
                        for (size_t k = 0; k < p->n_literals; k++)
                                if (p->literals[k].type == VALUE_STR)
                                        FUZZ_ASSERT(strlen(p->literals[k].s) == p->literals[k].len);
                }
                FUZZ_ASSERT(v->window_column >= -1 && v->window_column < (int)s->n_columns);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        Config *c = NULL;
        ConfigErrors *errors = NULL;
        int r = config_parse("fuzz.conf", text, &c, &errors);
        FUZZ_ASSERT(r <= 0 || (!c && errors && errors->n > 0));
        FUZZ_ASSERT(r != 0 || (c && !errors));
        for (size_t i = 0; errors && i < errors->n; i++) {
                char line[1024];
                FUZZ_ASSERT(errors->items[i].reason && errors->items[i].file);
                FUZZ_ASSERT(i == 0 || errors->items[i - 1].line <= errors->items[i].line);
                config_error_format(&errors->items[i], line, sizeof(line));
        }
        config_errors_free(errors);
        if (r == 0) {
                FUZZ_ASSERT(c);
                check_config(c);
                if (fuzz_verbose())
                        fprintf(stderr, "accepted: %zu sources, %zu views\n", c->n_sources,
                                c->n_views);
        } else if (fuzz_verbose())
                fprintf(stderr, "rejected\n");
        config_free(c);
        free(text);
        return 0;
}
