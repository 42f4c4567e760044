#include "arena.h"

#include <stdatomic.h>
#include <sys/mman.h>

#include "coop.h"

#define ARENA_MIN_CHUNK (256u * 1024u)

typedef struct Chunk {
        struct Chunk *next;
        size_t size; /* whole mapping, header included */
        size_t used;
} Chunk;

static _Atomic size_t total_mapped, peak_mapped;

/* The explicit stdatomic calls, not "+=" on the _Atomic or __atomic builtins: clang rejects
 * both on _Atomic objects. Unsigned wrap-around makes adding a negative delta subtract. */
static void account(ptrdiff_t delta)
{
        size_t now = atomic_fetch_add_explicit(&total_mapped, (size_t)delta, memory_order_relaxed) +
                     (size_t)delta;
        size_t peak = atomic_load_explicit(&peak_mapped, memory_order_relaxed);
        while (now > peak &&
               !atomic_compare_exchange_weak_explicit(&peak_mapped, &peak, now,
                                                      memory_order_relaxed, memory_order_relaxed))
                ;
}

size_t arena_total_mapped(void)
{
        return total_mapped;
}

size_t arena_peak_mapped(void)
{
        return peak_mapped;
}

struct Arena {
        Chunk *head;
        size_t mapped;
};

static Chunk *chunk_map(size_t size)
{
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return NULL;
        account((ptrdiff_t)size);
        Chunk *c = p;
        c->next = NULL;
        c->size = size;
        c->used = sizeof(Chunk);
        return c;
}

int arena_new(Arena **ret)
{
        Chunk *c = chunk_map(ARENA_MIN_CHUNK);
        if (!c)
                return -ENOMEM;
        /* The Arena header lives inside its first chunk: one munmap per chunk frees all. */
        Arena *a = (Arena *)((char *)c + sizeof(Chunk));
        c->used += sizeof(Arena);
        a->head = c;
        a->mapped = c->size;
        *ret = a;
        return 0;
}

Arena *arena_free(Arena *a)
{
        if (!a)
                return NULL;
        Chunk *c = a->head;
        while (c) {
                Chunk *next = c->next;
                if (!next) /* the first chunk holds the Arena itself: unmap it last */
                        break;
                account(-(ptrdiff_t)c->size);
                coop_munmap(c, c->size);
                c = next;
        }
        if (c) {
                account(-(ptrdiff_t)c->size);
                munmap(c, c->size);
        }
        return NULL;
}

void *arena_alloc(Arena *a, size_t size, size_t align)
{
        if (align == 0 || (align & (align - 1)))
                return NULL;
        Chunk *c = a->head;
        size_t off = (c->used + align - 1) & ~(align - 1);
        if (off > c->size || size > c->size - off) {
                if (size > SIZE_MAX / 2)
                        return NULL;
                size_t need = sizeof(Chunk) + size + align;
                size_t standard = MAX((size_t)ARENA_MIN_CHUNK, a->mapped / 4);
                bool oversized = need > standard;
                size_t chunk = oversized ? (need + 4095) & ~(size_t)4095 : standard;
                Chunk *n = chunk_map(chunk);
                if (!n)
                        return NULL;
                a->mapped += chunk;
                /* An oversized chunk is full at once: slot it behind the head so small
                 * allocations keep filling the current chunk. The first chunk, which holds
                 * the Arena itself, always stays last in the list. */
                if (oversized && c->next) {
                        n->next = c->next;
                        c->next = n;
                } else {
                        n->next = c;
                        a->head = n;
                }
                c = n;
                off = (c->used + align - 1) & ~(align - 1);
        }
        c->used = off + size;
        return (char *)c + off;
}

void *arena_alloc0(Arena *a, size_t size, size_t align)
{
        /* Fresh anonymous mappings are zero, but reused tails are not guaranteed to be. */
        void *p = arena_alloc(a, size, align);
        if (p)
                memset(p, 0, size);
        return p;
}

char *arena_strndup(Arena *a, const char *s, size_t len)
{
        char *p = arena_alloc(a, len + 1, 1);
        if (!p)
                return NULL;
        memcpy(p, s, len);
        p[len] = 0;
        return p;
}

size_t arena_mapped(const Arena *a)
{
        return a->mapped;
}
