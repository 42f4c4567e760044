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

/* One slot of the probe table: everything a lookup reads before the key bytes. */
typedef struct RowProbe {
        uint32_t row1;    /* slots[i]: row number + 1, 0 for an empty slot */
        uint32_t hash;    /* the high half of the key's hash */
        uint32_t key_off; /* the key is keys[key_off..key_off+key_len) */
        uint32_t key_len;
} RowProbe;

typedef struct RowIndex {
        size_t n_rows;
        size_t n_keys;
        uint32_t *slots;
        uint32_t mask;
        const char *keys;
        uint32_t *key_off;
        /* slots, hashes and key_off merged per slot (NULL: probe slots and key_off), built
         * at load, so a lookup misses the cache on one probe line and the key's bytes. A
         * random single row missed on every structure it touched: with a tag byte per slot
         * (instead of this) row_index_find() and its memcmp were 6.8% of tallyd's CPU at
         * bench rows c50 (perf, 2 cores); tags, slots and key_off each cost a miss. */
        RowProbe *probe;
} RowIndex;

/* Indexes v's rows into *ret, allocating in a; the first row with a key wins. */
int row_index_build(Arena *a, const SnapshotView *v, RowIndex *ret);
/* Builds ix->probe in a for an index whose slots and keys are set (a prerendered index
 * from a snapshot file, after its validation); 0 or -ENOMEM. row_index_build() calls it. */
int row_index_probe(Arena *a, RowIndex *ix);
/* Row number whose key cells spell keys[0..n) (already percent-decoded), or -ENOENT. */
ssize_t row_index_find(const RowIndex *ix, const char *const *keys, const size_t *lens, size_t n);
