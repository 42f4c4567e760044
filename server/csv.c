#include "csv.h"

#include <math.h>

#include "doc.h"
#include "render.h"

void csv_field(Buf *b, const char *str, size_t n)
{
        const unsigned char *s = (const unsigned char *)str;
        bool quote = n == 0;
        for (size_t i = 0; i < n && !quote; i++)
                quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
        if (!buf_reserve(b, n + 2))
                return;
        if (quote)
                buf_putc(b, '"');
        size_t run = 0, i = 0; /* bytes copied as they are, flushed in one memcpy */
        while (i < n) {
                if (s[i] < 0x80 && s[i] != '"') {
                        run++;
                        i++;
                        continue;
                }
                size_t l = s[i] == '"' ? 0 : doc_utf8_sequence_length(s + i, n - i);
                if (l) {
                        run += l;
                        i += l;
                        continue;
                }
                buf_put(b, s + i - run, run);
                run = 0;
                if (s[i] == '"')
                        buf_put(b, "\"\"", 2);
                else
                        buf_put(b, "\xef\xbf\xbd", 3); /* U+FFFD, as in JSON */
                i++;
        }
        buf_put(b, s + i - run, run);
        if (quote)
                buf_putc(b, '"');
}

void csv_value(Buf *b, const Value *v)
{
        char t[64];
        switch (v->type) {
        case VALUE_STR: csv_field(b, v->s, v->len); break;
        case VALUE_NUM:
                if (!isfinite(v->d))
                        break; /* JSON's null */
                /* fall through */
        case VALUE_INT:
        case VALUE_TIME: buf_put(b, t, format_value_text(t, sizeof(t), v)); break;
        default: break; /* missing: empty */
        }
}

int render_csv_view(Served *sv, const SnapshotView *v, ViewBodies *out)
{
        _cleanup_(buf_donep) Buf b;
        buf_init_mapped(&b);
        for (size_t c = 0; c < v->n_columns; c++) {
                if (c)
                        buf_putc(&b, ',');
                csv_field(&b, v->columns[c].name, strlen(v->columns[c].name));
        }
        buf_put(&b, "\r\n", 2);
        size_t rows_start = b.len;
        out->sep = 0;
        out->off = served_alloc_mem(sv, (v->n_rows + 1) * sizeof(uint32_t), _Alignof(uint32_t));
        if (!out->off)
                return -ENOMEM;
        for (size_t r = 0; r < v->n_rows; r++) {
                const Value *row = snapshot_view_row(v, r);
                if (b.len - rows_start > UINT32_MAX)
                        return -EFBIG;
                out->off[r] = (uint32_t)(b.len - rows_start);
                for (size_t c = 0; c < v->n_columns; c++) {
                        if (c)
                                buf_putc(&b, ',');
                        csv_value(&b, &row[c]);
                }
                buf_put(&b, "\r\n", 2);
                if (!buf_ok(&b))
                        return -ENOMEM;
        }
        if (b.len - rows_start > UINT32_MAX)
                return -EFBIG;
        out->off[v->n_rows] = (uint32_t)(b.len - rows_start);
        if (!buf_ok(&b))
                return -ENOMEM;
        int r = served_keep_mapping(sv, &b, &out->full);
        if (r < 0)
                return r;
        out->head = (Piece){out->full.p, rows_start};
        out->row_prefix = out->head;
        out->head_cols = out->head;
        out->rows = out->full.p + rows_start;
        return render_gzip(sv, out->full, &out->full_gz);
}
