/* The snapshot contract shared by the worker (writer) and the server (reader).
 *
 * File: one msgpack array  ["tally.snapshot", FORMAT_VERSION, payload: bin, xxh3-64: uint]
 * The checksum covers the payload bytes; the payload is a msgpack map:
 *   generation: uint          created_usec: int (realtime)
 *   worker:  {rows_read, rows_rejected, duration_ms, host,
 *             peak_rss_kib, cpu_ms, wall_ms}   (the last three since 2026-12; optional)
 *   sources: [{name, type, files, rows_read, rows_rejected}]
 *   views:   [{name, keys: uint (leading key columns), columns: [[name, type]...],
 *              rows: [[cell...]...]}]
 * A cell is nil or matches its column's type: str, int, num (float64), time (int, µs).
 * Version 2 (snapshot_bodies.h) adds the bodies tallyd serves, after those members.
 * Files are named snapshot-<generation, 20 digits>.msgpack so names sort by generation;
 * writers create ".tmp-snapshot-*" temp files beside them. */
#pragma once

#include "arena.h"
#include "value.h"

#define SNAPSHOT_FORMAT_NAME    "tally.snapshot"
#define SNAPSHOT_FORMAT_VERSION 1
#define SNAPSHOT_NAME_PREFIX    "snapshot-"
#define SNAPSHOT_NAME_SUFFIX    ".msgpack"
#define SNAPSHOT_TMP_PREFIX     ".tmp-snapshot-"
#define SNAPSHOT_NAME_MAX       64

/* Version 2 adds the serving-ready bodies (snapshot_bodies.h); readers take both. */
#define SNAPSHOT_FORMAT_VERSION_BODIES 2

/* Limits every reader enforces; a file beyond them is rejected, never half-loaded. */
#define SNAPSHOT_MAX_FILE_BYTES (UINT64_C(1) << 30)
#define SNAPSHOT_MAX_VIEWS      1024
#define SNAPSHOT_MAX_COLUMNS    256
#define SNAPSHOT_MAX_SOURCES    1024
#define SNAPSHOT_MAX_NAME_BYTES 255
#define SNAPSHOT_MAX_DEPTH      16

typedef struct SnapshotColumn {
        const char *name;
        ValueType type;
} SnapshotColumn;

typedef struct SnapshotView {
        const char *name;
        size_t n_keys; /* the first n_keys columns are the group-by key */
        size_t n_columns;
        SnapshotColumn *columns;
        size_t n_rows;
        Value *cells; /* n_rows * n_columns, row-major */
        /* SNAPSHOT_READ_BODIES_ONLY (v2, cells NULL): the key columns only, n_rows *
         * n_key_cells row-major, what tallyd's slice index is built from; n_key_cells is
         * n_keys when the file names its keys before its rows (the writer always does). */
        size_t n_key_cells;
        Value *key_cells;
} SnapshotView;

typedef struct SnapshotSource {
        const char *name;
        const char *type;
        uint64_t files;
        uint64_t rows_read;
        uint64_t rows_rejected;
} SnapshotSource;

typedef struct SnapshotStats {
        uint64_t rows_read;
        uint64_t rows_rejected;
        uint64_t duration_ms;
        const char *host;
        /* The worker process's own cost (getrusage), measured just before publishing.
         * Older snapshots do not carry them: has_usage is false and they read as 0. */
        bool has_usage;
        uint64_t peak_rss_kib; /* ru_maxrss */
        uint64_t cpu_ms;       /* user + system, all threads */
        uint64_t wall_ms;      /* process start to publishing */
} SnapshotStats;

/* A loaded, validated snapshot. All of it lives in one arena. */
typedef struct Snapshot {
        Arena *arena;
        uint64_t generation;
        int64_t created_usec;
        uint64_t file_bytes;
        SnapshotStats stats;
        size_t n_sources;
        SnapshotSource *sources;
        size_t n_views;
        SnapshotView *views;
        unsigned version;
        /* version 2: the validated bodies directory, pointing into the file image */
        const struct SnapshotBodies *bodies;
} Snapshot;

static inline const Value *snapshot_view_row(const SnapshotView *v, size_t row)
{
        return v->cells + row * v->n_columns;
}

/* The version and payload of a file image whose envelope is well formed (a 4-array, the
 * format name, a uint, a bin): 0, or -EBADMSG. Neither the version nor the checksum is
 * judged: for taking apart a file one trusts (the v2 encoder, the test tools that derive
 * files from a valid one); a file from elsewhere goes through snapshot_read.h. */
int snapshot_envelope_payload(const void *file, size_t len, uint64_t *ret_version,
                              const void **ret_payload, uint32_t *ret_len);

const SnapshotView *snapshot_find_view(const Snapshot *s, const char *name);

/* How old a snapshot created at created_usec (CLOCK_REALTIME) is at now_usec; 0 when its
 * clock ran ahead of ours. Stale means older than max_age: age > max_age. */
static inline uint64_t snapshot_age_usec(int64_t created_usec, uint64_t now_usec)
{
        return now_usec > (uint64_t)created_usec ? now_usec - (uint64_t)created_usec : 0;
}

/* Builds "snapshot-<gen>.msgpack" into buf (at least SNAPSHOT_NAME_MAX bytes). */
void snapshot_name(char *buf, size_t n, uint64_t generation);
/* True if name is a snapshot file name; its generation in *ret. */
bool snapshot_name_parse(const char *name, uint64_t *ret);
