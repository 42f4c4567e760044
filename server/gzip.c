#include "gzip.h"

#include <libdeflate.h>

int gzip_buf(const void *in, size_t len, Buf *out)
{
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(GZIP_LEVEL);
        if (!c)
                return -ENOMEM;
        size_t bound = libdeflate_gzip_compress_bound(c, len);
        if (!buf_reserve(out, bound)) {
                libdeflate_free_compressor(c);
                return -ENOMEM;
        }
        size_t n = libdeflate_gzip_compress(c, in, len, out->data + out->len, bound);
        libdeflate_free_compressor(c);
        if (n == 0)
                return -EIO; /* cannot happen with a bound-sized buffer */
        out->len += n;
        return 0;
}
