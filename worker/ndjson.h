/* NDJSON rows: one JSON object per line, its keys matched to the declared columns by name.
 *
 * A tokenizer of our own, not jansson or json-c, by measurement (bench/ndjson: 1M
 * generated event lines, 146 MB, parsed and typed into the seven columns, CPU time on a
 * shared 2-core machine): ndjson.c 303 MB/s, json-c 0.16 42 MB/s, jansson 2.14 25 MB/s.
 * Both libraries build a tree of allocated nodes per line that we would walk and free;
 * at a seventh of our speed or less they would set the pace of a whole run.
 * tests/fuzz/fuzz-ndjson.c fuzzes ours, with jansson as the oracle.
 *
 * A line is split on LF by the caller: JSON strings cannot hold a raw LF, so lines can be
 * found without parsing, and a file split between threads at any LF splits cleanly. A CR
 * before the LF and blank lines are ignored. A row is an object whose values are scalars:
 *   str   a JSON string; escapes and \uXXXX (surrogate pairs too) decoded to UTF-8
 *   int   a JSON number written as an integer within int64 (1.5 or 1e3 is a bad row)
 *   num   any JSON number, finite as a double
 *   time  a string (RFC 3339, parse_time_usec) or an integer (epoch s, or ms when >= 1e11)
 *   null, or a declared key that is absent: a missing value (VALUE_NIL)
 * Anything else is a malformed row with a reason: not an object, a nested object or array
 * (under any key, declared or not), true/false under a declared key, a value of the wrong
 * type, invalid UTF-8 or a lone surrogate, a declared key given twice (which one would we
 * believe?), bytes after the object. Undeclared keys are skipped and may repeat. */
#pragma once

#include "util.h"
#include "value.h"

#define NDJSON_MAX_LINE_BYTES (UINT32_C(1) << 20) /* as CSV_MAX_RECORD_BYTES */
#define NDJSON_MAX_COLUMNS    1024

typedef enum NdjsonStatus {
        NDJSON_ROW = 1,   /* row[] holds one value per column */
        NDJSON_BLANK = 0, /* an empty or all-whitespace line: not a row */
        NDJSON_BAD = 2,   /* malformed; *ret_reason says why */
} NdjsonStatus;

typedef struct NdjsonColumn {
        const char *name; /* NUL-terminated, compared byte for byte with decoded keys */
        ValueType type;
} NdjsonColumn;

typedef struct NdjsonParser NdjsonParser;

/* Copies the column names. -EINVAL on no columns, too many, or a name given twice. */
int ndjson_parser_new(const NdjsonColumn *columns, size_t n_columns, NdjsonParser **ret);
NdjsonParser *ndjson_parser_free(NdjsonParser *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(NdjsonParser *, ndjson_parser_free);

/* Parses one line (without its LF) into row[0..n_columns), in declared column order.
 * Strings point into line, or into the parser's scratch when they had escapes: both valid
 * until the next call and while line lives. Returns an NdjsonStatus; on NDJSON_BAD,
 * *ret_reason is a static string naming the problem (and row is undefined). */
int ndjson_parse_line(NdjsonParser *p, const char *line, size_t len, Value *row,
                      const char **ret_reason);
