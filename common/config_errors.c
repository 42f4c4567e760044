/* The errors list of a configuration file: what config_load returns instead of logging. */
#include "config_parser.h"

#define CONFIG_MAX_ERRORS 1000

ConfigErrors *config_errors_free(ConfigErrors *e)
{
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n; i++) {
                free(e->items[i].section);
                free(e->items[i].key);
                free(e->items[i].reason);
        }
        free(e->items);
        free(e->file);
        free(e);
        return NULL;
}

const char *config_error_format(const ConfigError *e, char *buf, size_t n)
{
        if (e->line == 0)
                snprintf(buf, n, "%s: %s", e->file, e->reason);
        else if (e->key)
                snprintf(buf, n, "%s:%u: [%s] %s: %s", e->file, e->line, e->section, e->key,
                         e->reason);
        else if (e->section)
                snprintf(buf, n, "%s:%u: [%s]: %s", e->file, e->line, e->section, e->reason);
        else
                snprintf(buf, n, "%s:%u: %s", e->file, e->line, e->reason);
        return buf;
}

int config_errors_new(const char *path, ConfigErrors **ret)
{
        ConfigErrors *e = calloc(1, sizeof(*e));
        if (!e || !(e->file = strdup(path))) {
                free(e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

int config_errors_add(ConfigErrors *errs, unsigned line, const char *section, const char *key,
                      const char *reason)
{
        if (errs->n >= CONFIG_MAX_ERRORS)
                return 0; /* the first thousand say enough */
        if (errs->n % 16 == 0) {
                ConfigError *t = realloc(errs->items, (errs->n + 16) * sizeof(ConfigError));
                if (!t)
                        return -ENOMEM;
                errs->items = t;
        }
        ConfigError *e = &errs->items[errs->n];
        *e = (ConfigError){.file = errs->file, .line = line};
        e->section = section ? strdup(section) : NULL;
        e->key = key ? strdup(key) : NULL;
        e->reason = strdup(reason);
        errs->n++; /* counted even when incomplete, so config_errors_free frees it */
        if ((section && !e->section) || (key && !e->key) || !e->reason)
                return -ENOMEM;
        return 0;
}

/* Sections are parsed kind by kind; the operator reads the file top to bottom. Stable
 * (insertion) sort: errors are few and of one line keep the order they were found in. */
void config_errors_sort(ConfigErrors *errs)
{
        for (size_t i = 1; i < errs->n; i++) {
                ConfigError e = errs->items[i];
                size_t j = i;
                for (; j > 0 && errs->items[j - 1].line > e.line; j--)
                        errs->items[j] = errs->items[j - 1];
                errs->items[j] = e;
        }
}
