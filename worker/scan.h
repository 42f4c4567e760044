/* From CSV records to typed rows: the per-row loop of a thread reading CSV. */
#pragma once

#include "csv.h"
#include "source.h"

#define SCAN_MAX_FIELDS CSV_MAX_FIELDS
_Static_assert(CSV_MAX_RECORD_BYTES <= SHARD_MAX_ROW_BYTES, "a CSV row fits a shard's key buffer");

/* Which declared column each header field is, -1 for fields the source ignores. */
typedef struct FileSchema {
        size_t n_fields;
        int16_t field_col[SCAN_MAX_FIELDS];
} FileSchema;

typedef struct ScanBad {
        uint64_t line; /* within the task, 1-based */
        BadReason reason;
        int column; /* -1 unless a value failed to parse */
} ScanBad;

/* A run of records one thread reads: a byte range of a mapped file, or a whole stream. */
typedef struct ScanTask {
        size_t file;
        size_t start, end;                   /* byte range of the records this task starts */
        size_t stop;                         /* where its last record ended */
        uint64_t lines;                      /* lines it consumed */
        ScanBad samples[SOURCE_BAD_SAMPLES]; /* its first malformed rows */
        size_t n_samples;
} ScanTask;

/* Outcomes beyond negative errno. */
enum {
        SCHEMA_OK = 0,
        SCHEMA_MISSING_COLUMN = 1, /* *ret_missing: the first declared column not in it */
};

/* Maps a header record onto the source's columns (a UTF-8 byte order mark before the
 * first name is ignored). -E2BIG for more than SCAN_MAX_FIELDS fields. */
int file_schema_build(FileSchema *fs, const SourceConfig *src, const CsvField *header, size_t n,
                      size_t *ret_missing);

enum {
        SCAN_DONE = 0,      /* past limit or at the end of the input */
        SCAN_NEED_MORE = 1, /* the cursor needs more bytes (streams) */
};

/* Reads records from c while they start before limit (finishing the one that straddles
 * it) and feeds valid rows to s, rows batched and flushed before it returns. Returns a
 * SCAN_ outcome or negative errno. */
int scan_records(Shard *s, const FileSchema *fs, CsvCursor *c, size_t limit, ScanTask *t);
