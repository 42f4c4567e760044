/* The CSV tokenizer: RFC 4180 records out of a byte buffer, without copying.
 *
 * A record ends at a LF (a CR before it is dropped) that is outside quotes. A field that
 * starts with '"' is quoted: it runs to the next '"' not doubled, may hold commas and line
 * breaks, and must be followed by ',' or the end of the record. A '"' inside an unquoted
 * field is an ordinary byte (as Python's csv, Polars and DuckDB read it). Blank lines are
 * skipped. Unquoted fields and quoted fields without doubled quotes point into the buffer;
 * only fields with doubled quotes are unescaped, into the cursor's scratch space.
 *
 * On a malformed record the cursor still moves past it: to the first LF after it at which
 * the number of '"' seen since the record began is even. So where records end depends only
 * on the bytes, which lets the engine split a file between threads and check the seams. */
#pragma once

#include "util.h"

#define CSV_MAX_RECORD_BYTES (UINT32_C(1) << 20) /* one record, quoted line breaks included */
#define CSV_MAX_FIELDS       1024                /* fields csv_parse_buffer stores per record */

/* Outcomes of csv_next, all >= 0: failures (-ENOMEM) are negative errno. */
typedef enum CsvStatus {
        CSV_END = 0,       /* no more records */
        CSV_RECORD = 1,    /* a record was read */
        CSV_NEED_MORE = 2, /* the record runs past the buffer and more bytes may follow */
        CSV_BAD_QUOTE = 3, /* a closing quote followed by junk, or a quote never closed */
        CSV_TOO_LONG = 4,  /* longer than CSV_MAX_RECORD_BYTES */
} CsvStatus;

typedef struct CsvField {
        const char *p;
        uint32_t len;
        bool quoted; /* written as "...": an empty quoted field is "", not missing */
} CsvField;

typedef struct CsvCursor {
        const char *buf;
        size_t len;
        size_t pos;          /* start of the next record */
        bool eof;            /* no bytes follow buf[len) */
        uint64_t line;       /* 1-based line of the next record's first byte */
        uint64_t rec_line;   /* line the last returned record (or error) started on */
        size_t rec_start;    /* offset of that record */
        bool used_scratch;   /* the last record has fields in scratch (valid until the next) */
        char *scratch;       /* unescaped quoted fields */
        size_t scratch_size; /* capacity */
} CsvCursor;

void csv_cursor_init(CsvCursor *c, const char *buf, size_t len, bool eof);
void csv_cursor_done(CsvCursor *c);
/* Points the cursor at a new buffer (e.g. after refilling a stream), keeping line and
 * scratch; pos is reset to 0. */
void csv_cursor_reset(CsvCursor *c, const char *buf, size_t len, bool eof);

/* Reads the next record into fields[0..max_fields). *ret_n is the record's real field
 * count, which may exceed max_fields (the extra fields are counted, not stored). Returns a
 * CsvStatus; on CSV_BAD_QUOTE and CSV_TOO_LONG the record is skipped. On CSV_NEED_MORE the
 * cursor has not moved. -ENOMEM if scratch space cannot grow. */
int csv_next(CsvCursor *c, CsvField *fields, size_t max_fields, size_t *ret_n);

/* Whole-buffer entry point (fuzzing, tests): calls fn for every record or bad record,
 * with status CSV_RECORD, CSV_BAD_QUOTE or CSV_TOO_LONG. Returns the number of records seen, or
 * -ENOMEM. fn returning non-zero stops the walk. */
typedef int (*CsvRecordFn)(int status, const CsvField *fields, size_t n_fields, uint64_t line,
                           void *userdata);
long csv_parse_buffer(const char *buf, size_t len, CsvRecordFn fn, void *userdata);

const char *csv_status_to_string(int status);
