#include "ndjson_rows.h"

#include <stdio.h>

#define SIDE_WINDOW (2 * NDJSON_MAX_LINE_BYTES) /* a line's strings always fit after a flush */

int ndjson_rows_init(NdjsonRows *nr, const SourceConfig *src, Shard *shard, ScanTask *task)
{
        *nr = (NdjsonRows){.shard = shard, .task = task};
        NdjsonColumn cols[CONFIG_MAX_COLUMNS];
        for (size_t i = 0; i < src->n_columns; i++)
                cols[i] = (NdjsonColumn){src->columns[i].name, src->columns[i].type};
        int r = ndjson_parser_new(cols, src->n_columns, &nr->parser);
        if (r < 0)
                return r;
        if (!(nr->side = malloc(SIDE_WINDOW))) {
                ndjson_rows_done(nr);
                return -ENOMEM;
        }
        return 0;
}

void ndjson_rows_done(NdjsonRows *nr)
{
        nr->parser = ndjson_parser_free(nr->parser);
        free(nr->side);
        nr->side = NULL;
}

int ndjson_rows_flush(NdjsonRows *nr)
{
        nr->side_used = 0;
        return shard_flush(nr->shard);
}

/* ndjson.c names a value's column and type: "column \"NAME\" (TYPE): what". */
static BadReason reason_of(const SourceConfig *src, const char *why, int *ret_column)
{
        *ret_column = -1;
        if (strncmp(why, "line longer", 11) == 0)
                return BAD_TOO_LONG;
        if (strncmp(why, "column \"", 8) != 0)
                return BAD_JSON;
        const char *name = why + 8, *q = strchr(name, '"');
        if (!q)
                return BAD_JSON;
        for (size_t i = 0; i < src->n_columns; i++)
                if (strlen(src->columns[i].name) == (size_t)(q - name) &&
                    memcmp(src->columns[i].name, name, (size_t)(q - name)) == 0) {
                        *ret_column = (int)i;
                        switch (src->columns[i].type) {
                        case VALUE_INT: return BAD_INT;
                        case VALUE_NUM: return BAD_NUM;
                        case VALUE_TIME: return BAD_TIME;
                        default: return BAD_JSON;
                        }
                }
        return BAD_JSON;
}

static void reject(NdjsonRows *nr, BadReason why, int column)
{
        shard_row_reject(nr->shard, why);
        ScanTask *t = nr->task;
        if (t->n_samples < SOURCE_BAD_SAMPLES)
                t->samples[t->n_samples++] =
                    (ScanBad){.line = t->lines, .reason = why, .column = column};
}

int ndjson_rows_line(NdjsonRows *nr, const char *line, size_t len)
{
        const SourceConfig *src = nr->shard->plan->cfg;
        nr->task->lines++;
        if (len > NDJSON_MAX_LINE_BYTES) {
                reject(nr, BAD_TOO_LONG, -1);
                return 0;
        }
        Value *row = shard_row(nr->shard);
        const char *why = NULL;
        int st = ndjson_parse_line(nr->parser, line, len, row, &why);
        if (st == NDJSON_BLANK)
                return 0;
        if (st == NDJSON_BAD) {
                int column;
                BadReason r = reason_of(src, why, &column);
                reject(nr, r, column);
                return 0;
        }
        size_t escaped = 0;
        for (size_t i = 0; i < src->n_columns; i++)
                if (row[i].type == VALUE_STR && (row[i].s < line || row[i].s >= line + len))
                        escaped += row[i].len;
        if (escaped) {
                if (nr->side_used + escaped > SIDE_WINDOW) {
                        /* the row parsed is past the batch: flush what is before it */
                        Value saved[CONFIG_MAX_COLUMNS];
                        memcpy(saved, row, src->n_columns * sizeof(Value));
                        int r = ndjson_rows_flush(nr);
                        if (r < 0)
                                return r;
                        row = shard_row(nr->shard);
                        memcpy(row, saved, src->n_columns * sizeof(Value));
                }
                for (size_t i = 0; i < src->n_columns; i++)
                        if (row[i].type == VALUE_STR &&
                            (row[i].s < line || row[i].s >= line + len)) {
                                memcpy(nr->side + nr->side_used, row[i].s, row[i].len);
                                row[i].s = nr->side + nr->side_used;
                                nr->side_used += row[i].len;
                        }
        }
        int r = shard_row_commit(nr->shard);
        if (nr->shard->n_batch == 0)
                nr->side_used = 0;
        return r;
}

int ndjson_rows_lines(NdjsonRows *nr, const char *p, size_t n, bool at_end, size_t *ret_used)
{
        size_t pos = 0;
        int r = 0;
        while (pos < n && r == 0) {
                const char *lf = memchr(p + pos, '\n', n - pos);
                if (!lf && !at_end)
                        break;
                size_t end = lf ? (size_t)(lf - p) : n;
                r = ndjson_rows_line(nr, p + pos, end - pos);
                pos = lf ? end + 1 : n;
        }
        *ret_used = pos;
        return r;
}

int ndjson_rows_stream(NdjsonRows *nr, NdjsonFill fill, void *userdata, const SourceContext *ctx)
{
        _cleanup_free_ char *buf = malloc(NDJSON_STREAM_BUFFER);
        if (!buf)
                return -ENOMEM;
        size_t len = 0;
        bool eof = false, skipping = false; /* inside a line too long for the window */
        int r = 0;
        while (r == 0) {
                if (source_expired(ctx))
                        return -ETIME;
                if (!eof && len < NDJSON_STREAM_BUFFER &&
                    (r = fill(userdata, buf, &len, NDJSON_STREAM_BUFFER, &eof)) != 0)
                        break;
                size_t used = 0;
                if (skipping) {
                        const char *lf = memchr(buf, '\n', len);
                        if (lf) {
                                used = (size_t)(lf - buf) + 1;
                                skipping = false;
                        } else
                                used = len;
                } else if ((r = ndjson_rows_lines(nr, buf, len, eof, &used)) != 0)
                        break;
                if (!skipping && used == 0 && len == NDJSON_STREAM_BUFFER) {
                        /* a window without a LF: a line past NDJSON_MAX_LINE_BYTES */
                        nr->task->lines++;
                        reject(nr, BAD_TOO_LONG, -1);
                        skipping = true;
                        used = len;
                }
                if ((r = ndjson_rows_flush(nr)) < 0)
                        break;
                memmove(buf, buf + used, len - used);
                len -= used;
                if (eof && len == 0)
                        break;
        }
        return r;
}
