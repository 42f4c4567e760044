/* Finding a row by its key: an index over one view's rows, keyed by the text of the key
 * cells as a URL spells them (/v1/views/{view}/rows/{k1}/{k2}...).
 *
 * Open addressing over row numbers + 1 (0 = an empty slot), load factor between 3/8 and
 * 3/4. Keys are stored length-prefixed, keys[key_off[i]..key_off[i+1]), so "a/b" + "c"
 * and "a" + "b/c" differ. Built once per snapshot on the loader thread, in the snapshot's
 * arena; read-only afterwards, so every loop reads it without a lock. */
#pragma once

#include "arena.h"
#include "snapshot.h"

typedef struct RowIndex {
        size_t n_rows;
        size_t n_keys;
        uint32_t *slots;
        uint32_t mask;
        const char *keys;
        uint32_t *key_off;
        /* One byte per slot, next to slots: 0 empty, else 1..255 from the hash of the key
         * in the slot, so a probe looks at a key only when its tag matches (NULL: every
         * key). The random lookups of single rows missed the cache on key_off and keys
         * for every probe (2.35 at the 0.73 load of 24,000 rows); row_index_find() with
         * memcmp was 6.5% of tallyd's CPU at bench rows c50 (perf). */
        uint8_t *tags;
} RowIndex;

/* Indexes v's rows into *ret, allocating in a; the first row with a key wins. */
int row_index_build(Arena *a, const SnapshotView *v, RowIndex *ret);
/* Builds ix->tags in a for an index whose slots and keys are set (a prerendered index
 * from a snapshot file, after its validation); 0 or -ENOMEM. row_index_build() calls it. */
int row_index_tag(Arena *a, RowIndex *ix);
/* Row number whose key cells spell keys[0..n) (already percent-decoded), or -ENOENT. */
ssize_t row_index_find(const RowIndex *ix, const char *const *keys, const size_t *lens, size_t n);
