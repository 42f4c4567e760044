/* The configuration driver: the file, the section table, typed keys, the errors list,
 * and the [tally], [worker] and [server] sections. Named sections live beside it
 * (config_source.c, config_view.c). */
#include "config_parser.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>

#include "ini.h"
#include "read_file.h"

#define CONFIG_MAX_FILE_BYTES (1u << 20)
#define CONFIG_MAX_ENTRIES    4096

void config_report(ConfigParser *p, unsigned line, const char *section, const char *key,
                   const char *fmt, ...)
{
        char reason[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (config_errors_add(p->errors, line, section, key, reason) < 0)
                p->oom = true;
}

/* ---- shared by the sections ---- */

bool config_valid_name(const char *s)
{
        if (!*s || strlen(s) > CONFIG_MAX_NAME)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

const ConfigEntry *config_last_key(const ConfigParser *p, const ConfigObject *o, const char *key)
{
        for (size_t i = p->n_entries; i-- > 0;)
                if (p->entries[i].object == o && p->entries[i].key &&
                    strcmp(p->entries[i].key, key) == 0)
                        return &p->entries[i];
        return NULL;
}

/* Relative paths in a config file mean "next to the config file", so an example directory
 * works wherever it is checked out. */
int config_resolve_relative(const ConfigParser *p, char **path)
{
        if (!*path || (*path)[0] == '/')
                return 0;
        const char *slash = strrchr(p->path, '/');
        if (!slash)
                return 0;
        size_t dl = (size_t)(slash - p->path);
        size_t len = dl + 1 + strlen(*path) + 1;
        char *joined = malloc(len);
        if (!joined)
                return -ENOMEM;
        snprintf(joined, len, "%.*s/%s", (int)dl, p->path, *path);
        free(*path);
        *path = joined;
        return 0;
}

/* ---- typed keys ---- */

void config_free_string_keys(const ConfigSection *k, void *object)
{
        for (size_t i = 0; i < k->n_keys; i++)
                if (k->keys[i].kind == CONFIG_KIND_STRING ||
                    k->keys[i].kind == CONFIG_KIND_LISTEN) {
                        char **field = (void *)((char *)object + k->keys[i].offset);
                        free(*field);
                        *field = NULL;
                }
}

static int parse_ratio(const char *s, double *ret)
{
        double v;
        size_t len = strlen(s);
        int r;
        if (len > 0 && s[len - 1] == '%') {
                char buf[64];
                if (len >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, s, len - 1);
                buf[len - 1] = 0;
                r = parse_double(buf, &v);
                v /= 100;
        } else
                r = parse_double(s, &v);
        if (r < 0 || v < 0 || v > 1)
                return -EINVAL;
        *ret = v;
        return 0;
}

static bool valid_listen(const char *s)
{
        const char *colon = strrchr(s, ':');
        uint64_t port;
        return colon && colon != s && parse_uint(colon + 1, 1, 65535, &port) >= 0;
}

static int set_string(ConfigParser *p, const ConfigEntry *e, char **field)
{
        if (!*e->value) {
                config_report_entry(p, e, "empty value");
                return -EINVAL;
        }
        char *s = strdup(e->value);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static int parse_typed(ConfigParser *p, const ConfigKey *k, const ConfigEntry *e, void *object)
{
        void *field = (char *)object + k->offset;
        uint64_t u;
        double d;
        switch (k->kind) {
        case CONFIG_KIND_FUNC: return k->parse(p, e, object);
        case CONFIG_KIND_IGNORED: return 0;
        case CONFIG_KIND_STRING: return set_string(p, e, field);
        case CONFIG_KIND_LISTEN:
                if (!valid_listen(e->value)) {
                        config_report_entry(
                            p, e, "'%s' is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080)",
                            e->value);
                        return -EINVAL;
                }
                return set_string(p, e, field);
        case CONFIG_KIND_DURATION:
                if (parse_duration_usec(e->value, &u) < 0) {
                        config_report_entry(p, e,
                                            "'%s' is not a duration (e.g. 500ms, 90s, 2m, 24h, 7d)",
                                            e->value);
                        return -EINVAL;
                }
                memcpy(field, &u, sizeof(u));
                return 0;
        case CONFIG_KIND_UINT:
                if (parse_uint(e->value, k->min, k->max, &u) < 0) {
                        config_report_entry(p, e,
                                            "'%s' is not a whole number in %" PRIu64 "..%" PRIu64,
                                            e->value, k->min, k->max);
                        return -EINVAL;
                }
                if (k->size == sizeof(unsigned))
                        *(unsigned *)field = (unsigned)u;
                else
                        memcpy(field, &u, sizeof(u));
                return 0;
        case CONFIG_KIND_RATIO:
                if (parse_ratio(e->value, &d) < 0) {
                        config_report_entry(p, e, "'%s' is not a ratio in 0..1 (or 0%%..100%%)",
                                            e->value);
                        return -EINVAL;
                }
                memcpy(field, &d, sizeof(d));
                return 0;
        }
        return -EINVAL;
}

/* ---- [tally], [worker], [server] ---- */

static const ConfigKey tally_keys[] = {
    CONFIG_KEY("snapshot_dir", STRING, Config, snapshot_dir),
    CONFIG_KEY("keep", UINT, Config, keep, .min = 1, .max = 1000),
    CONFIG_KEY("max_snapshot_bytes", UINT, Config, max_snapshot_bytes, .min = 1024,
               .max = UINT64_C(1) << 40),
};

static void *tally_object(Config *c)
{
        return c;
}

static int tally_finish(ConfigParser *p, ConfigObject *o)
{
        Config *c = o->data;
        if (!c->snapshot_dir && !(c->snapshot_dir = strdup("/var/lib/tally/snapshots")))
                return -ENOMEM;
        return config_resolve_relative(p, &c->snapshot_dir);
}

static const ConfigSection tally_section = {
    .name = "tally",
    .keys = tally_keys,
    .n_keys = ELEMENTSOF(tally_keys),
    .object = tally_object,
    .finish = tally_finish,
};

static const ConfigKey worker_keys[] = {
    CONFIG_KEY("max_runtime", DURATION, WorkerConfig, max_runtime_usec),
    CONFIG_KEY("threads", UINT, WorkerConfig, threads, .min = 0, .max = 256),
    CONFIG_KEY("max_bad_ratio", RATIO, WorkerConfig, max_bad_ratio),
};

static void *worker_object(Config *c)
{
        return &c->worker;
}

static const ConfigSection worker_section = {
    .name = "worker",
    .keys = worker_keys,
    .n_keys = ELEMENTSOF(worker_keys),
    .object = worker_object,
};

static const ConfigKey server_keys[] = {
    CONFIG_KEY("listen", LISTEN, ServerConfig, listen),
    CONFIG_KEY("max_age", DURATION, ServerConfig, max_age_usec),
    CONFIG_KEY("poll_interval", DURATION, ServerConfig, poll_interval_usec),
    CONFIG_KEY("timeout", DURATION, ServerConfig, timeout_usec),
    CONFIG_KEY("spawn_interval", DURATION, ServerConfig, spawn_interval_usec),
    CONFIG_KEY("workers", UINT, ServerConfig, workers, .min = 1, .max = 64),
    CONFIG_KEY("max_connections", UINT, ServerConfig, max_connections, .min = 1, .max = 1000000),
    CONFIG_KEY("max_header_bytes", UINT, ServerConfig, max_header_bytes, .min = 256,
               .max = 1 << 20),
};

static void *server_object(Config *c)
{
        return &c->server;
}

static int server_finish(ConfigParser *p, ConfigObject *o)
{
        ServerConfig *s = o->data;
        if (!s->listen && !(s->listen = strdup("127.0.0.1:8080")))
                return -ENOMEM;
        return 0;
}

static const ConfigSection server_section = {
    .name = "server",
    .keys = server_keys,
    .n_keys = ELEMENTSOF(server_keys),
    .object = server_object,
    .finish = server_finish,
};

/* In the order they are parsed: a source inherits [worker] max_bad_ratio, a view refers
 * to a source's columns. */
static const ConfigSection *const sections[] = {
    &tally_section, &worker_section, &server_section, &config_source_section, &config_view_section,
};

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

/* ---- the driver ---- */

static void ini_error(void *userdata, unsigned line, const char *reason)
{
        config_report(userdata, line, NULL, NULL, "%s", reason);
}

static int collect(void *userdata, unsigned line, const char *section, const char *key,
                   const char *value)
{
        ConfigParser *p = userdata;
        if (p->n_entries >= CONFIG_MAX_ENTRIES) {
                config_report(p, line, section, key, "too many entries (limit %d)",
                              CONFIG_MAX_ENTRIES);
                return -E2BIG;
        }
        if (p->n_entries % 64 == 0) {
                ConfigEntry *e = realloc(p->entries, (p->n_entries + 64) * sizeof(ConfigEntry));
                if (!e)
                        return -ENOMEM;
                p->entries = e;
        }
        ConfigEntry *e = &p->entries[p->n_entries];
        *e = (ConfigEntry){.line = line};
        e->section = strdup(section);
        e->key = key ? strdup(key) : NULL;
        e->value = value ? strdup(value) : NULL;
        p->n_entries++;
        if (!e->section || (key && !e->key) || (value && !e->value))
                return -ENOMEM;
        return 0;
}

static const ConfigSection *section_kind(const char *section, const char **ret_name)
{
        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                const ConfigSection *k = sections[i];
                size_t len = strlen(k->name);
                if (k->named ? strncmp(section, k->name, len) == 0
                             : strcmp(section, k->name) == 0) {
                        *ret_name = section + len;
                        return k;
                }
        }
        return NULL;
}

static ConfigObject *find_object(ConfigParser *p, const char *section)
{
        for (size_t i = 0; i < p->n_objects; i++)
                if (strcmp(p->objects[i].section, section) == 0)
                        return &p->objects[i];
        return NULL;
}

static void report_unknown_section(ConfigParser *p, const ConfigEntry *e)
{
        char known[256] = "";
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(sections) && n < sizeof(known); i++) {
                const ConfigSection *k = sections[i];
                n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s%s", i ? ", " : "",
                                      k->name, k->named ? "NAME" : "");
        }
        config_report(p, e->line, e->section, NULL, "unknown section (%s)", known);
}

