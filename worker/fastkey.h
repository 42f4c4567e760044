/* Fixed-width group keys: the common case of a group-by (at most FASTKEY_MAX_COLUMNS
 * values, every string at most 8 bytes: region, product, a code, a number, a time bucket)
 * packed into one word per value plus one word of types and lengths, and a table from
 * those words to the group's state.
 *
 * It sits in front of the group table (groups.h), which stays the record of every group
 * (its encoded key for the merge and the output): a row whose key packs is found with a
 * few word compares in one cache line, with no variable-length copy, no XXH3 and no
 * memcmp, and without touching the group record's header. A row whose key does not pack
 * takes the group table's path as before; so does a row of a new group, which is then
 * entered here. Packing is exact: two rows pack to the same words exactly when
 * key_encode gives them the same bytes. */
#pragma once

#include "config.h"

#define FASTKEY_MAX_COLUMNS 7 /* the type word has a byte per column */
#define FASTKEY_MAX_WORDS   (FASTKEY_MAX_COLUMNS + 1)
/* Past this many groups the table stops growing and is dropped: a key that is nearly
 * unique per row gains nothing from a second table. */
#define FASTKEY_MAX_GROUPS (UINT64_C(1) << 21)

typedef struct FastIndex {
        uint64_t *slots; /* entries of `stride` words: key words, then the state pointer */
        size_t mask, n;
        unsigned nw, stride; /* nw == 0: disabled */
} FastIndex;

/* n_group_by beyond FASTKEY_MAX_COLUMNS leaves the index disabled (not an error). */
int fast_index_init(FastIndex *f, size_t n_group_by);
void fast_index_done(FastIndex *f);

/* The bytes of a string of at most 8 bytes as one word, without reading past them. */
static inline uint64_t fast_str_word(const char *s, uint32_t len)
{
        uint32_t a, b;
        if (len >= 4) {
                memcpy(&a, s, 4);
                memcpy(&b, s + len - 4, 4);
                return (uint64_t)a | (uint64_t)b << ((len - 4) * 8);
        }
        uint64_t w = 0;
        for (uint32_t i = 0; i < len; i++)
                w |= (uint64_t)(uint8_t)s[i] << (8 * i);
        return w;
}

/* One key cell: its type (and a string's length) into *t, its word into *w; false for a
 * string longer than 8 bytes. Both packers below use it. */
static inline bool fast_key_cell(const Value *x, uint64_t *t, uint64_t *w)
{
        *t = x->type;
        if (x->type == VALUE_STR) {
                if (x->len > 8)
                        return false;
                *t |= (uint64_t)x->len << 4;
                *w = fast_str_word(x->s, x->len);
        } else if (x->type == VALUE_NUM) {
                double d = x->d == 0 ? 0.0 : x->d; /* -0 and 0 are one group */
                memcpy(w, &d, 8);
        } else
                *w = x->type == VALUE_NIL ? 0 : (uint64_t)x->i;
        return true;
}

/* Packs row's key into w[0..nw) as key_encode would encode it; false when it does not fit
 * (a string longer than 8 bytes). The _slow one also handles bucket items. */
bool fast_key_pack_slow(const ViewConfig *v, const Value *row, uint64_t *w);
static inline bool fast_key_pack(const ViewConfig *v, const Value *row, uint64_t *w)
{
        if (v->bucket_usec)
                return fast_key_pack_slow(v, row, w);
        uint64_t types = 0;
        for (size_t i = 0; i < v->n_group_by; i++) {
                uint64_t t;
                if (!fast_key_cell(&row[v->group_by[i]], &t, &w[i + 1]))
                        return false;
                types |= t << (8 * i);
        }
        w[0] = types;
        return true;
}

static inline uint64_t fast_key_hash(const uint64_t *w, unsigned nw)
{
        uint64_t h = UINT64_C(0x9E3779B97F4A7C15);
        for (unsigned i = 0; i < nw; i++) {
                __uint128_t m = (__uint128_t)(h ^ w[i]) * UINT64_C(0xBF58476D1CE4E5B9);
                h = (uint64_t)m ^ (uint64_t)(m >> 64);
        }
        return h;
}

static inline const uint64_t *fast_index_slot(const FastIndex *f, uint64_t h)
{
        return f->slots + (h & f->mask) * f->stride;
}

/* The state of the group with these key words, NULL if not in the index. */
static inline void *fast_index_find(const FastIndex *f, const uint64_t *w, uint64_t h)
{
        for (size_t i = h & f->mask;; i = (i + 1) & f->mask) {
                const uint64_t *e = f->slots + i * f->stride;
                if (!e[f->nw])
                        return NULL;
                unsigned k = 0;
                while (k < f->nw && e[k] == w[k])
                        k++;
                if (k == f->nw)
                        return (void *)(uintptr_t)e[f->nw];
        }
}

/* Enters a group (not yet in the index) with its state. A full index disables itself
 * (FASTKEY_MAX_GROUPS); -ENOMEM when it cannot grow. */
int fast_index_add(FastIndex *f, const uint64_t *w, uint64_t h, void *state);
