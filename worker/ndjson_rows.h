/* NDJSON lines into a shard: the per-line loop the NDJSON file source and a command's
 * NDJSON output share.
 *
 * A string of a row points into its line or, when it had escapes, into the parser's
 * scratch, which the next line overwrites: those are copied into a window of ours so a
 * batch of rows can wait for shard_flush. The caller flushes (ndjson_rows_flush) before
 * the bytes its lines point into change. */
#pragma once

#include "ndjson.h"
#include "scan.h"

typedef struct NdjsonRows {
        NdjsonParser *parser;
        Shard *shard;
        ScanTask *task; /* lines counted, the first bad rows kept (line within the task) */
        char *side;     /* copies of escaped strings */
        size_t side_used;
} NdjsonRows;

int ndjson_rows_init(NdjsonRows *nr, const SourceConfig *src, Shard *shard, ScanTask *task);
void ndjson_rows_done(NdjsonRows *nr);

/* One line without its LF (counted in task->lines). 0 or negative errno. */
int ndjson_rows_line(NdjsonRows *nr, const char *line, size_t len);
/* Every LF-terminated line of [p, end) (a last line without LF too when at_end); returns
 * the bytes consumed. Lines longer than NDJSON_MAX_LINE_BYTES are rejected as they come. */
int ndjson_rows_lines(NdjsonRows *nr, const char *p, size_t n, bool at_end, size_t *ret_used);
/* Hands the batch to the shard: call before the bytes the lines were in change. */
int ndjson_rows_flush(NdjsonRows *nr);

#define NDJSON_STREAM_BUFFER (4u << 20) /* bytes held per stream: lines up to 1 MiB */

/* Appends bytes to buf[*len..cap), *eof at the end (as CsvStream's fill). 0 or -errno. */
typedef int (*NdjsonFill)(void *userdata, char *buf, size_t *len, size_t cap, bool *eof);

/* Reads a whole stream through a bounded window, checking the deadline between fills.
 * 0, what fill returned, -ETIME past the deadline or on SIGTERM, or negative errno. */
int ndjson_rows_stream(NdjsonRows *nr, NdjsonFill fill, void *userdata, const SourceContext *ctx);
