/* Fixed-width group keys: the common case of a group-by (at most FASTKEY_MAX_COLUMNS
 * values, every string at most 16 bytes: region, product, a code, a number, a time bucket)
 * packed into one word per value (two for a column once it has held a string longer than
 * 8 bytes) plus one word of types and lengths, and a table from those words to the
 * group's state.
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
#define FASTKEY_MAX_WORDS   (2 * FASTKEY_MAX_COLUMNS + 1)
#define FASTKEY_STR_MAX     16 /* bytes: a wide column's two words */
/* Past this many groups the table stops growing and is dropped: a key that is nearly
 * unique per row gains nothing from a second table. */
#define FASTKEY_MAX_GROUPS (UINT64_C(1) << 21)

typedef struct FastIndex {
        /* entries of `stride` words: the key words, then the state pointer; or, tagged
         * (at most 2 columns, so the type word is 16 bits), the state pointer with the type
         * word in its top 16 bits, then the other key words: Q1's wide region and its
         * product then still make 4 words, two entries a cache line */
        uint64_t *slots;
        size_t mask, n;
        unsigned nw, stride; /* nw == 0: disabled */
        unsigned n_keys;
        bool tagged;
        /* columns packed into two words, and columns that have held a string of 9 to 16
         * bytes while narrow: those rows took the group table's path until
         * fast_index_widen rebuilds the table with the column wide. One word per column
         * until then, so keys of short strings keep two entries per cache line. */
        uint8_t wide, want;
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

/* One key cell: its type (and a string's length) into *t, its word into w[0] (and for a
 * wide column, the string's bytes 8 to 15 or 0 into w[1]). Returns the words written, 0
 * for a string that does not fit (fast_key_note says whether widening would help). The
 * packers use it. */
static inline unsigned fast_key_cell(const Value *x, bool wide, uint64_t *t, uint64_t *w)
{
        *t = x->type;
        if (wide)
                w[1] = 0;
        if (x->type == VALUE_STR) {
                if (x->len > 8) {
                        if (!wide || x->len > FASTKEY_STR_MAX)
                                return 0;
                        memcpy(w, x->s, 8);
                        w[1] = fast_str_word(x->s + 8, x->len - 8);
                } else
                        w[0] = fast_str_word(x->s, x->len);
                *t |= (uint64_t)x->len << 3; /* a type below 8, a length up to 16: a byte */
        } else if (x->type == VALUE_NUM) {
                double d = x->d == 0 ? 0.0 : x->d; /* -0 and 0 are one group */
                memcpy(w, &d, 8);
        } else
                w[0] = x->type == VALUE_NIL ? 0 : (uint64_t)x->i;
        return wide ? 2 : 1;
}

/* After fast_key_cell refused x in column col: a narrow column's string of 9 to 16 bytes
 * asks fast_index_widen for a wide column. */
static inline void fast_key_note(FastIndex *f, const Value *x, size_t col)
{
        if (x->type == VALUE_STR && x->len <= FASTKEY_STR_MAX && !(f->wide >> col & 1))
                f->want |= (uint8_t)(1u << col);
}

/* Packs row's key into w[0..f->nw) as key_encode would encode it; false when it does not
 * fit (a string too long for its column). The _slow one also handles bucket items. */
bool fast_key_pack_slow(FastIndex *f, const ViewConfig *v, const Value *row, uint64_t *w);
static inline bool fast_key_pack(FastIndex *f, const ViewConfig *v, const Value *row, uint64_t *w)
{
        if (v->bucket_usec)
                return fast_key_pack_slow(f, v, row, w);
        uint64_t types = 0;
        unsigned k = 1, wide = f->wide;
        for (size_t i = 0; i < v->n_group_by; i++) {
                const Value *x = &row[v->group_by[i]];
                uint64_t t;
                unsigned n = fast_key_cell(x, wide >> i & 1, &t, &w[k]);
                if (!n) {
                        fast_key_note(f, x, i);
                        return false;
                }
                types |= t << (8 * i);
                k += n;
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
#define FASTKEY_PTR_MASK ((UINT64_C(1) << 48) - 1)
static inline void *fast_index_find(const FastIndex *f, const uint64_t *w, uint64_t h)
{
        if (f->tagged && f->nw == 4) /* Q1's wide region and product: one word compare each */
                for (size_t i = h & f->mask;; i = (i + 1) & f->mask) {
                        const uint64_t *e = f->slots + i * f->stride;
                        if (!e[0])
                                return NULL;
                        if ((((e[0] >> 48) ^ w[0]) | (e[1] ^ w[1]) | (e[2] ^ w[2]) |
                             (e[3] ^ w[3])) == 0)
                                return (void *)(uintptr_t)(e[0] & FASTKEY_PTR_MASK);
                }
        if (f->tagged)
                for (size_t i = h & f->mask;; i = (i + 1) & f->mask) {
                        const uint64_t *e = f->slots + i * f->stride;
                        if (!e[0])
                                return NULL;
                        unsigned k = 1;
                        while (k < f->nw && e[k] == w[k])
                                k++;
                        if (k == f->nw && e[0] >> 48 == w[0])
                                return (void *)(uintptr_t)(e[0] & FASTKEY_PTR_MASK);
                }
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

struct GroupTable;
/* When rows have brought strings of 9 to 16 bytes to narrow columns (f->want), rebuilds
 * the index with those columns wide from every group of t (the view's groups, which the
 * index is in front of); a no-op otherwise. Q1's regions eu-central, me-central and
 * us-central (10 bytes) sent a quarter of its rows through the group table. With the
 * region wide and the entries tagged (4 words), Q1 at 2M rows: L2-size misses 17.56 ->
 * 17.12 M (cachegrind, 2 MiB last level), CPU 0.916 -> 0.889 s (docs/performance.md 2c).
 * -ENOMEM when the new table cannot be mapped (the old one stays). */
int fast_index_widen(FastIndex *f, const struct GroupTable *t);

/* Enters a group (not yet in the index) with its state. A full index disables itself
 * (FASTKEY_MAX_GROUPS); -ENOMEM when it cannot grow. */
int fast_index_add(FastIndex *f, const uint64_t *w, uint64_t h, void *state);
