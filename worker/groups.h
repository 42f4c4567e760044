/* The group table of one view in one thread: encoded key bytes -> group, open addressing.
 * Keys and per-group state blocks live in a bump allocator the table borrows (state and key
 * side by side, one cache miss for both), so the whole table goes away with it and groups
 * never move once made. Slots and the group array sit in huge-page mappings. */
#pragma once

#include "bump.h"

/* A group record: this header, the key bytes, then the state, in one allocation. */
typedef struct Group {
        uint64_t hash;
        const char *key;
        uint32_t key_len;
        void *state; /* state_size bytes, zeroed when the group is made */
} Group;

typedef struct GroupTable {
        Bump *bump;
        uint64_t *slots; /* record pointer, top 16 bits: top 16 bits of its hash; 0 is free */
        size_t mask;
        Group **groups; /* in order of creation */
        size_t n, cap;
        size_t state_size;
        size_t hot_size; /* the state's first bytes every row reads (plan.h) */
} GroupTable;

/* hot_size: the first bytes of the state a row's update reads; a state starts a cache line
 * of its own when that makes them take fewer lines. */
int group_table_init(GroupTable *t, Bump *bump, size_t state_size, size_t hot_size);
void group_table_done(GroupTable *t);
uint64_t group_key_hash(const char *key, size_t len);
/* The group with this key, made if new (*ret_new then true). copy_key false keeps the
 * caller's key pointer, which must outlive the table. NULL when out of memory. */
Group *group_table_get(GroupTable *t, const char *key, uint32_t len, uint64_t hash, bool copy_key,
                       bool *ret_new);
