/* What the CSV and NDJSON file sources share, so each keeps only what its format means
 * (a CSV header and quoted line breaks, NDJSON lines): the files a path or glob names,
 * the tasks their bytes split into, the threads that take those tasks from a shared
 * counter, the first failure of any of them, and where a bad row's line lands in its file.
 *
 * A FileScan lives inside its source (FILE_SCAN_NULL); the source frees its files, then
 * calls file_scan_done(). */
#pragma once

#include <stdatomic.h>

#include "scan.h"
#include "source.h"

typedef struct FileScan {
        Source *source; /* whose plan names the files, whose failure message is set */
        ScanTask *tasks;
        size_t n_tasks;
        /* while reading */
        const SourceContext *ctx;
        ShardSet *set;
        _Atomic size_t next_task;
        _Atomic int error; /* first failure, negative errno or SOURCE_BAD_CONFIG */
} FileScan;

#define FILE_SCAN_NULL(src) ((FileScan){.source = (src)})

/* The smallest file worth splitting; TALLY_WORKER_TASK_BYTES lowers it so tests reach
 * task seams with small files. */
size_t file_scan_min_task_bytes(void);

/* How many threads read this many bytes: 1 for little input, else ctx->threads or the
 * online CPUs, at most PARALLEL_MAX. */
size_t file_scan_threads(uint64_t bytes, const SourceContext *ctx);

/* Records r as the first failure unless another came first; returns r. */
int file_scan_set_error(FileScan *fs, int r);

/* The same, and when r is the first failure, its message for the operator; returns r. */
int file_scan_fail(FileScan *fs, int r, const char *fmt, ...) _printf_(3, 4);

/* The paths the source's path or glob names (input_list_free() them); a glob that matches
 * nothing or a directory that cannot be listed fails with its message. */
int file_scan_list(FileScan *fs, char ***ret_paths, size_t *ret_n);

/* Drops the tasks planned so far and makes room for cap. */
int file_scan_tasks_reset(FileScan *fs, size_t cap);

/* Appends one task for a whole file (a gzip stream). */
void file_scan_add_task(FileScan *fs, size_t file);

/* Appends the tasks that map[start, end) of a file splits into at line boundaries, at
 * most pieces. */
void file_scan_add_split(FileScan *fs, size_t file, const char *map, size_t start, size_t end,
                         size_t pieces);

/* Reads one task into the thread's shard; a failure stops every thread. */
typedef int (*FileTaskFn)(void *userdata, Shard *s, ScanTask *t);

/* Runs the tasks on threads (each its own shard of set, reset to that many); returns the
 * first failure, 0 when all succeeded. */
int file_scan_run(FileScan *fs, ShardSet *set, size_t threads, FileTaskFn fn, void *userdata);

/* A file's path, and the lines before its first task's start (a header), for samples. */
typedef const char *(*FileLinesFn)(const void *userdata, size_t file, uint64_t *ret_header_lines);

/* Fills the source's bad samples from the tasks' samples, each at its line in its file:
 * the header's lines plus those of the file's tasks before it (each task counted lines
 * from its own start). */
void file_scan_samples(FileScan *fs, FileLinesFn fn, const void *userdata);

void file_scan_done(FileScan *fs);
