#include "intern.h"

#include <xxhash.h>

int intern_init(Intern *t)
{
        *t = (Intern){};
        return bump_new(&t->bump);
}

void intern_done(Intern *t)
{
        free(t->slots);
        t->bump = bump_free(t->bump);
        *t = (Intern){};
}

uint64_t intern_hash(const char *s, size_t len)
{
        return XXH3_64bits(s, len);
}

static int grow(Intern *t)
{
        size_t cap = t->cap ? t->cap * 2 : 256;
        const InternStr **slots = calloc(cap, sizeof(*slots));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < t->cap; i++) {
                const InternStr *e = t->slots[i];
                if (!e)
                        continue;
                size_t j = e->hash & (cap - 1);
                while (slots[j])
                        j = (j + 1) & (cap - 1);
                slots[j] = e;
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
        return 0;
}

const InternStr *intern_get(Intern *t, const char *s, uint32_t len, uint64_t hash)
{
        if ((t->n + 1) * 2 > t->cap && grow(t) < 0)
                return NULL;
        size_t mask = t->cap - 1, i = hash & mask;
        for (const InternStr *e; (e = t->slots[i]); i = (i + 1) & mask)
                if (e->hash == hash && e->len == len && memcmp(e->s, s, len) == 0)
                        return e;
        InternStr *e = bump_alloc(t->bump, sizeof(InternStr) + len, _Alignof(InternStr));
        if (!e)
                return NULL;
        e->hash = hash;
        e->len = len;
        memcpy(e->s, s, len);
        t->slots[i] = e;
        t->n++;
        return e;
}
