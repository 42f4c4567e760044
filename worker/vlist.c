#include "vlist.h"

int vpool_init(VPool *p)
{
        *p = (VPool){};
        return bump_new(&p->bump);
}

void vpool_done(VPool *p)
{
        p->bump = bump_free(p->bump);
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
                k = bump_alloc(p->bump, sizeof(VChunk) + (size_t)cap * sizeof(uint64_t),
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

static void seal(VList *l)
{
        if (l->tail)
                l->tail->n = (uint32_t)(l->next - l->tail->v);
}

int vlist_push_slow(VPool *p, VList *l, uint64_t v)
{
        seal(l);
        uint32_t cap = l->tail ? MIN(l->tail->cap * 2, (uint32_t)VLIST_MAX_CHUNK) : VLIST_MIN_CHUNK;
        VChunk *k = chunk_get(p, cap);
        if (!k)
                return -ENOMEM;
        if (l->tail)
                l->tail->next = k;
        else
                l->head = k;
        l->tail = k;
        k->v[0] = v;
        l->next = k->v + 1;
        l->end = k->v + k->cap;
        l->n++;
        return 0;
}

void vlist_join(VList *dst, VList *src)
{
        if (!src->head)
                return;
        seal(dst);
        seal(src);
        if (dst->tail)
                dst->tail->next = src->head;
        else
                dst->head = src->head;
        dst->tail = src->tail;
        dst->next = src->next;
        dst->end = src->end;
        dst->n += src->n;
        *src = (VList){};
}

void vlist_copy(VList *l, uint64_t *out)
{
        seal(l);
        for (const VChunk *k = l->head; k; k = k->next) {
                memcpy(out, k->v, k->n * sizeof(uint64_t));
                out += k->n;
        }
}

void vlist_rewrite(VPool *p, VList *l, const uint64_t *v, uint64_t n)
{
        seal(l);
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
        l->next = last ? last->v + last->n : NULL;
        l->end = last ? last->v + last->cap : NULL;
        l->n = n;
}

void vlist_seal(VList *l)
{
        seal(l);
}
