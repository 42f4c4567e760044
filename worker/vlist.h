/* Lists of 8-byte values (the numbers exact quantiles and exact distinct keep per group),
 * stored in chunks from a per-thread pool.
 *
 * Chunks double in size up to VLIST_MAX_CHUNK values, so a group wastes at most one
 * half-empty chunk, nothing is ever copied to grow, and lists from different threads are
 * joined by linking their chunks. A pool hands out memory from its bump allocator and recycles
 * chunks a list gives back (after deduplication). */
#pragma once

#include "bump.h"

#define VLIST_MIN_CHUNK 4
#define VLIST_MAX_CHUNK 1024

typedef struct VChunk {
        struct VChunk *next;
        uint32_t n, cap;
        uint64_t v[];
} VChunk;

/* The append position is kept in the list itself (next, end), so appending touches only
 * the slot written, which the engine prefetches; the tail chunk's n is brought up to date
 * (sealed) before anything reads the chunks. */
typedef struct VList {
        uint64_t *next, *end; /* first: what a push touches shares one cache line */
        uint64_t n;
        VChunk *head, *tail;
} VList;

typedef struct VPool {
        Bump *bump;
        VChunk *free[12]; /* by log2(cap / VLIST_MIN_CHUNK) */
} VPool;

int vpool_init(VPool *p);
void vpool_done(VPool *p);

/* Appends one value; -ENOMEM if the pool cannot grow. */
int vlist_push_slow(VPool *p, VList *l, uint64_t v);
static inline int vlist_push(VPool *p, VList *l, uint64_t v)
{
        if (_likely_(l->next < l->end)) {
                *l->next++ = v;
                l->n++;
                return 0;
        }
        return vlist_push_slow(p, l, v);
}

/* Where the next value will go (for prefetching), NULL if a new chunk is needed. */
static inline const void *vlist_next_slot(const VList *l)
{
        return l->next < l->end ? l->next : NULL;
}

/* Moves every value of src to the end of dst (O(1): chunks are linked). */
void vlist_join(VList *dst, VList *src);
/* Copies the values into out (room for l->n). */
void vlist_copy(VList *l, uint64_t *out);
/* Brings the tail chunk's count up to date; call before walking the chunks directly. */
void vlist_seal(VList *l);
/* Replaces the contents with out[0..n) (n <= l->n), returning spare chunks to the pool. */
void vlist_rewrite(VPool *p, VList *l, const uint64_t *v, uint64_t n);
