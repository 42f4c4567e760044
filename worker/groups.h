/* The group table of one view in one thread: encoded key bytes -> group, open addressing.
 * Keys and per-group state blocks live in an arena the table borrows, so the whole table
 * goes away with that arena and groups are never moved once made. */
#pragma once

#include "arena.h"

typedef struct Group {
        uint64_t hash;
        const char *key;
        uint32_t key_len;
        void *state; /* state_size bytes, zeroed when the group is made */
} Group;

typedef struct GroupTable {
        Arena *arena;
        uint64_t *slots; /* (hash >> 32) << 32 | (index + 1); 0 is free */
        size_t mask;
        Group *groups;
        size_t n, cap;
        size_t state_size;
} GroupTable;

int group_table_init(GroupTable *t, Arena *arena, size_t state_size);
void group_table_done(GroupTable *t);
uint64_t group_key_hash(const char *key, size_t len);
/* Index of the group with this key, made if new (*ret_new then true). copy_key false keeps
 * the caller's key pointer, which must outlive the table. Negative errno on failure. */
long group_table_get(GroupTable *t, const char *key, uint32_t len, uint64_t hash, bool copy_key,
                     bool *ret_new);
