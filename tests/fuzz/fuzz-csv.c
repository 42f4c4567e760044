/* The worker's CSV tokenizer and field parsers, on any bytes.
 *
 * Checks, beyond "no crash, no leak":
 * - Streaming equals whole-buffer: feeding the bytes in small chunks through csv_next
 *   (CSV_NEED_MORE, csv_cursor_reset) yields exactly the records, fields, statuses and line
 *   numbers csv_parse_buffer yields on the whole buffer. The engine splits files between
 *   threads and reads them in blocks, so a record must not depend on where a block ends.
 * - parse_int_field and parse_num_field agree with strtoll and strtod on what they accept.
 * The first input byte picks the chunk size. */
#include <math.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"
#include "log.h"
#include "numparse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        log_set_max_level(LOG_EMERG);
        return 0;
}

typedef struct Trace {
        uint8_t *buf;
        size_t len, cap;
} Trace;

static void trace_add(Trace *t, const void *p, size_t n)
{
        if (n == 0)
                return;
        if (t->len + n > t->cap) {
                size_t cap = MAX(t->cap * 2, t->len + n + 256);
                uint8_t *b = realloc(t->buf, cap);
                FUZZ_ASSERT(b);
                t->buf = b;
                t->cap = cap;
        }
        memcpy(t->buf + t->len, p, n);
        t->len += n;
}

static void check_field(const CsvField *f)
{
        int64_t i;
        double d;
        if (parse_int_field(f->p, f->len, &i) == 0) {
                char tmp[32];
                FUZZ_ASSERT(f->len < sizeof(tmp));
                memcpy(tmp, f->p, f->len);
                tmp[f->len] = 0;
                char *end;
                errno = 0;
                long long v = strtoll(tmp, &end, 10);
                FUZZ_ASSERT(errno == 0 && *end == 0 && v == i);
        }
        if (parse_num_field(f->p, f->len, &d) == 0) {
                char *tmp = malloc(f->len + 1);
                FUZZ_ASSERT(tmp);
                memcpy(tmp, f->p, f->len);
                tmp[f->len] = 0;
                char *end;
                double v = strtod(tmp, &end);
                if (*end != 0 || !(v == d || (isnan(v) && isnan(d))) || !isfinite(d))
                        fprintf(stderr, "parse_num_field(\"%s\") = %.17g, strtod = %.17g\n", tmp, d,
                                v);
                FUZZ_ASSERT(*end == 0 && isfinite(d));
                /* the fast path claims correct rounding: bit-identical to strtod */
                FUZZ_ASSERT(memcmp(&v, &d, sizeof(d)) == 0);
                free(tmp);
        }
}

static void record(Trace *t, int status, const CsvField *fields, size_t n, uint64_t line,
                   bool check)
{
        uint64_t hdr[3] = {(uint64_t)(int64_t)status, n, line};
        trace_add(t, hdr, sizeof(hdr));
        if (status != CSV_RECORD)
                return;
        for (size_t i = 0; i < MIN(n, (size_t)CSV_MAX_FIELDS); i++) {
                uint32_t meta[2] = {fields[i].len, fields[i].quoted};
                trace_add(t, meta, sizeof(meta));
                trace_add(t, fields[i].p, fields[i].len);
                if (check)
                        check_field(&fields[i]);
        }
}

static int on_record(int status, const CsvField *fields, size_t n, uint64_t line, void *userdata)
{
        record(userdata, status, fields, n, line, true);
        return 0;
}

/* Feeds data[0..size) in chunks as a reader refilling a window would. */
static void stream(const char *data, size_t size, size_t chunk, Trace *t)
{
        static CsvField fields[CSV_MAX_FIELDS];
        CsvCursor c;
        size_t base = 0, end = MIN(size, chunk);
        csv_cursor_init(&c, data, end, end == size);
        for (unsigned guard = 0;; guard++) {
                FUZZ_ASSERT(guard < 4 * size + 16); /* progress: no endless NEED_MORE */
                size_t n = 0;
                int r = csv_next(&c, fields, CSV_MAX_FIELDS, &n);
                if (r == CSV_END)
                        break;
                FUZZ_ASSERT(r != -ENOMEM);
                if (r == CSV_NEED_MORE) {
                        FUZZ_ASSERT(!c.eof);
                        base += c.pos;
                        end = MIN(size, end + chunk);
                        csv_cursor_reset(&c, data + base, end - base, end == size);
                        continue;
                }
                record(t, r, fields, n, c.rec_line, false);
        }
        csv_cursor_done(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t chunk = 1 + data[0] % 64;
        const char *text = (const char *)data + 1;
        size -= 1;

        Trace whole = {}, streamed = {};
        long n = csv_parse_buffer(text, size, on_record, &whole);
        FUZZ_ASSERT(n >= 0);
        stream(text, size, chunk, &streamed);
        if (whole.len != streamed.len ||
            (whole.len && memcmp(whole.buf, streamed.buf, whole.len) != 0)) {
                fprintf(stderr, "chunk %zu: streamed records differ from whole-buffer ones\n",
                        chunk);
                abort();
        }
        free(whole.buf);
        free(streamed.buf);
        return 0;
}
