/* CSV from a byte stream (a gzip file today; a program's stdout or any pipe next): a
 * bounded window refilled as records are consumed, so memory stays at the window however
 * long the stream, and the header checked before the first row. */
#pragma once

#include "scan.h"
#include "source.h"

#define CSV_STREAM_BUFFER                                                       \
        (4u << 20) /* bytes held per stream; records up to CSV_MAX_RECORD_BYTES \
                    */

typedef struct CsvStream {
        /* Appends bytes to buf[*len..cap) (blocking at most briefly: the deadline is checked
         * between calls), *eof at the end. 0 or negative errno. */
        int (*fill)(void *userdata, char *buf, size_t *len, size_t cap, bool *eof);
        /* The first record: status CSV_RECORD with its fields, or the CsvStatus that made it
         * unreadable. Fills *schema; returns 0 to go on, anything else to stop with it. */
        int (*header)(void *userdata, int status, const CsvField *fields, size_t n,
                      FileSchema *schema);
        void *userdata;
        const SourceContext *ctx;
} CsvStream;

/* Reads the whole stream into s. t collects line counts and bad-row samples (lines counted
 * from the first after the header). *ret_header_lines: the lines the header took;
 * *ret_empty: the stream held no header at all. Returns 0, what fill or header returned,
 * -ETIME past the deadline or on SIGTERM, or negative errno. */
int csv_stream_read(const CsvStream *st, Shard *s, ScanTask *t, uint64_t *ret_header_lines,
                    bool *ret_empty);
