#include "hll.h"

#include <math.h>

#define HLL_M (1u << HLL_P)
#define HLL_Q (64 - HLL_P)

struct Hll {
        uint8_t *regs;    /* dense once non-NULL */
        uint64_t *set;    /* sparse: open addressing, 0 marks a free slot */
        uint32_t set_cap; /* power of two */
        uint32_t set_n;
        bool has_zero; /* the hash 0 cannot live in the set */
};

int hll_new(Hll **ret)
{
        Hll *h = calloc(1, sizeof(Hll));
        if (!h)
                return -ENOMEM;
        *ret = h;
        return 0;
}

Hll *hll_free(Hll *h)
{
        if (h) {
                free(h->regs);
                free(h->set);
                free(h);
        }
        return NULL;
}

static void dense_add(uint8_t *regs, uint64_t hash)
{
        uint32_t idx = (uint32_t)(hash >> HLL_Q);
        uint64_t w = (hash << HLL_P) | ((uint64_t)1 << (HLL_P - 1)); /* caps the rank */
        uint8_t rank = (uint8_t)(__builtin_clzll(w) + 1);
        if (rank > regs[idx])
                regs[idx] = rank;
}

static int to_dense(Hll *h)
{
        h->regs = calloc(HLL_M, 1);
        if (!h->regs)
                return -ENOMEM;
        for (uint32_t i = 0; i < h->set_cap; i++)
                if (h->set[i])
                        dense_add(h->regs, h->set[i]);
        if (h->has_zero)
                dense_add(h->regs, 0);
        free(h->set);
        h->set = NULL;
        h->set_cap = h->set_n = 0;
        return 0;
}

static bool set_insert(uint64_t *set, uint32_t cap, uint64_t hash)
{
        uint32_t mask = cap - 1, i = (uint32_t)hash & mask;
        while (set[i]) {
                if (set[i] == hash)
                        return false;
                i = (i + 1) & mask;
        }
        set[i] = hash;
        return true;
}

int hll_add(Hll *h, uint64_t hash)
{
        if (h->regs) {
                dense_add(h->regs, hash);
                return 0;
        }
        if (hash == 0) {
                h->set_n += !h->has_zero;
                h->has_zero = true;
        } else {
                if ((h->set_n + 1) * 2 > h->set_cap) {
                        if (h->set_n + 1 > HLL_SPARSE_MAX)
                                return to_dense(h) < 0 ? -ENOMEM : hll_add(h, hash);
                        uint32_t cap = h->set_cap ? h->set_cap * 2 : 16;
                        uint64_t *set = calloc(cap, sizeof(uint64_t));
                        if (!set)
                                return -ENOMEM;
                        for (uint32_t i = 0; i < h->set_cap; i++)
                                if (h->set[i])
                                        set_insert(set, cap, h->set[i]);
                        free(h->set);
                        h->set = set;
                        h->set_cap = cap;
                }
                h->set_n += set_insert(h->set, h->set_cap, hash);
        }
        return 0;
}

int hll_merge(Hll *dst, const Hll *src)
{
        int r = 0;
        if (src->regs) {
                if (!dst->regs && (r = to_dense(dst)) < 0)
                        return r;
                for (uint32_t i = 0; i < HLL_M; i++)
                        if (src->regs[i] > dst->regs[i])
                                dst->regs[i] = src->regs[i];
                return 0;
        }
        for (uint32_t i = 0; i < src->set_cap && r == 0; i++)
                if (src->set[i])
                        r = hll_add(dst, src->set[i]);
        if (r == 0 && src->has_zero)
                r = hll_add(dst, 0);
        return r;
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches", algorithm 6 */
static double sigma(double x)
{
        if (x == 1)
                return INFINITY;
        double y = 1, z = x, zp;
        do {
                x *= x;
                zp = z;
                z += x * y;
                y += y;
        } while (z != zp);
        return z;
}

static double tau(double x)
{
        if (x == 0 || x == 1)
                return 0;
        double y = 1, z = 1 - x, zp;
        do {
                x = sqrt(x);
                zp = z;
                y *= 0.5;
                z -= (1 - x) * (1 - x) * y;
        } while (z != zp);
        return z / 3;
}

uint64_t hll_count(const Hll *h)
{
        if (!h->regs)
                return h->set_n;
        unsigned c[HLL_Q + 2] = {};
        for (uint32_t i = 0; i < HLL_M; i++)
                c[h->regs[i]]++;
        double m = HLL_M;
        double z = m * tau(1 - c[HLL_Q + 1] / m);
        for (int k = HLL_Q; k >= 1; k--)
                z = 0.5 * (z + c[k]);
        z += m * sigma(c[0] / m);
        double e = (m * m) / (2 * log(2)) / z;
        return (uint64_t)llround(e);
}
