#include "fastkey.h"

#include "bump.h"
#include "key.h"

int fast_index_init(FastIndex *f, size_t n_group_by)
{
        *f = (FastIndex){};
        if (n_group_by == 0 || n_group_by > FASTKEY_MAX_COLUMNS)
                return 0;
        unsigned nw = (unsigned)n_group_by + 1, stride = 4;
        while (stride < nw + 1)
                stride *= 2; /* a power of two: an entry never straddles a cache line */
        f->slots = bump_map_array(64 * stride * sizeof(uint64_t));
        if (!f->slots)
                return -ENOMEM;
        f->mask = 63;
        f->nw = nw;
        f->stride = stride;
        return 0;
}

void fast_index_done(FastIndex *f)
{
        if (f->slots)
                bump_unmap_array(f->slots, (f->mask + 1) * f->stride * sizeof(uint64_t));
        *f = (FastIndex){};
}

bool fast_key_pack_slow(const ViewConfig *v, const Value *row, uint64_t *w)
{
        uint64_t types = 0;
        for (size_t i = 0; i < v->n_group_by; i++) {
                const Value *x = &row[v->group_by[i]];
                uint64_t t;
                if (v->bucket_usec && v->bucket_usec[i] && x->type == VALUE_TIME) {
                        t = x->type;
                        w[i + 1] = (uint64_t)key_bucket_start(x->i, v->bucket_usec[i]);
                } else if (!fast_key_cell(x, &t, &w[i + 1]))
                        return false;
                types |= t << (8 * i);
        }
        w[0] = types;
        return true;
}

static void put(uint64_t *slots, size_t mask, unsigned stride, unsigned nw, const uint64_t *e,
                uint64_t h)
{
        size_t i = h & mask;
        while (slots[i * stride + nw])
                i = (i + 1) & mask;
        memcpy(slots + i * stride, e, (nw + 1) * sizeof(uint64_t));
}

static int grow(FastIndex *f)
{
        size_t cap = (f->mask + 1) * 2;
        uint64_t *slots = bump_map_array(cap * f->stride * sizeof(uint64_t));
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i <= f->mask; i++) {
                const uint64_t *e = f->slots + i * f->stride;
                if (e[f->nw])
                        put(slots, cap - 1, f->stride, f->nw, e, fast_key_hash(e, f->nw));
        }
        bump_unmap_array(f->slots, (f->mask + 1) * f->stride * sizeof(uint64_t));
        f->slots = slots;
        f->mask = cap - 1;
        return 0;
}

int fast_index_add(FastIndex *f, const uint64_t *w, uint64_t h, void *state)
{
        if (f->n >= FASTKEY_MAX_GROUPS) {
                fast_index_done(f);
                return 0;
        }
        uint64_t e[FASTKEY_MAX_WORDS + 1];
        memcpy(e, w, f->nw * sizeof(uint64_t));
        e[f->nw] = (uint64_t)(uintptr_t)state;
        put(f->slots, f->mask, f->stride, f->nw, e, h);
        f->n++;
        return f->n * 2 > f->mask + 1 ? grow(f) : 0;
}
