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

/* The smallest chunk capacity (words, a power of two) holding rows rows of w words. */
static uint32_t cap_for(uint32_t rows, unsigned w)
{
        uint32_t cap = VLIST_MIN_CHUNK;
        while (cap < rows * w)
                cap *= 2;
        return cap;
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

/* A new tail chunk (its first row not yet written): doubling up to VLIST_MAX_CHUNK rows. */
static int grow(VPool *p, VList *l, unsigned w)
{
        seal(l);
        uint32_t cap = l->tail ? MIN(l->tail->cap * 2, cap_for(VLIST_MAX_CHUNK, w))
                               : cap_for(VLIST_MIN_CHUNK, w);
        VChunk *k = chunk_get(p, cap);
        if (!k)
                return -ENOMEM;
        if (l->tail) {
                l->sealed += l->tail->n;
                l->tail->next = k;
        } else
                l->head = k;
        l->tail = k;
        l->next = k->v;
        l->end = k->v + cap / w * w;
        return 0;
}

int vlist_push_slow(VPool *p, VList *l, uint64_t v)
{
        int r = grow(p, l, 1);
        if (r < 0)
                return r;
        *l->next++ = v;
        return 0;
}

int vlist_push_row_slow(VPool *p, VList *l, const uint64_t *row, unsigned w)
{
        if (!vlist_has_room(l)) {
                int r = grow(p, l, w);
                if (r < 0)
                        return r;
        }
        memcpy(l->next, row, w * sizeof(uint64_t));
        l->next += w;
        return 0;
}

void vlist_join(VList *dst, VList *src)
{
        if (!src->head)
                return;
        seal(dst);
        seal(src);
        if (dst->tail) {
                dst->tail->next = src->head;
                dst->sealed += dst->tail->n;
        } else
                dst->head = src->head;
        dst->sealed += src->sealed;
        dst->tail = src->tail;
        dst->next = src->next;
        dst->end = src->end;
        *src = (VList){};
}

uint64_t *vlist_copy_column(VList *l, unsigned w, unsigned c, uint64_t *out)
{
        seal(l);
        for (const VChunk *k = l->head; k; k = k->next) {
                if (w == 1) {
                        memcpy(out, k->v, k->n * sizeof(uint64_t));
                        out += k->n;
                        continue;
                }
                for (uint32_t i = c; i < k->n; i += w)
                        *out++ = k->v[i];
        }
        return out;
}

void vlist_rewrite(VPool *p, VList *l, const uint64_t *v, uint64_t n)
{
        seal(l);
        /* Refill the existing chunks in order; chunks past the new end go back to the pool. */
        VChunk *k = l->head, *last = NULL;
        uint64_t left = n, before = 0;
        while (k && left > 0) {
                uint32_t take = (uint32_t)MIN((uint64_t)k->cap, left);
                memcpy(k->v, v, take * sizeof(uint64_t));
                k->n = take;
                v += take;
                left -= take;
                if (last)
                        before += last->n;
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
        l->sealed = before;
}

void vlist_release(VPool *p, VList *l)
{
        for (VChunk *k = l->head; k && p;) {
                VChunk *next = k->next;
                chunk_put(p, k);
                k = next;
        }
        *l = (VList){};
}

void vlist_seal(VList *l)
{
        seal(l);
}