/* One object per section: the unnamed ones always, a named one per distinct header. */
static int add_objects(ConfigParser *p)
{
        Config *c = p->config;
        size_t n_headers = 0, count[ELEMENTSOF(sections)] = {};
        for (size_t i = 0; i < p->n_entries; i++) {
                const char *name;
                const ConfigSection *k =
                    p->entries[i].key ? NULL : section_kind(p->entries[i].section, &name);
                n_headers += !p->entries[i].key;
                for (size_t j = 0; k && j < ELEMENTSOF(sections); j++)
                        count[j] += sections[j] == k;
        }
        p->objects = calloc(n_headers + ELEMENTSOF(sections), sizeof(ConfigObject));
        if (!p->objects)
                return -ENOMEM;
        for (size_t j = 0; j < ELEMENTSOF(sections); j++) {
                const ConfigSection *k = sections[j];
                if (k->named) {
                        int r = k->reserve(c, count[j]);
                        if (r < 0)
                                return r;
                } else
                        p->objects[p->n_objects++] =
                            (ConfigObject){.kind = k, .section = k->name, .data = k->object(c)};
        }
        ConfigObject *current = NULL;
        for (size_t i = 0; i < p->n_entries; i++) {
                ConfigEntry *e = &p->entries[i];
                if (e->key) {
                        e->object = current;
                        continue;
                }
                const char *name;
                const ConfigSection *k = section_kind(e->section, &name);
                current = k ? find_object(p, e->section) : NULL;
                if (!k)
                        report_unknown_section(p, e);
                else if (current && !k->named) {
                        if (current->line == 0) /* the first header: a repeated one merges */
                                current->line = e->line;
                } else if (current)
                        config_report(p, e->line, e->section, NULL, "defined twice");
                else if (!config_valid_name(name))
                        config_report(p, e->line, e->section, NULL,
                                      "bad name '%s' (letters, digits, '_' and '-', at most %d)",
                                      name, CONFIG_MAX_NAME);
                else {
                        void *data = k->add(c, name, e->line);
                        if (!data)
                                return -ENOMEM;
                        current = &p->objects[p->n_objects++];
                        *current = (ConfigObject){
                            .kind = k, .section = e->section, .line = e->line, .data = data};
                }
        }
        return 0;
}

