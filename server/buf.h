/* A growable byte buffer for rendering.
 *
 * Large buffers come from malloc's mmap path, so growing them is an mremap and freeing
 * them returns the pages at once; rendering a snapshot therefore leaves no heap behind.
 * Out of memory is sticky: writers keep going and the caller checks buf_ok() once. */
#pragma once

#include <stdarg.h>

#include "util.h"

typedef struct Buf {
        char *data;
        size_t len;
        size_t cap;
        bool oom;
        bool mapped; /* backed by its own mmap, grown with mremap (buf_init_mapped) */
} Buf;

#define BUF_NULL ((Buf){0})

/* For multi-megabyte bodies: the buffer is its own mapping, grown by mremap and
 * pre-faulted in bulk (page faults dominate rendering otherwise), and can be handed over
 * whole with buf_take_mapping instead of being copied. */
static inline void buf_init_mapped(Buf *b)
{
        *b = (Buf){.mapped = true};
}
/* Shrinks the mapping to the data and hands it over (size in *ret_size, for munmap). */
int buf_take_mapping(Buf *b, void **ret, size_t *ret_size);

void buf_done(Buf *b);
static inline void buf_donep(Buf *b)
{
        buf_done(b);
}
/* Makes room for extra more bytes; false (and oom set) when that fails. */
bool buf_reserve(Buf *b, size_t extra);
void buf_put(Buf *b, const void *p, size_t n);
void buf_putc(Buf *b, char c);
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) _printf_(2, 3);
void buf_vprintf(Buf *b, const char *fmt, va_list ap) _printf_(2, 0);
static inline bool buf_ok(const Buf *b)
{
        return !b->oom;
}
