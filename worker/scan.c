#include "scan.h"

#include "csv_simd.h"
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

/* What a scan of one task needs per field: the column a header field is (-1 for a field
 * no view reads: cut, counted, never converted, so its Value stays nil, as the batch was
 * zeroed and nothing writes it) and that column's type. */
typedef struct ScanPlan {
        size_t nf, nc;
        int16_t col[SCAN_MAX_FIELDS];
        uint8_t type[SCAN_MAX_FIELDS];
} ScanPlan;

/* A field's bytes into x as type; 0, or -EINVAL with *why saying what it is not. An
 * empty field (not "") is a missing value. */
static inline __attribute__((always_inline)) int
convert_field(Value *x, ValueType type, const char *p, uint32_t len, bool quoted, BadReason *why)
{
        if (len == 0 && !quoted) {
                x->type = VALUE_NIL;
                return 0;
        }
        x->type = (uint8_t)type;
        switch (type) {
        case VALUE_STR:
                x->s = p;
                x->len = len;
                return 0;
        case VALUE_INT: *why = BAD_INT; return parse_int_field(p, len, &x->i);
        case VALUE_NUM: *why = BAD_NUM; return parse_num_field(p, len, &x->d);
        case VALUE_TIME:
                *why = BAD_TIME;
                return len > 64 ? -EINVAL : parse_time_usec(p, len, &x->i);
        default: *why = BAD_NUM; return -EINVAL;
        }
}

/* A record read, or rejected: counted, sampled, committed into the batch. */
static inline __attribute__((always_inline)) int record_done(Shard *s, ScanTask *t,
                                                             const CsvCursor *c, size_t n,
                                                             size_t nf, int bad_col, BadReason why)
{
        t->stop = c->pos;
        if (n != nf) {
                bad_row(s, t, c->rec_line, BAD_FIELD_COUNT, -1);
                return 0;
        }
        if (bad_col >= 0) {
                bad_row(s, t, c->rec_line, why, bad_col);
                return 0;
        }
        int r = shard_row_commit(s);
        if (r < 0)
                return r;
        /* unescaped fields live in scratch space the next record reuses */
        return c->used_scratch ? shard_flush(s) : 0;
}

/* Any record through the tokenizer (csv.h), then its fields converted. Returns 0, a
 * SCAN_ outcome + 1, or negative errno. */
static int scan_general(Shard *s, const ScanPlan *sp, CsvCursor *c, ScanTask *t, Value *row)
{
        CsvField fields[SCAN_MAX_FIELDS];
        size_t n;
        int r = csv_next(c, fields, sp->nf, &n);
        if (r == CSV_END) {
                r = shard_flush(s);
                return r < 0 ? r : SCAN_DONE + 1;
        }
        if (r == CSV_NEED_MORE) {
                /* a stream is about to move its buffer under the batched rows */
                r = shard_flush(s);
                return r < 0 ? r : SCAN_NEED_MORE + 1;
        }
        if (r < 0)
                return r;
        if (r != CSV_RECORD) {
                t->stop = c->pos;
                bad_row(s, t, c->rec_line, r == CSV_TOO_LONG ? BAD_TOO_LONG : BAD_QUOTING, -1);
                return 0;
        }
        int bad_col = -1;
        BadReason why = BAD_NUM;
        for (size_t i = 0; i < sp->nf && n == sp->nf; i++) {
                int col = sp->col[i];
                if (col >= 0 && convert_field(&row[col], sp->type[i], fields[i].p, fields[i].len,
                                              fields[i].quoted, &why) < 0) {
                        bad_col = col;
                        break;
                }
        }
        return record_done(s, t, c, n, sp->nf, bad_col, why);
}

#if defined(CSV_SIMD)
/* The common record, cut and converted in one pass: no quote, not blank, fully inside the
 * buffer. The tokenizer's fast path (csv.c) with each field converted where it is cut,
 * instead of stored as a CsvField and read back by a second loop over every field: Q1 ...
 * Leaves took false (nothing consumed) for any other record, which scan_general reads. */