static const ConfigKey *find_key(const ConfigSection *k, const char *name, size_t *ret_index)
{
        for (size_t i = 0; i < k->n_keys; i++)
                if (strcmp(k->keys[i].name, name) == 0) {
                        *ret_index = i;
                        return &k->keys[i];
                }
        return NULL;
}

bool config_key_seen(const ConfigObject *o, const char *key)
{
        size_t i;
        return find_key(o->kind, key, &i) && i < 64 && (o->seen & (UINT64_C(1) << i));
}

static int parse_key(ConfigParser *p, ConfigEntry *e)
{
        ConfigObject *o = e->object;
        size_t i;
        const ConfigKey *key = find_key(o->kind, e->key, &i);
        if (!key) {
                config_report_entry(p, e, "unknown key");
                return -EINVAL;
        }
        uint64_t bit = i < 64 ? UINT64_C(1) << i : 0;
        if (key->once && (o->seen & bit)) {
                config_report_entry(p, e, "given twice");
                return -EINVAL;
        }
        o->seen |= bit;
        size_t reported = p->errors->n;
        int r = parse_typed(p, key, e, o->data);
        if (r < 0 && r != -ENOMEM && p->errors->n == reported) {
                /* a mistake must never pass silently, even one a handler forgot to name */
                config_report_entry(p, e, "invalid value: %s", strerror(-r));
                r = -EINVAL;
        }
        return r;
}

