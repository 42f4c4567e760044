/* How the configuration driver (config.c) and its section handlers talk: not an API for
 * anything outside the config files.
 *
 * The driver reads the INI text into entries, matches each section header against the
 * section table (config.c: [tally], [worker], [server], [source.NAME], [view.NAME]) and
 * then, section kind by section kind in table order, runs prepare, each key's handler
 * and finish for every object. A kind's keys are one table (ConfigKey): adding a key is one
 * line there (a typed field, or a function for anything else); adding a kind of section
 * is one ConfigSection and one line in the driver's table. */
#pragma once

#include <stddef.h>

#include "config.h"

typedef struct ConfigParser ConfigParser;
typedef struct ConfigObject ConfigObject;

/* One "[section] key = value" line, or a section header (key == NULL). */
typedef struct ConfigEntry {
        unsigned line;
        char *section;
        char *key;
        char *value;
        ConfigObject *object; /* what the key configures; NULL when its section is bad */
} ConfigEntry;

typedef enum ConfigKeyKind {
        CONFIG_KIND_FUNC,     /* parse() does it all */
        CONFIG_KIND_STRING,   /* char *, non-empty */
        CONFIG_KIND_UINT,     /* unsigned or uint64_t in [min, max] */
        CONFIG_KIND_DURATION, /* uint64_t microseconds */
        CONFIG_KIND_RATIO,    /* double in 0..1, or 0%..100% */
        CONFIG_KIND_LISTEN,   /* char *, HOST:PORT */
        CONFIG_KIND_IGNORED,  /* read by the section's prepare() */
} ConfigKeyKind;

/* Parses e->value into the object. Negative errno on failure; mistakes are reported with
 * config_report_entry() and returned as -EINVAL. */
typedef int (*ConfigKeyParse)(ConfigParser *p, const ConfigEntry *e, void *object);

typedef struct ConfigKey {
        const char *name;
        ConfigKeyKind kind;
        size_t offset, size; /* typed kinds: the field in the object */
        uint64_t min, max;   /* CONFIG_KIND_UINT */
        ConfigKeyParse parse;
        bool once; /* a second one in the same section is a mistake, not an override */
} ConfigKey;

/* One typed key: CONFIG_KEY("workers", UINT, ServerConfig, workers, .min = 1, .max = 64). */
#define CONFIG_KEY(n, k, type, field, ...)                                           \
        {                                                                            \
                .name = n, .kind = CONFIG_KIND_##k, .offset = offsetof(type, field), \
                .size = sizeof(((type *)0)->field), __VA_ARGS__                      \
        }
/* A key with its own parser. */
#define CONFIG_KEY_FUNC(n, fn, ...)                                           \
        {                                                                     \
                .name = n, .kind = CONFIG_KIND_FUNC, .parse = fn, __VA_ARGS__ \
        }

typedef struct ConfigSection {
        const char *name; /* "server"; for named sections the prefix, "source." */
        bool named;
        const ConfigKey *keys;
        size_t n_keys;
        /* unnamed sections: the one object, there even when the file has no such section */
        void *(*object)(Config *c);
        /* named sections: room for n objects (called once), then one per header; NULL is
         * out of memory */
        int (*reserve)(Config *c, size_t n);
        void *(*add)(Config *c, const char *name, unsigned line);
        /* optional, before the object's keys: positive skips its keys and finish (the
         * reason was reported), negative errno fails */
        int (*prepare)(ConfigParser *p, ConfigObject *o);
        /* optional, after the object's keys: checks and defaults */
        int (*finish)(ConfigParser *p, ConfigObject *o);
        /* named sections: frees what the object holds (config_free_string_keys frees the
         * typed string keys; unnamed sections need nothing more) */
        void (*done)(void *object);
} ConfigSection;

struct ConfigObject {
        const ConfigSection *kind;
        const char *section; /* as written in its first header */
        unsigned line;       /* of that header; 0 for a section the file does not have */
        void *data;          /* SourceConfig, ViewConfig, ServerConfig, ... */
        uint64_t seen;       /* bit i: keys[i] given */
};

struct ConfigParser {
        const char *path;
        Config *config;
        ConfigEntry *entries;
        size_t n_entries;
        ConfigObject *objects;
        size_t n_objects;
        ConfigErrors *errors;
        bool oom; /* an error could not be recorded */
};

extern const ConfigSection config_source_section, config_view_section;

/* The list (config_errors.c): a new one for path; an error appended (after
 * CONFIG_MAX_ERRORS, dropped: the first ones say enough); sorted into line order. */
int config_errors_new(const char *path, ConfigErrors **ret);
int config_errors_add(ConfigErrors *errs, unsigned line, const char *section, const char *key,
                      const char *reason);
void config_errors_sort(ConfigErrors *errs);

/* Appends a mistake to p's list (the driver and every section report through this). */
void config_report(ConfigParser *p, unsigned line, const char *section, const char *key,
                   const char *fmt, ...) _printf_(5, 6);
#define config_report_entry(p, e, ...) \
        config_report(p, (e)->line, (e)->section, (e)->key, __VA_ARGS__)

/* Letters, digits, '_' and '-', 1 to CONFIG_MAX_NAME bytes. */
bool config_valid_name(const char *s);
/* The last entry of o's section with this key, or NULL. */
const ConfigEntry *config_last_key(const ConfigParser *p, const ConfigObject *o, const char *key);
/* Frees every CONFIG_KIND_STRING and CONFIG_KIND_LISTEN field of object: a new string key
 * needs no line in config_free. */
void config_free_string_keys(const ConfigSection *k, void *object);
/* Whether o's section has the key at all (even a bad one). */
bool config_key_seen(const ConfigObject *o, const char *key);
/* A relative *path becomes relative to the config file's directory. */
int config_resolve_relative(const ConfigParser *p, char **path);
