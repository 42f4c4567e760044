#include "csv.h"

#include "csv_simd.h"

void csv_cursor_init(CsvCursor *c, const char *buf, size_t len, bool eof)
{
        *c = (CsvCursor){.buf = buf, .len = len, .eof = eof, .line = 1};
}

void csv_cursor_done(CsvCursor *c)
{
        free(c->scratch);
        c->scratch = NULL;
        c->scratch_size = 0;
}

void csv_cursor_reset(CsvCursor *c, const char *buf, size_t len, bool eof)
{
        c->buf = buf;
        c->len = len;
        c->pos = 0;
        c->eof = eof;
}

const char *csv_status_to_string(int status)
{
        switch (status) {
        case CSV_RECORD: return "record";
        case CSV_END: return "end";
        case CSV_NEED_MORE: return "incomplete record";
        case CSV_BAD_QUOTE: return "bad quoting";
        case CSV_TOO_LONG: return "record too long";
        default: return "error";
        }
}

/* Byte classes for the unquoted scan: only ',' and '\n' end a field. A 256-byte table keeps
 * the loop to one load and one branch per byte. */
static const uint8_t field_end[256] = {[','] = 1, ['\n'] = 1};

/* Skips a record whose quoting went wrong: to the first LF at which an even number of '"'
 * has been seen since start. Returns CSV_BAD_QUOTE, or CSV_NEED_MORE (cursor unmoved). */
static int skip_bad_record(CsvCursor *c, size_t start, int status)
{
        const char *b = c->buf;
        bool in_quote = false;
        uint64_t lines = 0;
        size_t p = start;
        for (; p < c->len; p++) {
                if (b[p] == '"')
                        in_quote = !in_quote;
                else if (b[p] == '\n') {
                        if (!in_quote)
                                break;
                        lines++;
                }
        }
        if (p >= c->len && !c->eof)
                return CSV_NEED_MORE;
        c->rec_line = c->line;
        c->rec_start = start;
        c->line += lines + (p < c->len);
        c->pos = p < c->len ? p + 1 : c->len;
        return status;
}

/* Room for every unescaped field of the record starting at start: the record cannot be
 * longer than the bytes left in the buffer (or than CSV_MAX_RECORD_BYTES). Sized on the
 * record's first doubled quote, before any of its fields point into scratch, so pointers
 * never move within a record; between records they are dead (the engine aggregates a row
 * with scratch fields before reading the next record). */
static int scratch_reserve(CsvCursor *c, size_t start)
{
        size_t need = MIN((size_t)CSV_MAX_RECORD_BYTES, c->len - start);
        if (c->scratch_size >= need && c->scratch)
                return 0;
        need = MAX(need, MIN(c->scratch_size * 2, (size_t)CSV_MAX_RECORD_BYTES));
        char *p = malloc(MAX(need, (size_t)64));
        if (!p)
                return -ENOMEM;
        free(c->scratch);
        c->scratch = p;
        c->scratch_size = MAX(need, (size_t)64);
        return 0;
}

#if defined(CSV_SIMD)
CsvSimdLevel csv_simd_level(void)
{
        static int level = -1; /* threads racing on the first call store the same */
        int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
        if (_likely_(l >= 0))
                return (CsvSimdLevel)l;
        __builtin_cpu_init();
        l = __builtin_cpu_supports("avx512bw") ? CSV_SIMD_AVX512
            : __builtin_cpu_supports("avx2")   ? CSV_SIMD_AVX2
                                               : CSV_SIMD_SSE2;
        const char *cap = getenv("TALLY_WORKER_SIMD");
        if (cap && strcmp(cap, "sse2") == 0)
                l = CSV_SIMD_SSE2;
        else if (cap && strcmp(cap, "avx2") == 0)
                l = MIN(l, (int)CSV_SIMD_AVX2);
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
        return (CsvSimdLevel)l;
}

/* The common record: no quote anywhere, fully inside the buffer. A block at a time
 * (csv_simd.h), the positions of ',' and LF come out of one compare each and fields are cut
 * at their bits. Returns false (cursor untouched) for anything else, which the general path
 * then handles. */
#define FAST_FIELD(fp, fk)                                                        \
        do {                                                                      \
                if (n < max_fields)                                               \
                        fields[n] = (CsvField){.p = (fp), .len = (uint32_t)(fk)}; \
                n++;                                                              \
        } while (0)
#define DEFINE_FAST_RECORD(name, attr, W, masks)                                                \
        attr static bool name(CsvCursor *c, CsvField *fields, size_t max_fields, size_t *ret_n) \
        {                                                                                       \
                size_t n = 0;                                                                   \
                CSV_CUT_RECORD(W, masks, c, FAST_FIELD, {                                       \
                        *ret_n = n;                                                             \
                        return true;                                                            \
                });                                                                             \
                return false;                                                                   \
        }

DEFINE_FAST_RECORD(fast_record_16, , 16, CSV_MASKS_16)
DEFINE_FAST_RECORD(fast_record_32, CSV_TARGET_AVX2, 32, CSV_MASKS_32)

/* At most 32 bytes a block here: with AVX-512 blocks csv_next alone took 48-52 ns a record
 * of the 2M-row file against 36-39 ns with AVX2 (bench/scan-limit, best of 7, three
 * rounds), while the fused scan (scan.c), which does more per block, gains a little. */
static bool fast_record(CsvCursor *c, CsvField *fields, size_t max_fields, size_t *ret_n)
{
        if (csv_simd_level() >= CSV_SIMD_AVX2)
                return fast_record_32(c, fields, max_fields, ret_n);
        return fast_record_16(c, fields, max_fields, ret_n);
}
#endif