/* Per kind of section, in table order: prepare every object, parse the keys, finish. */
static int parse_sections(ConfigParser *p)
{
        int r = add_objects(p);
        if (r < 0)
                return r;
        bool *skip = calloc(p->n_objects + 1, sizeof(bool));
        if (!skip)
                return -ENOMEM;
        for (size_t j = 0; r >= 0 && j < ELEMENTSOF(sections); j++) {
                const ConfigSection *k = sections[j];
                for (size_t i = 0; r >= 0 && i < p->n_objects; i++)
                        if (p->objects[i].kind == k && k->prepare) {
                                r = k->prepare(p, &p->objects[i]);
                                skip[i] = r > 0;
                        }
                for (size_t i = 0; r >= 0 && i < p->n_entries; i++) {
                        ConfigEntry *e = &p->entries[i];
                        if (e->key && e->object && e->object->kind == k &&
                            !skip[e->object - p->objects])
                                r = parse_key(p, e);
                        if (r == -EINVAL)
                                r = 0; /* reported; go on to find the other mistakes */
                }
                for (size_t i = 0; r >= 0 && i < p->n_objects; i++)
                        if (p->objects[i].kind == k && k->finish && !skip[i])
                                r = k->finish(p, &p->objects[i]);
        }
        free(skip);
        return r < 0 ? r : 0;
}

int config_parse(const char *path, const char *text, Config **ret, ConfigErrors **ret_errors)
{
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        if (!c || config_errors_new(path, &errors) < 0)
                return -ENOMEM;
        config_defaults(c);
        ConfigParser p = {.path = path, .config = c, .errors = errors};
        c->path = strdup(path);
        int r = c->path ? ini_parse_string(text, collect, ini_error, &p) : -ENOMEM;
        if (r >= 0)
                r = parse_sections(&p);
        for (size_t i = 0; i < p.n_entries; i++) {
                free(p.entries[i].section);
                free(p.entries[i].key);
                free(p.entries[i].value);
        }
        free(p.entries);
        free(p.objects);
        if (r == -ENOMEM || p.oom)
                return -ENOMEM;
        if (errors->n > 0) {
                config_errors_sort(errors);
                *ret_errors = TAKE_PTR(errors);
                return CONFIG_INVALID;
        }
        if (r < 0) /* cannot happen: every failure but ENOMEM is reported */
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static void *alloc_text(void *userdata, size_t size)
{
        char **text = userdata;
        *text = malloc(size + 1);
        return *text;
}

/* A file-level mistake: one error with line 0. */
static int file_error(const char *path, ConfigErrors **ret_errors, const char *fmt, ...)
    _printf_(3, 4);
static int file_error(const char *path, ConfigErrors **ret_errors, const char *fmt, ...)
{
        char reason[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        if (config_errors_new(path, &errors) < 0 ||
            config_errors_add(errors, 0, NULL, NULL, reason) < 0)
                return -ENOMEM;
        *ret_errors = TAKE_PTR(errors);
        return CONFIG_INVALID;
}

int config_load(const char *path, Config **ret, ConfigErrors **ret_errors)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return file_error(path, ret_errors, "cannot open configuration: %s",
                                  strerror(errno));
        _cleanup_free_ char *text = NULL;
        void *buf;
        size_t len = 0;
        int r = read_file_bounded(fd, CONFIG_MAX_FILE_BYTES, alloc_text, &text, &buf, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return file_error(path, ret_errors, "read error: %s", strerror(-r));
        if (r == READ_FILE_NOT_REGULAR)
                return file_error(path, ret_errors, "not a regular file");
        if (r == READ_FILE_TOO_LARGE)
                return file_error(path, ret_errors, "larger than %u bytes", CONFIG_MAX_FILE_BYTES);
        if (r == READ_FILE_SHRANK)
                return file_error(path, ret_errors, "read error: file shrank while reading");
        text[len] = 0;
        if (strlen(text) != len)
                return file_error(path, ret_errors, "contains a NUL byte");
        return config_parse(path, text, ret, ret_errors);
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

Config *config_free(Config *c)
{
        if (!c)
                return NULL;
        for (size_t j = 0; j < ELEMENTSOF(sections); j++)
                if (!sections[j]->named)
                        config_free_string_keys(sections[j], sections[j]->object(c));
        for (size_t i = 0; i < c->n_sources; i++)
                config_source_section.done(&c->sources[i]);
        for (size_t i = 0; i < c->n_views; i++)
                config_view_section.done(&c->views[i]);
        free(c->sources);
        free(c->views);
        free(c->path);
        free(c);
        return NULL;
}
