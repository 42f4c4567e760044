#include "sketch.h"

#include <math.h>

typedef struct Store {
        int32_t offset; /* key of counts[0] */
        uint32_t n;     /* length of counts */
        uint64_t *counts;
        uint64_t total;
} Store;

struct Sketch {
        Store pos, neg;
        uint64_t zeros;
};

static double gamma_ln(void)
{
        static double g;
        if (g == 0)
                g = log((1 + SKETCH_REL_ACCURACY) / (1 - SKETCH_REL_ACCURACY));
        return g;
}

/* Magnitudes below this count as zero: keeps keys inside int32 and the store bounded. */
#define SKETCH_MIN_MAGNITUDE 1e-300

int sketch_new(Sketch **ret)
{
        Sketch *s = calloc(1, sizeof(Sketch));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

Sketch *sketch_free(Sketch *s)
{
        if (s) {
                free(s->pos.counts);
                free(s->neg.counts);
                free(s);
        }
        return NULL;
}

/* Makes room for key; beyond SKETCH_MAX_BINS the lowest keys fold into the lowest kept. */
static int store_add(Store *st, int32_t key, uint64_t count)
{
        if (st->n == 0) {
                st->counts = calloc(8, sizeof(uint64_t));
                if (!st->counts)
                        return -ENOMEM;
                st->n = 8;
                st->offset = key - 4;
        }
        int64_t lo = st->offset, hi = (int64_t)st->offset + st->n - 1;
        if (key < lo || key > hi) {
                int64_t nlo = MIN(lo, (int64_t)key), nhi = MAX(hi, (int64_t)key);
                if (nhi - nlo + 1 > SKETCH_MAX_BINS) {
                        nlo = nhi - SKETCH_MAX_BINS + 1;
                        if (key < nlo)
                                key = (int32_t)nlo; /* folded into the lowest kept bucket */
                }
                uint64_t span = (uint64_t)(nhi - nlo + 1);
                /* grow with slack so a drifting range does not realloc on every value */
                uint64_t want = MIN((uint64_t)SKETCH_MAX_BINS, MAX(span, (uint64_t)st->n * 2));
                int64_t alo = nlo, ahi = nhi;
                uint64_t extra = want - span;
                if (key <= lo)
                        alo = MAX(nhi - (int64_t)want + 1, nlo - (int64_t)extra);
                else
                        ahi = nlo + (int64_t)want - 1;
                if (ahi - alo + 1 > (int64_t)want)
                        alo = ahi - (int64_t)want + 1;
                uint64_t *c = calloc(want, sizeof(uint64_t));
                if (!c)
                        return -ENOMEM;
                for (uint32_t i = 0; i < st->n; i++) {
                        if (!st->counts[i])
                                continue;
                        int64_t k = st->offset + (int64_t)i;
                        if (k < alo)
                                k = alo;
                        c[k - alo] += st->counts[i];
                }
                free(st->counts);
                st->counts = c;
                st->n = (uint32_t)want;
                st->offset = (int32_t)alo;
                if (key < alo)
                        key = (int32_t)alo;
        }
        st->counts[key - st->offset] += count;
        st->total += count;
        return 0;
}

static int32_t key_of(double m)
{
        return (int32_t)ceil(log(m) / gamma_ln());
}

static double value_of(int32_t key)
{
        /* the point of bucket (gamma^(k-1), gamma^k] with relative error at most a */
        double g = (1 + SKETCH_REL_ACCURACY) / (1 - SKETCH_REL_ACCURACY);
        return 2 * exp((double)key * gamma_ln()) / (g + 1);
}

int sketch_add(Sketch *s, double v)
{
        if (v > SKETCH_MIN_MAGNITUDE)
                return store_add(&s->pos, key_of(v), 1);
        if (v < -SKETCH_MIN_MAGNITUDE)
                return store_add(&s->neg, key_of(-v), 1);
        s->zeros++;
        return 0;
}

static int store_merge(Store *dst, const Store *src)
{
        for (uint32_t i = 0; i < src->n; i++)
                if (src->counts[i]) {
                        int r = store_add(dst, src->offset + (int32_t)i, src->counts[i]);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int sketch_merge(Sketch *dst, const Sketch *src)
{
        int r = store_merge(&dst->pos, &src->pos);
        if (r == 0)
                r = store_merge(&dst->neg, &src->neg);
        dst->zeros += src->zeros;
        return r;
}

uint64_t sketch_count(const Sketch *s)
{
        return s->pos.total + s->neg.total + s->zeros;
}

double sketch_quantile(const Sketch *s, double q)
{
        uint64_t n = sketch_count(s);
        if (n == 0)
                return NAN;
        uint64_t rank = (uint64_t)floor(q * (double)(n - 1));
        uint64_t seen = 0;
        /* negatives from the largest magnitude down, then zeros, then positives up */
        for (uint32_t i = s->neg.n; i-- > 0;) {
                seen += s->neg.counts[i];
                if (seen > rank)
                        return -value_of(s->neg.offset + (int32_t)i);
        }
        seen += s->zeros;
        if (seen > rank)
                return 0;
        for (uint32_t i = 0; i < s->pos.n; i++) {
                seen += s->pos.counts[i];
                if (seen > rank)
                        return value_of(s->pos.offset + (int32_t)i);
        }
        return s->pos.n ? value_of(s->pos.offset + (int32_t)s->pos.n - 1) : 0;
}
