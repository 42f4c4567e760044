#include "groups.h"

#include <xxhash.h>

int group_table_init(GroupTable *t, Arena *arena, size_t state_size)
{
        *t = (GroupTable){.arena = arena, .state_size = state_size};
        t->slots = calloc(64, sizeof(uint64_t));
        if (!t->slots)
                return -ENOMEM;
        t->mask = 63;
        return 0;
}

void group_table_done(GroupTable *t)
{
        free(t->slots);
        free(t->groups);
        *t = (GroupTable){};
}

uint64_t group_key_hash(const char *key, size_t len)
{
        return XXH3_64bits(key, len);
}

static int grow_slots(GroupTable *t)
{
        size_t cap = (t->mask + 1) * 2;
        uint64_t *slots = calloc(cap, sizeof(uint64_t));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < t->n; i++) {
                uint64_t h = t->groups[i].hash;
                size_t j = h & (cap - 1);
                while (slots[j])
                        j = (j + 1) & (cap - 1);
                slots[j] = (h >> 32 << 32) | (i + 1);
        }
        free(t->slots);
        t->slots = slots;
        t->mask = cap - 1;
        return 0;
}

long group_table_get(GroupTable *t, const char *key, uint32_t len, uint64_t hash, bool copy_key,
                     bool *ret_new)
{
        uint64_t tag = hash >> 32 << 32;
        size_t i = hash & t->mask;
        for (uint64_t s; (s = t->slots[i]); i = (i + 1) & t->mask) {
                if ((s >> 32 << 32) != tag)
                        continue;
                const Group *g = &t->groups[(uint32_t)s - 1];
                if (g->key_len == len && memcmp(g->key, key, len) == 0) {
                        *ret_new = false;
                        return (long)((uint32_t)s - 1);
                }
        }
        if (t->n >= UINT32_MAX - 1)
                return -E2BIG;
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 64;
                Group *g = realloc(t->groups, cap * sizeof(Group));
                if (!g)
                        return -ENOMEM;
                t->groups = g;
                t->cap = cap;
        }
        Group *g = &t->groups[t->n];
        *g = (Group){.hash = hash, .key = key, .key_len = len};
        if (copy_key) {
                char *k = arena_alloc(t->arena, len ? len : 1, 1);
                if (!k)
                        return -ENOMEM;
                memcpy(k, key, len);
                g->key = k;
        }
        g->state = arena_alloc0(t->arena, t->state_size ? t->state_size : 1, 16);
        if (!g->state)
                return -ENOMEM;
        t->slots[i] = tag | (t->n + 1);
        long idx = (long)t->n++;
        if (t->n * 2 > t->mask + 1 && grow_slots(t) < 0)
                return -ENOMEM;
        *ret_new = true;
        return idx;
}
