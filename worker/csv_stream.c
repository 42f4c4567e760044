#include "csv_stream.h"

int csv_stream_read(const CsvStream *st, Shard *s, ScanTask *t, uint64_t *ret_header_lines,
                    bool *ret_empty)
{
        _cleanup_free_ char *buf = malloc(CSV_STREAM_BUFFER);
        if (!buf)
                return -ENOMEM;
        FileSchema schema;
        size_t len = 0;
        bool eof = false, header = false;
        CsvCursor c;
        csv_cursor_init(&c, NULL, 0, false); /* pointed at buf once it holds bytes */
        *ret_empty = false;
        int r = 0;
        while (r == 0) {
                if (source_expired(st->ctx)) {
                        r = -ETIME;
                        break;
                }
                if ((r = st->fill(st->userdata, buf, &len, CSV_STREAM_BUFFER, &eof)) != 0)
                        break;
                csv_cursor_reset(&c, buf, len, eof);
                if (!header) {
                        CsvField fields[SCAN_MAX_FIELDS];
                        size_t n = 0;
                        int k = csv_next(&c, fields, ELEMENTSOF(fields), &n);
                        if (k == CSV_END) {
                                *ret_empty = true;
                                break;
                        }
                        if (k < 0) {
                                r = k;
                                break;
                        }
                        if (k == CSV_NEED_MORE)
                                continue; /* the cursor has not moved: fill behind it */
                        if ((r = st->header(st->userdata, k, fields, n, &schema)) != 0)
                                break;
                        header = true;
                        *ret_header_lines = c.line - 1;
                        c.line = 1; /* data lines count from here, as in mapped tasks */
                }
                r = scan_records(s, &schema, &c, SIZE_MAX, t);
                if (r != SCAN_NEED_MORE)
                        break; /* the end of the stream, or a failure */
                r = 0;
                if (c.pos == 0 && len == CSV_STREAM_BUFFER) {
                        /* one record larger than the buffer: count it bad, skip to a LF */
                        const char *nl = memchr(buf, '\n', len);
                        shard_row_reject(s, BAD_TOO_LONG);
                        c.pos = nl ? (size_t)(nl - buf) + 1 : len;
                        c.line++;
                }
                memmove(buf, buf + c.pos, len - c.pos);
                len -= c.pos;
        }
        t->lines = c.line - 1;
        csv_cursor_done(&c);
        return r;
}
