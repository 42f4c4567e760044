/* From CSV records to typed rows: the per-row loop of a thread. */
#pragma once

#include "csv.h"
#include "shard.h"

#define SCAN_MAX_FIELDS CSV_MAX_FIELDS
#define SCAN_SAMPLES    5 /* malformed rows remembered per task for the log */

/* Which declared column each header field is, -1 for fields the source ignores. */
typedef struct FileSchema {
        size_t n_fields;
        int16_t field_col[SCAN_MAX_FIELDS];
} FileSchema;

typedef struct BadSample {
        uint64_t line; /* within the task, 1-based */
        BadReason reason;
        int column; /* -1 unless a value failed to parse */
} BadSample;

typedef struct ScanTask {
        size_t file;
        size_t start, end; /* byte range of the records this task starts */
        size_t stop;       /* where its last record ended */
        uint64_t lines;    /* lines it consumed */
        BadSample samples[SCAN_SAMPLES];
        size_t n_samples;
} ScanTask;

/* Maps a header record onto the source's columns. Returns the index of the first declared
 * column missing from it (>= 0), -1 if all are present, -E2BIG for too many fields. */
int file_schema_build(FileSchema *fs, const SourceConfig *src, const CsvField *header, size_t n);

/* Reads records from c while they start before limit (finishing the one that straddles
 * it) and feeds valid rows to s. Returns 0 when past limit or at the end, 1 when the cursor
 * needs more bytes (streams), negative errno on failure. */
int scan_records(Shard *s, const FileSchema *fs, CsvCursor *c, size_t limit, ScanTask *t);
/* Aggregates the rows collected so far (scan_records does this before it returns). */
int scan_flush(Shard *s);
