#include "fastkey.h"

#include "bump.h"
#include "groups.h"
#include "key.h"

/* A power of two: an entry never straddles a cache line. */
static unsigned entry_stride(unsigned nw)
{
        unsigned stride = 4;
        while (stride < nw + 1)
                stride *= 2;
        return stride;
}

int fast_index_init(FastIndex *f, size_t n_group_by)
{
        *f = (FastIndex){};
        if (n_group_by == 0 || n_group_by > FASTKEY_MAX_COLUMNS)
                return 0;
        unsigned nw = (unsigned)n_group_by + 1;
        f->slots = bump_map_array(64 * entry_stride(nw) * sizeof(uint64_t));
        if (!f->slots)
                return -ENOMEM;
        f->mask = 63;
        f->nw = nw;
        f->stride = entry_stride(nw);
        f->n_keys = (unsigned)n_group_by;
        return 0;
}

void fast_index_done(FastIndex *f)
{
        if (f->slots)
                bump_unmap_array(f->slots, (f->mask + 1) * f->stride * sizeof(uint64_t));
        *f = (FastIndex){};
}

bool fast_key_pack_slow(FastIndex *f, const ViewConfig *v, const Value *row, uint64_t *w)
{
        uint64_t types = 0;
        unsigned k = 1;
        for (size_t i = 0; i < v->n_group_by; i++) {
                const Value *x = &row[v->group_by[i]];
                uint64_t t;
                unsigned n;
                if (v->bucket_usec && v->bucket_usec[i] && x->type == VALUE_TIME) {
                        Value b = {.type = VALUE_TIME,
                                   .i = key_bucket_start(x->i, v->bucket_usec[i])};
                        n = fast_key_cell(f, &b, i, &t, &w[k]);
                } else if (!(n = fast_key_cell(f, x, i, &t, &w[k])))
                        return false;
                types |= t << (8 * i);
                k += n;
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

int fast_index_widen(FastIndex *f, const GroupTable *t)
{
        if (!f->nw || !f->want)
                return 0;
        if (t->n >= FASTKEY_MAX_GROUPS) {
                fast_index_done(f);
                return 0;
        }
        FastIndex nf = {.n_keys = f->n_keys, .wide = f->wide | f->want};
        nf.nw = f->n_keys + 1 + (unsigned)__builtin_popcount(nf.wide);
        nf.stride = entry_stride(nf.nw);
        size_t cap = 64;
        while (cap < 2 * (t->n + 1))
                cap *= 2; /* fast_index_add grows past half full */
        nf.slots = bump_map_array(cap * nf.stride * sizeof(uint64_t));
        if (!nf.slots)
                return -ENOMEM;
        nf.mask = cap - 1;
        /* the groups' keys are already bucket starts: packed as they are */
        for (size_t g = 0; g < t->n; g++) {
                const Group *gr = t->groups[g];
                Value keys[FASTKEY_MAX_COLUMNS];
                key_decode(gr->key, nf.n_keys, keys);
                uint64_t e[FASTKEY_MAX_WORDS + 1], types = 0;
                unsigned k = 1, n = 1;
                for (size_t i = 0; i < nf.n_keys && n; i++) {
                        uint64_t ty;
                        n = fast_key_cell(&nf, &keys[i], i, &ty, &e[k]);
                        types |= ty << (8 * i);
                        k += n;
                }
                if (!n)
                        continue; /* a longer string: this group stays the table's */
                e[0] = types;
                e[nf.nw] = (uint64_t)(uintptr_t)gr->state;
                put(nf.slots, nf.mask, nf.stride, nf.nw, e, fast_key_hash(e, nf.nw));
                nf.n++;
        }
        /* nf.want: another column's 9 to 16 bytes met only now (its rows stopped at an
         * earlier column before): widened at the next batch */
        fast_index_done(f);
        *f = nf;
        return 0;
}
