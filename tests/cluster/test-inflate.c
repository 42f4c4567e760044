/* tally-sync's inflate is the one place where a small message turns into a large buffer:
 * the announced size is the hard bound and must be met exactly. Real libdeflate streams,
 * honest and hostile. */
#include <libdeflate.h>

#include "inflate.h"
#include "test.h"

/* n bytes of compressible text deflated into a malloc'd buffer; its length in *out_len. */
static char *deflate_of(const char *in, size_t n, size_t *out_len)
{
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
        size_t cap = libdeflate_deflate_compress_bound(c, n);
        char *out = malloc(cap);
        *out_len = libdeflate_deflate_compress(c, in, n, out, cap);
        libdeflate_free_compressor(c);
        return out;
}

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
        char *raw = text(n), *d = deflate_of(raw, n, &dl), reason[256] = "";
        void *out = NULL;
        CHECK(dl > 0 && dl < n);
        CHECK_EQ_INT(inflate_exact(d, dl, n, &out, reason, sizeof(reason)), INFLATE_OK);
        CHECK(memcmp(out, raw, n) == 0);
        free(out);
        free(raw);
        free(d);
}

static void wrong_sizes_are_refused(void)
{
        size_t n = 200000, dl;
        char *raw = text(n), *d = deflate_of(raw, n, &dl), reason[256] = "";
        void *out = NULL;
        /* announced more than it holds: ends short */
        CHECK_EQ_INT(inflate_exact(d, dl, n + 1, &out, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "inflate to 200000 bytes, 200001 announced"));
        /* announced less: stops at the bound (a bomb costs the announced size, no more) */
        CHECK_EQ_INT(inflate_exact(d, dl, n - 1, &out, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "more than the 199999 announced"));
        CHECK(out == NULL);
        free(raw);
        free(d);
}

static void bomb_is_bounded(void)
{
        size_t n = 64 << 20, dl;
        char *zeros = calloc(n, 1), *d = deflate_of(zeros, n, &dl), reason[256] = "";
        void *out = NULL;
        CHECK(dl < n / 500); /* a real bomb */
        CHECK_EQ_INT(inflate_exact(d, dl, 1 << 20, &out, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "more than the 1048576 announced"));
        free(zeros);
        free(d);
}

static void damaged_streams_are_refused(void)
{
        size_t n = 200000, dl;
        char *raw = text(n), *d = deflate_of(raw, n, &dl), reason[256] = "";
        void *out = NULL;
        /* truncated */
        CHECK_EQ_INT(inflate_exact(d, dl / 2, n, &out, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "not a complete deflate stream"));
        /* trailing bytes after a complete stream */
        char *longer = malloc(dl + 7);
        memcpy(longer, d, dl);
        memset(longer + dl, 'x', 7);
        CHECK_EQ_INT(inflate_exact(longer, dl + 7, n, &out, reason, sizeof(reason)),
                     INFLATE_REFUSED);
        CHECK(strstr(reason, "7 bytes follow the end of the deflate stream"));
        /* not deflate at all (a reserved block type) */
        const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        CHECK_EQ_INT(inflate_exact(junk, sizeof(junk), n, &out, reason, sizeof(reason)),
                     INFLATE_REFUSED);
        CHECK(out == NULL);
        free(longer);
        free(raw);
        free(d);
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
                char *z = deflate_of(raw + i * slice, slice, &dl);
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

static void lying_chunks_are_refused(void)
{
        size_t slice = 100000, dl;
        char *raw = text(slice + 1), *out = malloc(slice + 4096), reason[256] = "";
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        /* deflated from one byte less than its slice: inflates short */
        char *z = deflate_of(raw, slice - 1, &dl);
        CHECK_EQ_INT(inflate_chunk(d, z, dl, out, slice, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "inflate to 99999 bytes, 100000 announced"));
        free(z);
        /* from one byte more: stops at the slice, never writes past it */
        memset(out + slice, 'G', 4096);
        z = deflate_of(raw, slice + 1, &dl);
        CHECK_EQ_INT(inflate_chunk(d, z, dl, out, slice, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "more than the 100000 announced"));
        CHECK(out[slice] == 'G' && out[slice + 4095] == 'G');
        free(z);
        /* longer than its slice, and empty */
        CHECK_EQ_INT(inflate_chunk(d, raw, slice + 1, out, slice, reason, sizeof(reason)),
                     INFLATE_REFUSED);
        CHECK(strstr(reason, "100001 bytes for a slice of 100000"));
        CHECK_EQ_INT(inflate_chunk(d, raw, 0, out, slice, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "0 bytes for a slice of 100000"));
        /* a bomb in one chunk costs the slice, no more */
        char *zeros = calloc(8 << 20, 1);
        z = deflate_of(zeros, 8 << 20, &dl);
        CHECK_EQ_INT(inflate_chunk(d, z, dl, out, slice, reason, sizeof(reason)), INFLATE_REFUSED);
        CHECK(strstr(reason, "more than the 100000 announced"));
        free(z);
        free(zeros);
        libdeflate_free_decompressor(d);
        free(out);
        free(raw);
}

TEST_MAIN(TEST_CASE(chunks_fill_their_slices), TEST_CASE(lying_chunks_are_refused),
          TEST_CASE(exact_size_inflates), TEST_CASE(wrong_sizes_are_refused),
          TEST_CASE(bomb_is_bounded), TEST_CASE(damaged_streams_are_refused))
