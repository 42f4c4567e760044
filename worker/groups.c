#include "groups.h"

#include <xxhash.h>

#define PTR_BITS 48
#define PTR_MASK ((UINT64_C(1) << PTR_BITS) - 1)

int group_table_init(GroupTable *t, Bump *bump, size_t state_size, size_t hot_size)
{
        *t = (GroupTable){
            .bump = bump, .state_size = (state_size + 15) & ~(size_t)15, .hot_size = hot_size};
        t->slots = bump_map_array(64 * sizeof(uint64_t));
        if (!t->slots)
                return -ENOMEM;
        t->mask = 63;
        return 0;
}

void group_table_done(GroupTable *t)
{
        bump_unmap_array(t->slots, (t->mask + 1) * sizeof(uint64_t));
        bump_unmap_array(t->groups, t->cap * sizeof(Group *));
        *t = (GroupTable){};
}

uint64_t group_key_hash(const char *key, size_t len)
{
        return XXH3_64bits(key, len);
}

static inline uint64_t slot_of(const Group *g)
{
        /* user-space pointers fit in 48 bits: the top 16 carry a hash tag, so most
         * mismatches are rejected without touching the record */
        return (g->hash >> PTR_BITS << PTR_BITS) | (uint64_t)(uintptr_t)g;
}

static int grow_slots(GroupTable *t)
{
        size_t cap = (t->mask + 1) * 2;
        uint64_t *slots = bump_map_array(cap * sizeof(uint64_t));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++) {
                const Group *g = t->groups[i];
                size_t j = g->hash & (cap - 1);
                while (slots[j])
                        j = (j + 1) & (cap - 1);
                slots[j] = slot_of(g);
        }
        bump_unmap_array(t->slots, (t->mask + 1) * sizeof(uint64_t));
        t->slots = slots;
        t->mask = cap - 1;
        return 0;
}

Group *group_table_get(GroupTable *t, const char *key, uint32_t len, uint64_t hash, bool copy_key,
                       bool *ret_new)
{
        uint64_t tag = hash >> PTR_BITS << PTR_BITS;
        size_t i = hash & t->mask;
        for (uint64_t s; (s = t->slots[i]); i = (i + 1) & t->mask) {
                if ((s & ~PTR_MASK) != tag)
                        continue;
                Group *g = (Group *)(uintptr_t)(s & PTR_MASK);
                if (g->hash == hash && g->key_len == len && memcmp(g->key, key, len) == 0) {
                        *ret_new = false;
                        return g;
                }
        }
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 1024;
                Group **list = bump_map_array(cap * sizeof(Group *));
                if (!list)
                        return NULL;
                if (t->n)
                        memcpy(list, t->groups, t->n * sizeof(Group *));
                bump_unmap_array(t->groups, t->cap * sizeof(Group *));
                t->groups = list;
                t->cap = cap;
        }
        /* header, key, state: the probe that checks the key brings the state's first bytes */
        size_t key_room = copy_key ? (len + 15) & ~(size_t)15 : 0;
        /* cache-line aligned: header and a short key share one line, which the engine
         * prefetches along with the lines after it; the state follows, on the next line
         * when that puts its hot part (plan.h) on fewer lines (Q1: one instead of two) */
        size_t state_at = (sizeof(Group) + key_room + 15) & ~(size_t)15;
        size_t aligned = (state_at + 63) & ~(size_t)63;
        if ((state_at % 64 + t->hot_size + 63) / 64 > (t->hot_size + 63) / 64)
                state_at = aligned;
        char *mem = bump_alloc(t->bump, state_at + t->state_size, 64);
        if (!mem)
                return NULL;
        Group *g = (Group *)mem;
        *g = (Group){.hash = hash, .key = key, .key_len = len};
        if (copy_key) {
                memcpy(mem + sizeof(Group), key, len);
                g->key = mem + sizeof(Group);
        }
        g->state = mem + state_at;
        t->slots[i] = slot_of(g);
        t->groups[t->n++] = g;
        if (t->n * 2 > t->mask + 1 && grow_slots(t) < 0)
                return NULL;
        *ret_new = true;
        return g;
}
