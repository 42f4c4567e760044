#include "scan.h"

#include "numparse.h"
#include "timeparse.h"

int file_schema_build(FileSchema *fs, const SourceConfig *src, const CsvField *header, size_t n,
                      size_t *ret_missing)
{
        if (n > SCAN_MAX_FIELDS)
                return -E2BIG;
        fs->n_fields = n;
        bool seen[CONFIG_MAX_COLUMNS] = {};
        for (size_t i = 0; i < n; i++) {
                const char *p = header[i].p;
                size_t len = header[i].len;
                if (i == 0 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
                        p += 3; /* a UTF-8 byte order mark is not part of the name */
                        len -= 3;
                }
                fs->field_col[i] = -1;
                for (size_t c = 0; c < src->n_columns; c++)
                        if (!seen[c] && strlen(src->columns[c].name) == len &&
                            memcmp(src->columns[c].name, p, len) == 0) {
                                fs->field_col[i] = (int16_t)c;
                                seen[c] = true;
                                break;
                        }
        }
        for (size_t c = 0; c < src->n_columns; c++)
                if (!seen[c]) {
                        *ret_missing = c;
                        return SCHEMA_MISSING_COLUMN;
                }
        return SCHEMA_OK;
}

static void bad_row(Shard *s, ScanTask *t, uint64_t line, BadReason reason, int column)
{
        shard_row_reject(s, reason);
        if (t->n_samples < SOURCE_BAD_SAMPLES)
                t->samples[t->n_samples++] = (ScanBad){line, reason, column};
}

int scan_records(Shard *s, const FileSchema *fs, CsvCursor *c, size_t limit, ScanTask *t)
{
        const SourceConfig *src = s->plan->cfg;
        CsvField fields[SCAN_MAX_FIELDS];
        const size_t nf = fs->n_fields, nc = src->n_columns;
        /* fields no view reads are cut (the field count is checked) but not converted: their
         * Value stays nil, as the batch was zeroed and nothing writes it */
        int16_t field_col[SCAN_MAX_FIELDS];
        for (size_t i = 0; i < nf; i++) {
                int col = fs->field_col[i];
                field_col[i] = col >= 0 && s->plan->used[col] ? (int16_t)col : -1;
        }
        for (;;) {
                if (c->pos >= limit)
                        return shard_flush(s);
                size_t n;
                int r = csv_next(c, fields, nf, &n);
                if (r == CSV_END)
                        return shard_flush(s);
                if (r == CSV_NEED_MORE) {
                        /* a stream is about to move its buffer under the batched rows */
                        r = shard_flush(s);
                        return r < 0 ? r : SCAN_NEED_MORE;
                }
                if (r < 0)
                        return r;
                Value *row = s->batch + s->n_batch * nc; /* shard_row(), nc kept in a register */
                t->stop = c->pos;
                if (r != CSV_RECORD) {
                        bad_row(s, t, c->rec_line, r == CSV_TOO_LONG ? BAD_TOO_LONG : BAD_QUOTING,
                                -1);
                        continue;
                }
                if (n != nf) {
                        bad_row(s, t, c->rec_line, BAD_FIELD_COUNT, -1);
                        continue;
                }
                int bad_col = -1;
                BadReason why = BAD_NUM;
                for (size_t i = 0; i < nf; i++) {
                        int col = field_col[i];
                        if (col < 0)
                                continue;
                        const CsvField *f = &fields[i];
                        Value *x = &row[col];
                        if (f->len == 0 && !f->quoted) {
                                x->type = VALUE_NIL; /* an empty field is a missing value */
                                continue;
                        }
                        ValueType type = src->columns[col].type;
                        x->type = (uint8_t)type;
                        int k = 0;
                        switch (type) {
                        case VALUE_STR:
                                x->s = f->p;
                                x->len = f->len;
                                break;
                        case VALUE_INT:
                                k = parse_int_field(f->p, f->len, &x->i);
                                why = BAD_INT;
                                break;
                        case VALUE_NUM:
                                k = parse_num_field(f->p, f->len, &x->d);
                                why = BAD_NUM;
                                break;
                        case VALUE_TIME:
                                k = f->len > 64 ? -EINVAL : parse_time_usec(f->p, f->len, &x->i);
                                why = BAD_TIME;
                                break;
                        default: k = -EINVAL;
                        }
                        if (k < 0) {
                                bad_col = col;
                                break;
                        }
                }
                if (bad_col >= 0) {
                        bad_row(s, t, c->rec_line, why, bad_col);
                        continue;
                }
                if ((r = shard_row_commit(s)) < 0)
                        return r;
                /* unescaped fields live in scratch space the next record reuses */
                if (c->used_scratch && (r = shard_flush(s)) < 0)
                        return r;
        }
}