#define FAST_RECORD(W, masks, c, sp, row, r, took)                              \
        do {                                                                    \
                if ((c)->pos >= (c)->len || (c)->buf[(c)->pos] == '\n' ||       \
                    (c)->buf[(c)->pos] == '\r')                                 \
                        break;                                                  \
                size_t i_ = 0;                                                  \
                int bad_col_ = -1;                                              \
                BadReason why_ = BAD_NUM;                                       \
                CSV_CUT_RECORD(W, masks, c, FAST_FIELD, {                       \
                        r = record_done(s, t, c, i_, (sp)->nf, bad_col_, why_); \
                        took = true;                                            \
                });                                                             \
        } while (0)
/* field i_ of the record (the first nf of them, until one fails) */
#define FAST_FIELD(p, n)                                                                 \
        do {                                                                             \
                if (i_ < sp->nf && bad_col_ < 0) {                                       \
                        int col_ = sp->col[i_];                                          \
                        if (col_ >= 0 && convert_field(&row[col_], sp->type[i_], (p),    \
                                                       (uint32_t)(n), false, &why_) < 0) \
                                bad_col_ = col_;                                         \
                }                                                                        \
                i_++;                                                                    \
        } while (0)

#define DEFINE_SCAN_LOOP(name, attr, W, masks)                                         \
        attr static int name(Shard *s, const ScanPlan *sp, CsvCursor *c, size_t limit, \
                             ScanTask *t)                                              \
        {                                                                              \
                for (;;) {                                                             \
                        if (c->pos >= limit)                                           \
                                return shard_flush(s);                                 \
                        Value *row = s->batch + s->n_batch * sp->nc;                   \
                        int r = 0;                                                     \
                        bool took = false;                                             \
                        FAST_RECORD(W, masks, c, sp, row, r, took);                    \
                        if (!took)                                                     \
                                r = scan_general(s, sp, c, t, row);                    \
                        if (r != 0)                                                    \
                                return r < 0 ? r : r - 1;                              \
                }                                                                      \
        }
#endif

static int scan_loop_plain(Shard *s, const ScanPlan *sp, CsvCursor *c, size_t limit, ScanTask *t)
{
        for (;;) {
                if (c->pos >= limit)
                        return shard_flush(s);
                int r = scan_general(s, sp, c, t, s->batch + s->n_batch * sp->nc);
                if (r != 0)
                        return r < 0 ? r : r - 1;
        }
}

#if defined(CSV_SIMD)
DEFINE_SCAN_LOOP(scan_loop_16, , 16, CSV_MASKS_16)
DEFINE_SCAN_LOOP(scan_loop_32, CSV_TARGET_AVX2, 32, CSV_MASKS_32)
DEFINE_SCAN_LOOP(scan_loop_64, CSV_TARGET_AVX512, 64, CSV_MASKS_64)
#endif

int scan_records(Shard *s, const FileSchema *fs, CsvCursor *c, size_t limit, ScanTask *t)
{
        const SourceConfig *src = s->plan->cfg;
        ScanPlan sp = {.nf = fs->n_fields, .nc = src->n_columns};
        for (size_t i = 0; i < sp.nf; i++) {
                int col = fs->field_col[i];
                sp.col[i] = col >= 0 && s->plan->used[col] ? (int16_t)col : -1;
                sp.type[i] = col >= 0 ? (uint8_t)src->columns[col].type : 0;
        }
#if defined(CSV_SIMD)
        switch (csv_simd_level()) {
        case CSV_SIMD_AVX512: return scan_loop_64(s, &sp, c, limit, t);
        case CSV_SIMD_AVX2: return scan_loop_32(s, &sp, c, limit, t);
        default: return scan_loop_16(s, &sp, c, limit, t);
        }
#endif
        return scan_loop_plain(s, &sp, c, limit, t);
}
