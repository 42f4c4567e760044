#include "split.h"

size_t split_pieces(size_t len, size_t threads, size_t min_piece)
{
        if (len <= min_piece)
                return 1;
        return MIN(threads * 4, len / min_piece + 1);
}

size_t split_at_lines(const char *buf, size_t start, size_t end, size_t pieces, size_t *bounds)
{
        size_t n = 0, len = end - start, at = start;
        bounds[0] = start;
        for (size_t k = 1; k <= pieces && at < end; k++) {
                size_t e = end;
                if (k < pieces) {
                        size_t nominal = start + len / pieces * k;
                        if (nominal <= at)
                                continue; /* the previous line ran past this share */
                        const char *nl = memchr(buf + nominal, '\n', end - nominal);
                        e = nl ? (size_t)(nl - buf) + 1 : end;
                }
                bounds[++n] = e;
                at = e;
        }
        return n;
}
