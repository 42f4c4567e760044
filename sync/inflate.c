#include "inflate.h"

#include <libdeflate.h>

/* Exactly raw_len bytes from exactly in_len: INFLATE_OK or INFLATE_REFUSED. */
static int inflate_into(struct libdeflate_decompressor *d, const void *in, size_t in_len, void *out,
                        size_t raw_len, char *reason, size_t rs)
{
        size_t used = 0, made = 0;
        enum libdeflate_result r =
            libdeflate_deflate_decompress_ex(d, in, in_len, out, raw_len, &used, &made);
        switch (r) {
        case LIBDEFLATE_SUCCESS: break;
        case LIBDEFLATE_INSUFFICIENT_SPACE:
                snprintf(reason, rs, "the deflated bytes inflate to more than the %zu announced",
                         raw_len);
                return INFLATE_REFUSED;
        default:
                /* libdeflate says BAD_DATA for a damaged and for a truncated stream alike */
                snprintf(reason, rs, "the deflated bytes are not a complete deflate stream");
                return INFLATE_REFUSED;
        }
        if (made != raw_len) {
                snprintf(reason, rs, "the deflated bytes inflate to %zu bytes, %zu announced", made,
                         raw_len);
                return INFLATE_REFUSED;
        }
        if (used != in_len) {
                snprintf(reason, rs, "%zu bytes follow the end of the deflate stream",
                         in_len - used);
                return INFLATE_REFUSED;
        }
        return INFLATE_OK;
}

int inflate_chunk(struct libdeflate_decompressor *d, const void *in, size_t in_len, void *out,
                  size_t raw_len, char *reason, size_t rs)
{
        if (in_len == raw_len) {
                memcpy(out, in, raw_len);
                return INFLATE_OK;
        }
        if (in_len == 0 || in_len > raw_len) {
                snprintf(reason, rs, "%zu bytes for a slice of %zu", in_len, raw_len);
                return INFLATE_REFUSED;
        }
        return inflate_into(d, in, in_len, out, raw_len, reason, rs);
}

int inflate_exact(const void *in, size_t in_len, size_t raw_len, void **ret, char *reason,
                  size_t rs)
{
        _cleanup_free_ void *out = malloc(MAX(raw_len, 1));
        if (!out)
                return -ENOMEM;
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        if (!d)
                return -ENOMEM;
        int r = inflate_into(d, in, in_len, out, raw_len, reason, rs);
        libdeflate_free_decompressor(d);
        if (r != INFLATE_OK)
                return r;
        *ret = TAKE_PTR(out);
        return INFLATE_OK;
}
