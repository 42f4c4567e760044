#include "buf.h"

#include <stdarg.h>

void buf_done(Buf *b)
{
        free(b->data);
        *b = BUF_NULL;
}

bool buf_reserve(Buf *b, size_t extra)
{
        if (b->oom)
                return false;
        if (extra <= b->cap - b->len)
                return true;
        if (extra > SIZE_MAX / 2 - b->len) {
                b->oom = true;
                return false;
        }
        size_t cap = MAX(b->cap * 2, b->len + extra);
        cap = MAX(cap, (size_t)256);
        char *p = realloc(b->data, cap);
        if (!p) {
                b->oom = true;
                return false;
        }
        b->data = p;
        b->cap = cap;
        return true;
}

void buf_put(Buf *b, const void *p, size_t n)
{
        if (n == 0 || !buf_reserve(b, n))
                return;
        memcpy(b->data + b->len, p, n);
        b->len += n;
}

void buf_putc(Buf *b, char c)
{
        if (!buf_reserve(b, 1))
                return;
        b->data[b->len++] = c;
}

void buf_puts(Buf *b, const char *s)
{
        buf_put(b, s, strlen(s));
}

void buf_printf(Buf *b, const char *fmt, ...)
{
        va_list ap;
        char small[256];
        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->oom = true;
                return;
        }
        if ((size_t)n < sizeof(small)) {
                buf_put(b, small, (size_t)n);
                return;
        }
        if (!buf_reserve(b, (size_t)n + 1))
                return;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}
