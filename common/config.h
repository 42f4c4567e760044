/* tally.conf, the one INI file both programs read, parsed into typed structs.
 *
 *   [tally]            snapshot_dir, keep, max_snapshot_bytes
 *   [worker]           max_runtime, threads, max_bad_ratio (default for sources)
 *   [server]           listen, max_age, poll_interval, workers, max_connections,
 *                      max_header_bytes, timeout, spawn_interval
 *   [source.NAME]      type, path, columns, max_bad_ratio, time_reference
 *   [view.NAME]        source, group_by, aggregates, where, window, having, top
 *
 * Relative paths (snapshot_dir, source paths) are taken relative to the config file's
 * directory. Parsing does not log: every mistake becomes one ConfigError (file, line,
 * section, key, reason), all of them are returned together, and the program prints them
 * once as "FILE:LINE: [section] key: reason" and exits with EX_CONFIG (78).
 *
 * The parser itself is config.c (the file and the section table), with one file per kind
 * of section beside it; config_parser.h says how a section or a key is added. */
#pragma once

#include "value.h"
#include "where.h"

#define EXIT_CONFIG        78 /* EX_CONFIG from sysexits.h */
#define CONFIG_MAX_COLUMNS 128
#define CONFIG_MAX_NAME    64

typedef enum SourceType {
        SOURCE_CSV,
        SOURCE_POSTGRES,
} SourceType;

typedef struct SourceConfig {
        char *name;
        unsigned line; /* of the section header, for later diagnostics */
        SourceType type;
        char *path; /* csv: a path or a glob */
        ColumnDef *columns;
        size_t n_columns;
        double max_bad_ratio;
        bool window_from_now; /* time_reference = now: windows end at the current time */
} SourceConfig;

typedef enum AggKind {
        AGG_COUNT,
        AGG_SUM,
        AGG_AVG,
        AGG_MIN,
        AGG_MAX,
        AGG_QUANTILE,        /* exact, p50/p90/p95/p99 */
        AGG_DISTINCT,        /* exact count of distinct values */
        AGG_APPROX_QUANTILE, /* approx_p95(c) ... : bounded-memory sketch */
        AGG_APPROX_DISTINCT, /* approx_distinct(c): HyperLogLog */
        _AGG_KIND_MAX,
} AggKind;

typedef struct AggregateDef {
        AggKind kind;
        int column;  /* index into the source's columns; -1 for count */
        double q;    /* quantiles: 0.5, 0.9, 0.95, 0.99 */
        char *label; /* output column name as written, e.g. "sum(amount)" */
} AggregateDef;

/* bucket_usec of a group_by item that is month(c): calendar months, UTC */
#define BUCKET_MONTH UINT64_MAX
#define TOP_MAX      1000000

typedef struct ViewConfig {
        char *name;
        unsigned line;
        size_t source; /* index into Config.sources */
        int *group_by; /* source column indices */
        size_t n_group_by;
        /* per group_by item: 0 for the column's value, else the width in µs of the time
         * bucket its time is floored to (BUCKET_MONTH: the calendar month); NULL when no
         * item is a bucket */
        uint64_t *bucket_usec;
        char **group_labels; /* per group_by item: the output column's name as written */
        AggregateDef *aggregates;
        size_t n_aggregates;
        Predicate *where; /* ANDed */
        size_t n_where;
        int window_column; /* -1: no window */
        uint64_t window_usec;
        Predicate *having; /* ANDed; column: index into aggregates */
        size_t n_having;
        /* top = N by AGG [asc|desc] [per ITEM, ...]: per partition (the first top_per
         * group_by items), the top_n groups ranked by aggregates[top_by], ties by key */
        uint32_t top_n; /* 0: no top */
        size_t top_by;
        bool top_asc;
        size_t top_per;
} ViewConfig;

typedef struct ServerConfig {
        char *listen; /* host:port */
        uint64_t max_age_usec;
        uint64_t poll_interval_usec;
        unsigned workers;
        unsigned max_connections;
        unsigned max_header_bytes;
        uint64_t timeout_usec;
        uint64_t spawn_interval_usec; /* --spawn-worker default interval */
} ServerConfig;

typedef struct WorkerConfig {
        uint64_t max_runtime_usec; /* 0: none */
        unsigned threads;          /* 0: one per online CPU */
        double max_bad_ratio;
} WorkerConfig;

typedef struct Config {
        char *path;
        char *snapshot_dir;
        unsigned keep;
        uint64_t max_snapshot_bytes;
        ServerConfig server;
        WorkerConfig worker;
        SourceConfig *sources;
        size_t n_sources;
        ViewConfig *views;
        size_t n_views;
} Config;

/* One mistake in a configuration file. */
typedef struct ConfigError {
        const char *file; /* the path given to config_load (owned by the list) */
        unsigned line;    /* 0: about the file as a whole (unreadable, too large) */
        char *section;    /* NULL: not inside a section (a syntax error) */
        char *key;        /* NULL: about the section as a whole */
        char *reason;
} ConfigError;

/* Every mistake of one file, in line order. */
typedef struct ConfigErrors {
        char *file;
        ConfigError *items;
        size_t n;
} ConfigErrors;

ConfigErrors *config_errors_free(ConfigErrors *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(ConfigErrors *, config_errors_free);
/* "FILE:LINE: [section] key: reason", leaving out the parts an error does not have;
 * returns buf. */
const char *config_error_format(const ConfigError *e, char *buf, size_t n);

/* Outcome of config_load and config_parse when the file has mistakes. */
#define CONFIG_INVALID 1

/* Reads and validates path. 0 with *ret; CONFIG_INVALID with *ret_errors (at least one
 * entry) when the file cannot be opened or read, or holds any mistake; -ENOMEM. */
int config_load(const char *path, Config **ret, ConfigErrors **ret_errors);
/* Same, from text; path is only used in the errors and to resolve relative paths. */
int config_parse(const char *path, const char *text, Config **ret, ConfigErrors **ret_errors);
Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

const SourceConfig *config_find_source(const Config *c, const char *name);
const ViewConfig *config_find_view(const Config *c, const char *name);
int source_column_index(const SourceConfig *s, const char *name);
const char *agg_kind_to_string(AggKind k);
/* The type of an aggregate's value over a column of type column (count: any). */
ValueType agg_output_type(AggKind k, ValueType column);
