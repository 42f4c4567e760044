#include "vlist.h"

int vpool_init(VPool *p)
{
        *p = (VPool){};
        return arena_new(&p->arena);
}

void vpool_done(VPool *p)
{
        p->arena = arena_free(p->arena);
}

static unsigned size_class(uint32_t cap)
{
        unsigned c = 0;
        while (((uint32_t)VLIST_MIN_CHUNK << c) < cap)
                c++;
        return c;
}

static VChunk *chunk_get(VPool *p, uint32_t cap)
{
        unsigned c = size_class(cap);
        VChunk *k = p->free[c];
        if (k)
                p->free[c] = k->next;
        else {
                k = arena_alloc(p->arena, sizeof(VChunk) + (size_t)cap * sizeof(uint64_t),
                                _Alignof(VChunk));
                if (!k)
                        return NULL;
        }
        *k = (VChunk){.cap = cap};
        return k;
}

static void chunk_put(VPool *p, VChunk *k)
{
        unsigned c = size_class(k->cap);
        k->next = p->free[c];
        p->free[c] = k;
}

int vlist_push_slow(VPool *p, VList *l, uint64_t v)
{
        uint32_t cap = l->tail ? MIN(l->tail->cap * 2, (uint32_t)VLIST_MAX_CHUNK) : VLIST_MIN_CHUNK;
        VChunk *k = chunk_get(p, cap);
        if (!k)
                return -ENOMEM;
        if (l->tail)
                l->tail->next = k;
        else
                l->head = k;
        l->tail = k;
        k->v[k->n++] = v;
        l->n++;
        return 0;
}

void vlist_join(VList *dst, VList *src)
{
        if (!src->head)
                return;
        if (dst->tail)
                dst->tail->next = src->head;
        else
                dst->head = src->head;
        dst->tail = src->tail;
        dst->n += src->n;
        *src = (VList){};
}

void vlist_copy(const VList *l, uint64_t *out)
{
        for (const VChunk *k = l->head; k; k = k->next) {
                memcpy(out, k->v, k->n * sizeof(uint64_t));
                out += k->n;
        }
}

void vlist_rewrite(VPool *p, VList *l, const uint64_t *v, uint64_t n)
{
        /* Refill the existing chunks in order; chunks past the new end go back to the pool. */
        VChunk *k = l->head, *last = NULL;
        uint64_t left = n;
        while (k && left > 0) {
                uint32_t take = (uint32_t)MIN((uint64_t)k->cap, left);
                memcpy(k->v, v, take * sizeof(uint64_t));
                k->n = take;
                v += take;
                left -= take;
                last = k;
                k = k->next;
        }
        while (k) {
                VChunk *next = k->next;
                chunk_put(p, k);
                k = next;
        }
        if (last)
                last->next = NULL;
        else
                l->head = NULL;
        l->tail = last;
        l->n = n;
}