int csv_next(CsvCursor *c, CsvField *fields, size_t max_fields, size_t *ret_n)
{
        const char *b = c->buf;
        size_t len = c->len, p = c->pos;

        /* blank lines (LF or CRLF) carry no record */
        for (;;) {
                if (p >= len) {
                        c->pos = p;
                        return c->eof ? CSV_END : CSV_NEED_MORE;
                }
                if (b[p] == '\n') {
                        p++;
                        c->line++;
                } else if (b[p] == '\r' && (p + 1 < len ? b[p + 1] == '\n' : !c->eof)) {
                        if (p + 1 >= len) {
                                c->pos = p;
                                return CSV_NEED_MORE;
                        }
                        p += 2;
                        c->line++;
                } else
                        break;
        }
        c->pos = p;
#if defined(CSV_SIMD)
        if (fast_record(c, fields, max_fields, ret_n))
                return CSV_RECORD;
#endif

        const size_t start = p;
        size_t n = 0, scratch_used = 0;
        c->used_scratch = false;
        uint64_t inner_lines = 0;
        for (;;) {
                CsvField f = {.p = b + p};
                bool last;
                if (p < len && b[p] == '"') {
                        /* quoted: copy only when a doubled quote forces unescaping */
                        size_t q = p + 1, seg = q;
                        char *out = NULL;
                        f.quoted = true;
                        for (;;) {
                                const char *hit = memchr(b + q, '"', len - q);
                                if (!hit) {
                                        if (!c->eof)
                                                return CSV_NEED_MORE;
                                        return skip_bad_record(c, start, CSV_BAD_QUOTE);
                                }
                                q = (size_t)(hit - b);
                                if (q + 1 < len && b[q + 1] == '"') {
                                        /* doubled quote: flush the segment with one quote */
                                        if (!out && scratch_reserve(c, start) < 0)
                                                return -ENOMEM;
                                        size_t k = q + 1 - seg;
                                        if (scratch_used + k > c->scratch_size)
                                                return skip_bad_record(c, start, CSV_TOO_LONG);
                                        if (!out)
                                                out = c->scratch + scratch_used;
                                        memcpy(c->scratch + scratch_used, b + seg, k);
                                        scratch_used += k;
                                        q += 2;
                                        seg = q;
                                        continue;
                                }
                                if (q + 1 >= len && !c->eof)
                                        return CSV_NEED_MORE; /* "" may straddle the end */
                                break;
                        }
                        if (out) {
                                size_t k = q - seg;
                                if (scratch_used + k > c->scratch_size)
                                        return skip_bad_record(c, start, CSV_TOO_LONG);
                                memcpy(c->scratch + scratch_used, b + seg, k);
                                scratch_used += k;
                                f.p = out;
                                f.len = (uint32_t)(c->scratch + scratch_used - out);
                                c->used_scratch = true;
                        } else {
                                f.p = b + p + 1;
                                f.len = (uint32_t)MIN(q - p - 1, (size_t)UINT32_MAX);
                        }
                        for (const char *s = b + p + 1; (s = memchr(s, '\n', (size_t)(b + q - s)));
                             s++)
                                inner_lines++;
                        q++; /* past the closing quote */
                        if (q >= len) {
                                last = true;
                        } else if (b[q] == ',') {
                                last = false;
                        } else if (b[q] == '\n') {
                                last = true;
                        } else if (b[q] == '\r' && q + 1 < len && b[q + 1] == '\n') {
                                last = true;
                                q++;
                        } else if (b[q] == '\r' && q + 1 >= len && !c->eof) {
                                return CSV_NEED_MORE;
                        } else
                                return skip_bad_record(c, start, CSV_BAD_QUOTE);
                        p = q + 1;
                } else {
                        size_t q = p;
                        while (q < len && !field_end[(uint8_t)b[q]])
                                q++;
                        if (q >= len && !c->eof)
                                return CSV_NEED_MORE;
                        last = q >= len || b[q] == '\n';
                        size_t k = q - p;
                        if (last && k > 0 && b[q - 1] == '\r')
                                k--;
                        f.len = (uint32_t)MIN(k, (size_t)UINT32_MAX);
                        p = q + 1;
                }
                if (n < max_fields)
                        fields[n] = f;
                n++;
                if (last)
                        break;
        }
        if (p > len)
                p = len;
        if (p - start > CSV_MAX_RECORD_BYTES) {
                c->rec_line = c->line;
                c->rec_start = start;
                c->line += inner_lines + 1;
                c->pos = p;
                return CSV_TOO_LONG;
        }
        c->rec_line = c->line;
        c->rec_start = start;
        c->line += inner_lines + 1;
        c->pos = p;
        *ret_n = n;
        return CSV_RECORD;
}

long csv_parse_buffer(const char *buf, size_t len, CsvRecordFn fn, void *userdata)
{
        CsvCursor c;
        CsvField fields[CSV_MAX_FIELDS];
        long count = 0;
        csv_cursor_init(&c, buf, len, true);
        for (;;) {
                size_t n = 0;
                int r = csv_next(&c, fields, ELEMENTSOF(fields), &n);
                if (r == CSV_END)
                        break;
                if (r < 0) {
                        csv_cursor_done(&c);
                        return r;
                }
                count++;
                if (fn && fn(r, fields, MIN(n, ELEMENTSOF(fields)), c.rec_line, userdata) != 0)
                        break;
        }
        csv_cursor_done(&c);
        return count;
}
