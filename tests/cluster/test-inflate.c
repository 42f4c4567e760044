/* tally-sync's inflate is the one place where a small message turns into a large buffer:
 * the announced size is the hard bound and must be met exactly. Real libdeflate streams,
 * honest and hostile. */
#include <libdeflate.h>

#include "deflatefix.h"
#include "inflate.h"
#include "test.h"

static char *text(size_t n)
{
        char *t = malloc(n);
        for (size_t i = 0; i < n; i++)
                t[i] = "tally snapshot row "[i % 19] + (char)(i / 4096 % 3);
        return t;
}

static void exact_size_inflates(void)
{
        size_t n = 200000, dl;
        char *raw = text(n), *d = deflatefix_compress(raw, n, 6, &dl), reason[256] = "";
        void *out = NULL;
        CHECK(dl > 0 && dl < n);
        CHECK_EQ_INT(inflate_exact(d, dl, n, &out, reason, sizeof(reason)), INFLATE_OK);
        CHECK(memcmp(out, raw, n) == 0);
        free(out);
        free(raw);
        free(d);
}

/* What a refused stream is made of: n bytes of text (zeros for a bomb) deflated, then
 * damaged; or the text as is; or no deflate at all. */
typedef enum Input {
        INPUT_DEFLATED,
        INPUT_TRUNCATED, /* the first half of the deflated text */
        INPUT_TRAILING,  /* the deflated text and 7 more bytes */
        INPUT_JUNK,      /* a reserved block type */
        INPUT_BOMB,
        INPUT_RAW,
} Input;

/* One refusal: the stream, the size announced for it, and the reason's words (if set). */
typedef struct RefusalRow {
        const char *name;
        Input input;
        size_t n, announced;
        const char *want;
} RefusalRow;

/* The row's stream, malloc'd; its length in *len. */
static char *input_of(const RefusalRow *row, size_t *len)
{
        static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        /* one byte more than used: an empty input is still a buffer */
        char *in = row->input == INPUT_BOMB ? calloc(row->n, 1) : text(row->n + 1), *out;
        switch (row->input) {
        case INPUT_RAW: *len = row->n; return in;
        case INPUT_JUNK:
                free(in);
                *len = sizeof(junk);
                return memcpy(malloc(sizeof(junk)), junk, sizeof(junk));
        default:
                out = deflatefix_compress(in, row->n, 6, len);
                free(in);
                break;
        }
        if (row->input == INPUT_TRUNCATED)
                *len /= 2;
        if (row->input == INPUT_TRAILING) {
                out = realloc(out, *len + 7);
                memset(out + *len, 'x', 7);
                *len += 7;
        }
        return out;
}

/* inflate_exact() refuses the stream, allocating nothing. */
static void check_exact_refused(const RefusalRow *row)
{
        size_t len;
        char *in = input_of(row, &len), reason[256] = "";
        void *out = NULL;
        if (row->input == INPUT_BOMB)
                CHECK(len < row->n / 500); /* a real bomb */
        int r = inflate_exact(in, len, row->announced, &out, reason, sizeof(reason));
        free(in);
        CHECK_EQ_INT(r, INFLATE_REFUSED);
        CHECK(out == NULL);
        if (row->want)
                CHECK(strstr(reason, row->want));
}

static void check_exact_refusals(const RefusalRow *rows, size_t n)
{
        for (size_t i = 0; i < n; i++)
                TEST_ROW(rows[i].name, check_exact_refused(&rows[i]));
}

static void wrong_sizes_are_refused(void)
{
        static const RefusalRow rows[] = {
            /* announced more than it holds: ends short */
            {"announced one byte more", INPUT_DEFLATED, 200000, 200001,
             "inflate to 200000 bytes, 200001 announced"},
            /* announced less: stops at the bound (a bomb costs the announced size, no more) */
            {"announced one byte less", INPUT_DEFLATED, 200000, 199999,
             "more than the 199999 announced"},
        };
        check_exact_refusals(rows, ELEMENTSOF(rows));
}

static void bomb_is_bounded(void)
{
        static const RefusalRow rows[] = {
            {"64 MiB of zeros announced as 1 MiB", INPUT_BOMB, 64 << 20, 1 << 20,
             "more than the 1048576 announced"},
        };
        check_exact_refusals(rows, ELEMENTSOF(rows));
}

static void damaged_streams_are_refused(void)
{
        static const RefusalRow rows[] = {
            {"truncated", INPUT_TRUNCATED, 200000, 200000, "not a complete deflate stream"},
            {"trailing bytes after a complete stream", INPUT_TRAILING, 200000, 200000,
             "7 bytes follow the end of the deflate stream"},
            {"not deflate at all", INPUT_JUNK, 200000, 200000, NULL},
        };
        check_exact_refusals(rows, ELEMENTSOF(rows));
}

/* deflate-chunks: each chunk into its own slice of one buffer, exactly. */
static void chunks_fill_their_slices(void)
{
        size_t n = 300000, slice = 100000, dl;
        char *raw = text(n), *out = malloc(n), reason[256] = "";
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        memset(out, '?', n);
        /* slice 0 deflated, slice 1 as is, slice 2 deflated */
        for (size_t i = 0; i < 3; i++) {
                char *z = deflatefix_compress(raw + i * slice, slice, 6, &dl);
                CHECK(dl > 0 && dl < slice);
                CHECK_EQ_INT(inflate_chunk(d, i == 1 ? raw + slice : z, i == 1 ? slice : dl,
                                           out + i * slice, slice, reason, sizeof(reason)),
                             INFLATE_OK);
                free(z);
        }
        CHECK(memcmp(out, raw, n) == 0);
        libdeflate_free_decompressor(d);
        free(out);
        free(raw);
}

/* inflate_chunk() refuses the stream for a slice of row->announced bytes, never writing
 * past the slice; d is reused from row to row, as tally-sync reuses it. */
static void check_chunk_refused(struct libdeflate_decompressor *d, const RefusalRow *row)
{
        size_t len, slice = row->announced;
        char *in = input_of(row, &len), *out = malloc(slice + 4096), reason[256] = "";
        memset(out + slice, 'G', 4096);
        int r = inflate_chunk(d, in, len, out, slice, reason, sizeof(reason));
        bool guard = out[slice] == 'G' && out[slice + 4095] == 'G';
        free(in);
        free(out);
        CHECK_EQ_INT(r, INFLATE_REFUSED);
        CHECK(guard);
        CHECK(strstr(reason, row->want));
}

static void lying_chunks_are_refused(void)
{
        static const RefusalRow rows[] = {
            {"deflated from one byte less than its slice: inflates short", INPUT_DEFLATED, 99999,
             100000, "inflate to 99999 bytes, 100000 announced"},
            {"deflated from one byte more: stops at the slice", INPUT_DEFLATED, 100001, 100000,
             "more than the 100000 announced"},
            {"longer than its slice", INPUT_RAW, 100001, 100000,
             "100001 bytes for a slice of 100000"},
            {"empty", INPUT_RAW, 0, 100000, "0 bytes for a slice of 100000"},
            {"a bomb in one chunk costs the slice, no more", INPUT_BOMB, 8 << 20, 100000,
             "more than the 100000 announced"},
        };
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].name, check_chunk_refused(d, &rows[i]));
        libdeflate_free_decompressor(d);
}

TEST_MAIN(TEST_CASE(chunks_fill_their_slices), TEST_CASE(lying_chunks_are_refused),
          TEST_CASE(exact_size_inflates), TEST_CASE(wrong_sizes_are_refused),
          TEST_CASE(bomb_is_bounded), TEST_CASE(damaged_streams_are_refused))
