#include "fastkey.h"

#include "bump.h"
#include "groups.h"
#include "key.h"

/* The words an entry takes: the key's, and the state pointer's unless tagged. */
static unsigned entry_words(const FastIndex *f)
{
        return f->tagged ? f->nw : f->nw + 1;
}

/* A power of two: an entry never straddles a cache line. */
static unsigned entry_stride(unsigned words)
{
        unsigned stride = 4;
        while (stride < words)
                stride *= 2;
        return stride;
}

/* The entry for key words w and state into e. */
static void entry_make(const FastIndex *f, const uint64_t *w, void *state, uint64_t *e)
{
        if (f->tagged) {
                e[0] = w[0] << 48 | ((uint64_t)(uintptr_t)state & FASTKEY_PTR_MASK);
                memcpy(e + 1, w + 1, (f->nw - 1) * sizeof(uint64_t));
        } else {
                memcpy(e, w, f->nw * sizeof(uint64_t));
                e[f->nw] = (uint64_t)(uintptr_t)state;
        }
}

/* The key words of entry e (for rehashing). */
static void entry_key(const FastIndex *f, const uint64_t *e, uint64_t *w)
{
        memcpy(w, e, f->nw * sizeof(uint64_t));
        if (f->tagged)
                w[0] = e[0] >> 48;
}

static bool entry_used(const FastIndex *f, const uint64_t *e)
{
        return e[f->tagged ? 0 : f->nw] != 0;
}

int fast_index_init(FastIndex *f, size_t n_group_by)
{
        *f = (FastIndex){};
        if (n_group_by == 0 || n_group_by > FASTKEY_MAX_COLUMNS)
                return 0;
        f->nw = (unsigned)n_group_by + 1;
        f->n_keys = (unsigned)n_group_by;
        f->tagged = n_group_by <= 2;
        f->stride = entry_stride(entry_words(f));
        f->slots = bump_map_array(64 * f->stride * sizeof(uint64_t));
        if (!f->slots) {
                *f = (FastIndex){};
                return -ENOMEM;
        }
        f->mask = 63;
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
                        n = fast_key_cell(&b, f->wide >> i & 1, &t, &w[k]);
                } else if (!(n = fast_key_cell(x, f->wide >> i & 1, &t, &w[k]))) {
                        fast_key_note(f, x, i);
                        return false;
                }
                types |= t << (8 * i);
                k += n;
        }
        w[0] = types;
        return true;
}

/* Enters entry e at its slot in f (not full). */
static void put(FastIndex *f, const uint64_t *e, uint64_t h)
{
        size_t i = h & f->mask;
        while (entry_used(f, f->slots + i * f->stride))
                i = (i + 1) & f->mask;
        memcpy(f->slots + i * f->stride, e, entry_words(f) * sizeof(uint64_t));
}

static int grow(FastIndex *f)
{
        size_t cap = (f->mask + 1) * 2;
        FastIndex nf = *f;
        nf.slots = bump_map_array(cap * f->stride * sizeof(uint64_t));
        if (!nf.slots)
                return -ENOMEM;
        nf.mask = cap - 1;
        for (size_t i = 0; i <= f->mask; i++) {
                const uint64_t *e = f->slots + i * f->stride;
                uint64_t w[FASTKEY_MAX_WORDS];
                if (!entry_used(f, e))
                        continue;
                entry_key(f, e, w);
                put(&nf, e, fast_key_hash(w, f->nw));
        }
        bump_unmap_array(f->slots, (f->mask + 1) * f->stride * sizeof(uint64_t));
        *f = nf;
        return 0;
}

int fast_index_add(FastIndex *f, const uint64_t *w, uint64_t h, void *state)
{
        if (f->n >= FASTKEY_MAX_GROUPS) {
                fast_index_done(f);
                return 0;
        }
        uint64_t e[FASTKEY_MAX_WORDS + 1];
        entry_make(f, w, state, e);
        put(f, e, h);
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
        FastIndex nf = {.n_keys = f->n_keys, .tagged = f->tagged, .wide = f->wide | f->want};
        nf.nw = f->n_keys + 1 + (unsigned)__builtin_popcount(nf.wide);
        nf.stride = entry_stride(entry_words(&nf));
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
                uint64_t w[FASTKEY_MAX_WORDS], e[FASTKEY_MAX_WORDS + 1], types = 0;
                unsigned k = 1, n = 1;
                for (size_t i = 0; i < nf.n_keys && n; i++) {
                        uint64_t ty;
                        n = fast_key_cell(&keys[i], nf.wide >> i & 1, &ty, &w[k]);
                        if (!n)
                                fast_key_note(&nf, &keys[i], i);
                        types |= ty << (8 * i);
                        k += n;
                }
                if (!n)
                        continue; /* a longer string: this group stays the table's */
                w[0] = types;
                entry_make(&nf, w, gr->state, e);
                put(&nf, e, fast_key_hash(w, nf.nw));
                nf.n++;
        }
        /* nf.want: another column's 9 to 16 bytes met only now (its rows stopped at an
         * earlier column before): widened at the next batch */
        fast_index_done(f);
        *f = nf;
        return 0;
}
