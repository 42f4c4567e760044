#include "buf.h"

#include <stdarg.h>
#include <sys/mman.h>

#define MAPPED_MIN (256 * 1024)

static size_t page_round(size_t n)
{
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        return (n + pg - 1) & ~(pg - 1);
}

void buf_done(Buf *b)
{
        if (b->mapped) {
                if (b->data)
                        munmap(b->data, b->cap);
                *b = (Buf){.mapped = true};
                return;
        }
        free(b->data);
        *b = BUF_NULL;
}

static bool grow_mapped(Buf *b, size_t cap)
{
        cap = page_round(MAX(cap, (size_t)MAPPED_MIN));
        void *p = b->data
                      ? mremap(b->data, b->cap, cap, MREMAP_MAYMOVE)
                      : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                b->oom = true;
                return false;
        }
        /* One call faults the new pages in; best effort (Linux 5.14+). */
        (void)madvise((char *)p + b->cap, cap - b->cap, MADV_POPULATE_WRITE);
        b->data = p;
        b->cap = cap;
        return true;
}

int buf_take_mapping(Buf *b, void **ret, size_t *ret_size)
{
        if (!b->mapped || b->oom)
                return -EINVAL;
        if (!b->data && !grow_mapped(b, 1))
                return -ENOMEM;
        size_t size = page_round(MAX(b->len, (size_t)1));
        if (size < b->cap) {
                /* shrinking never moves a mapping, so pointers into it stay valid */
                if (mremap(b->data, b->cap, size, 0) == MAP_FAILED)
                        size = b->cap;
        }
        *ret = b->data;
        *ret_size = size;
        *b = (Buf){.mapped = true};
        return 0;
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
        if (b->mapped)
                return grow_mapped(b, cap);
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

void buf_vprintf(Buf *b, const char *fmt, va_list ap)
{
        char small[256];
        va_list again;
        va_copy(again, ap);
        int n = vsnprintf(small, sizeof(small), fmt, ap);
        if (n < 0)
                b->oom = true;
        else if ((size_t)n < sizeof(small))
                buf_put(b, small, (size_t)n);
        else if (buf_reserve(b, (size_t)n + 1)) {
                vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
                b->len += (size_t)n;
        }
        va_end(again);
}

void buf_printf(Buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        buf_vprintf(b, fmt, ap);
        va_end(ap);
}
