/* Lists of 8-byte values (the numbers exact quantiles and exact distinct keep per group),
 * stored in chunks from a per-thread pool.
 *
 * Chunks double in size up to a maximum, so a group wastes at most one half-empty chunk,
 * nothing is ever copied to grow, and lists from different threads are joined by linking
 * their chunks. A list may hold rows of w words (the inputs of several accumulators of one
 * row, appended together: one append position to keep and one tail to write instead of
 * one per accumulator); chunk capacities stay powers of two and a chunk of rows uses the
 * largest multiple of w words that fits. A pool hands out memory from its bump allocator
 * and recycles chunks a list gives back (after deduplication). */
#pragma once

#include "bump.h"

#define VLIST_MIN_CHUNK 4    /* rows */
#define VLIST_MAX_CHUNK 1024 /* rows */
#define VLIST_MAX_WIDTH 64   /* words in a row */

typedef struct VChunk {
        struct VChunk *next;
        uint32_t n, cap; /* words */
        uint64_t v[];
} VChunk;

/* The append position is kept in the list itself (next, end), first, so appending touches
 * only those two words and the slot written, which the engine prefetches; the count of the
 * chunks before the tail and the tail chunk's n are brought up to date when it fills (or
 * when the list is sealed, before anything reads the chunks). */
typedef struct VList {
        uint64_t *next, *end; /* the hot part: what a push reads */
        VChunk *head, *tail;
        uint64_t sealed; /* words in the chunks before the tail */
} VList;

typedef struct VPool {
        Bump *bump;
        VChunk *free[16]; /* by log2(cap / VLIST_MIN_CHUNK) */
} VPool;

int vpool_init(VPool *p);
void vpool_done(VPool *p);

/* Words in the list (values of a list of single values). */
static inline uint64_t vlist_len(const VList *l)
{
        return l->tail ? l->sealed + (uint64_t)(l->next - l->tail->v) : 0;
}

/* Appends one value; -ENOMEM if the pool cannot grow. */
int vlist_push_slow(VPool *p, VList *l, uint64_t v);
static inline int vlist_push(VPool *p, VList *l, uint64_t v)
{
        if (_likely_(l->next < l->end)) {
                *l->next++ = v;
                return 0;
        }
        return vlist_push_slow(p, l, v);
}
/* Whether a value goes in without a new chunk. */
static inline bool vlist_has_room(const VList *l)
{
        return l->next < l->end;
}
/* Appends a row of w words (every push to the list of the same w); -ENOMEM as above. The
 * fast path is the caller's: while vlist_has_room, write w words at next. */
int vlist_push_row_slow(VPool *p, VList *l, const uint64_t *row, unsigned w);

/* Where the next value will go (for prefetching), NULL if a new chunk is needed. */
static inline const void *vlist_next_slot(const VList *l)
{
        return l->next < l->end ? l->next : NULL;
}

/* Moves every value of src to the end of dst (O(1): chunks are linked). */
void vlist_join(VList *dst, VList *src);
/* Brings the tail chunk's count up to date; call before walking the chunks directly. */
void vlist_seal(VList *l);
/* Copies word c of every row of w words into out (room for vlist_len(l) / w); returns
 * out's end. Copies the values of a plain list with w = 1, c = 0. */
uint64_t *vlist_copy_column(VList *l, unsigned w, unsigned c, uint64_t *out);
/* Copies the values into out (room for vlist_len(l)). */
static inline void vlist_copy(VList *l, uint64_t *out)
{
        vlist_copy_column(l, 1, 0, out);
}
/* Empties the list, its chunks back to the pool (p NULL: left where they are). */
void vlist_release(VPool *p, VList *l);
/* Replaces the contents with out[0..n) (n <= vlist_len(l)), returning spare chunks to the
 * pool. A list of single values only. */
void vlist_rewrite(VPool *p, VList *l, const uint64_t *v, uint64_t n);
