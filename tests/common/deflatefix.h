/* Deflate streams for the tests of what inflates them (tally-sync's inflate and fetch): real
 * libdeflate output at a level the test picks, so what it feeds in is what a publisher sends. */
#pragma once

#include <libdeflate.h>
#include <stdlib.h>

/* in[0..n) deflated into a malloc'd buffer; its length in *out_len. */
static inline char *deflatefix_compress(const char *in, size_t n, int level, size_t *out_len)
{
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
        size_t cap = libdeflate_deflate_compress_bound(c, n);
        char *out = malloc(cap);
        *out_len = libdeflate_deflate_compress(c, in, n, out, cap);
        libdeflate_free_compressor(c);
        return out;
}
