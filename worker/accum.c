#include "accum.h"

#include <math.h>

#include "hll.h"
#include "quantile.h"
#include "sketch.h"

int accum_store_init(AccumStore *st)
{
        *st = (AccumStore){};
        int r = vpool_init(&st->pool);
        if (r < 0)
                return r;
        return intern_init(&st->intern);
}

void accum_store_done(AccumStore *st)
{
        free(st->seen);
        free(st->scratch);
        intern_done(&st->intern);
        vpool_done(&st->pool);
        *st = (AccumStore){};
}

static int scratch_reserve(AccumStore *st, size_t n)
{
        if (n <= st->scratch_size)
                return 0;
        size_t size = MAX(n, st->scratch_size * 2);
        uint64_t *p = realloc(st->scratch, size * sizeof(uint64_t));
        if (!p)
                return -ENOMEM;
        st->scratch = p;
        st->scratch_size = size;
        return 0;
}

/* 2^20 bits (128 KiB, within L2): values spanning less than that are deduplicated with one
 * bit each instead of a sort. Ints are kept as their two's complement bits, so the sign bit
 * is flipped first to make a range around zero small. */
#define ACCUM_SEEN_BITS (UINT64_C(1) << 20)

/* The bitmap for deduplicating n values spanning [lo, hi] (sign-flipped), or NULL when
 * they are to be sorted instead: a range too wide for it, too few values to pay for
 * clearing it, or no memory for it. */
static uint64_t *seen_for(AccumStore *st, uint64_t lo, uint64_t hi, size_t n)
{
        if (hi - lo >= ACCUM_SEEN_BITS || n < 16)
                return NULL;
        if (!st->seen)
                st->seen = calloc(ACCUM_SEEN_BITS / 64, sizeof(uint64_t));
        return st->seen;
}

/* Moves the distinct values of v to its front (in first-seen order, or sorted when the
 * range is too wide for the bitmap) and returns how many there are. */
static size_t unique_u64(AccumStore *st, uint64_t *v, size_t n)
{
        if (n < 2)
                return n;
        const uint64_t flip = UINT64_C(1) << 63;
        uint64_t lo = v[0] ^ flip, hi = lo;
        for (size_t i = 1; i < n; i++) {
                uint64_t x = v[i] ^ flip;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
        }
        uint64_t *seen = seen_for(st, lo, hi, n);
        if (!seen)
                return sort_unique_u64(v, n);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                uint64_t b = (v[i] ^ flip) - lo, m = UINT64_C(1) << (b & 63);
                uint64_t *w = &seen[b >> 6];
                uint64_t fresh = !(*w & m);
                *w |= m;
                v[k] = v[i]; /* branch-free: overwritten by the next value unless fresh */
                k += fresh;
        }
        for (size_t i = 0; i < k; i++)
                seen[((v[i] ^ flip) - lo) >> 6] = 0;
        return k;
}

/* An accumulator's values, in row order: its word of each of the group's value rows (while
 * it has not split), then its own list. From narrow rows (half: which 32 bits of the word,
 * -1 for full words) a value is its half sign-extended, and a num's is then the scaled int
 * (scaled: accum.h), which only the final values and the fallback's copy convert. A
 * group's values are all in one part: its rows move to the own lists when it splits. */
typedef struct Values {
        VList *part[2];
        unsigned w[2], c[2];
        int half;
        bool scaled;
        uint64_t n;
} Values;

static ValueRows *rows_of(const ViewPlan *vp, void *state)
{
        return (ValueRows *)((char *)state + vp->rows_offset);
}

/* Words in a value row. */
static unsigned rows_width(const ViewPlan *vp)
{
        return vp->rows_narrow ? 1 : vp->n_lists;
}

/* The row of in's list inputs as rows_width words into row; false when a narrow row's
 * inputs do not fit. */
static bool rows_make(const ViewPlan *vp, const uint64_t *in, uint64_t *row)
{
        if (!vp->rows_narrow) {
                for (unsigned c = 0; c < vp->n_lists; c++)
                        row[c] = in[vp->list_acc[c]];
                return true;
        }
        uint32_t a, b;
        if (!narrow_encode(vp->narrow_num[0], in[vp->list_acc[0]], &a) ||
            !narrow_encode(vp->narrow_num[1], in[vp->list_acc[1]], &b))
                return false;
        row[0] = a | (uint64_t)b << 32;
        return true;
}

/* Slot c's input word (accum_input's) of a narrow row word x. */
static uint64_t narrow_input(const ViewPlan *vp, unsigned c, uint64_t x)
{
        return narrow_decode(vp->narrow_num[c], (uint32_t)(x >> (32 * c)));
}

static void values_of(const ViewPlan *vp, void *state, const Acc *acc, Values *v)
{
        VList *own = (VList *)((char *)state + acc->offset); /* a DistinctSet's list first */
        *v = (Values){.part = {NULL, own}, .w = {1, 1}, .half = -1};
        if (vp->rows_offset) {
                v->part[0] = &rows_of(vp, state)->rows;
                v->w[0] = rows_width(vp);
                v->c[0] = vp->rows_narrow ? 0 : acc->slot;
                if (vp->rows_narrow && v->part[0]->head) {
                        v->half = (int)acc->slot;
                        v->scaled = vp->narrow_num[acc->slot];
                }
        }
        for (int i = 0; i < 2; i++)
                if (v->part[i] && v->part[i]->head) {
                        vlist_seal(v->part[i]);
                        uint64_t len = vlist_len(v->part[i]);
                        v->n += v->w[i] == 1 ? len : len / v->w[i]; /* a division is 20+ cycles */
                }
}

/* A stored word as the value it holds: a full word, or a narrow row's low or high half
 * sign-extended. Each loop over values is instantiated per kind with a constant one: with
 * the half picked by two variable shifts a value, Q1 500k's accum_values took 50.0 M
 * instructions, like this 42.0 M (42.7 M with full-word rows). */
static inline uint64_t as_word(uint64_t v)
{
        return v;
}
static inline uint64_t low_half(uint64_t v)
{
        return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}
static inline uint64_t high_half(uint64_t v)
{
        return (uint64_t)((int64_t)v >> 32);
}

/* Runs the statement after it with x set to each of vs's values (a uint64_t lvalue), each
 * stored word read through conv. */
#define FOR_EACH_VALUE(vs, x, conv)                                                       \
        for (unsigned p_ = 0; p_ < 2; p_++)                                               \
                for (const VChunk *k_ = (vs)->part[p_] ? (vs)->part[p_]->head : NULL; k_; \
                     k_ = k_->next)                                                       \
                        for (uint32_t i_ = (vs)->c[p_];                                   \
                             i_ < k_->n && ((x) = conv(k_->v[i_]), true); i_ += (vs)->w[p_])

static uint64_t *values_copy(Values *vs, uint64_t *out)
{
        uint64_t u;
        if (vs->half == 0) {
                FOR_EACH_VALUE (vs, u, low_half)
                        *out++ = u;
                return out;
        }
        if (vs->half == 1) {
                FOR_EACH_VALUE (vs, u, high_half)
                        *out++ = u;
                return out;
        }
        for (int i = 0; i < 2; i++)
                if (vs->part[i])
                        out = vlist_copy_column(vs->part[i], vs->w[i], vs->c[i], out);
        return out;
}

/* The number of distinct values of vs, which are not read again. Over a small range the
 * bitmap counts them in place, chunk by chunk: copying the list to scratch first (what
 * unique_u64 needs) was 1.6% of Q1's CPU at 10M rows (24,000 groups of 417 values). */
#define DEFINE_COUNT_UNIQUE(name, conv)                                            \
        static int name(AccumStore *st, Values *vs, size_t *ret)                   \
        {                                                                          \
                size_t n = vs->n;                                                  \
                if (n < 2) {                                                       \
                        *ret = n;                                                  \
                        return 0;                                                  \
                }                                                                  \
                const uint64_t flip = UINT64_C(1) << 63;                           \
                uint64_t lo = UINT64_MAX, hi = 0, u;                               \
                FOR_EACH_VALUE (vs, u, conv) {                                     \
                        uint64_t x = u ^ flip;                                     \
                        lo = x < lo ? x : lo;                                      \
                        hi = x > hi ? x : hi;                                      \
                }                                                                  \
                uint64_t *seen = seen_for(st, lo, hi, n);                          \
                if (!seen) {                                                       \
                        int r = scratch_reserve(st, n);                            \
                        if (r < 0)                                                 \
                                return r;                                          \
                        values_copy(vs, st->scratch);                              \
                        *ret = sort_unique_u64(st->scratch, n);                    \
                        return 0;                                                  \
                }                                                                  \
                size_t fresh = 0;                                                  \
                FOR_EACH_VALUE (vs, u, conv) {                                     \
                        uint64_t b = (u ^ flip) - lo, m = UINT64_C(1) << (b & 63); \
                        fresh += !(seen[b >> 6] & m);                              \
                        seen[b >> 6] |= m;                                         \
                }                                                                  \
                FOR_EACH_VALUE (vs, u, conv)                                       \
                        seen[((u ^ flip) - lo) >> 6] = 0;                          \
                *ret = fresh;                                                      \
                return 0;                                                          \
        }
DEFINE_COUNT_UNIQUE(count_unique_words, as_word)
DEFINE_COUNT_UNIQUE(count_unique_low, low_half)
DEFINE_COUNT_UNIQUE(count_unique_high, high_half)

static int count_unique(AccumStore *st, Values *vs, size_t *ret)
{
        return vs->half < 0    ? count_unique_words(st, vs, ret)
               : vs->half == 0 ? count_unique_low(st, vs, ret)
                               : count_unique_high(st, vs, ret);
}

/* Sorts and deduplicates an exact distinct set's own list (keeps it from growing with
 * rows). */
static int dedup(AccumStore *st, DistinctSet *d)
{
        uint64_t n = vlist_len(&d->list);
        int r = scratch_reserve(st, n);
        if (r < 0)
                return r;
        vlist_copy(&d->list, st->scratch);
        n = unique_u64(st, st->scratch, n);
        vlist_rewrite(&st->pool, &d->list, st->scratch, n);
        d->next_dedup = MAX((uint64_t)ACCUM_DEDUP_MIN, 2 * n);
        return 0;
}

static int dedup_due(AccumStore *st, DistinctSet *d)
{
        uint64_t n = vlist_len(&d->list);
        return n >= ACCUM_DEDUP_MIN && n >= d->next_dedup ? dedup(st, d) : 0;
}

int accum_list_push_slow(AccumStore *st, const Acc *acc, void *list, uint64_t v)
{
        VList *l = list;
        if (acc->kind == ACC_SET) {
                int r = dedup_due(st, list);
                if (r < 0)
                        return r;
                if (vlist_has_room(l)) {
                        *l->next++ = v;
                        return 0;
                }
        }
        return vlist_push_slow(&st->pool, l, v);
}

/* Moves a group's value rows into each accumulator's own list; every later value goes
 * there. The chunks go back to st's pool. */
static int rows_split(AccumStore *st, const ViewPlan *vp, void *state)
{
        ValueRows *vr = rows_of(vp, state);
        const unsigned w = rows_width(vp);
        vlist_seal(&vr->rows);
        for (const VChunk *k = vr->rows.head; k; k = k->next)
                for (uint32_t i = 0; i < k->n; i += w)
                        for (unsigned c = 0; c < vp->n_lists; c++) {
                                const Acc *acc = &vp->accs[vp->list_acc[c]];
                                VList *l = (VList *)((char *)state + acc->offset);
                                uint64_t x =
                                    vp->rows_narrow ? narrow_input(vp, c, k->v[i]) : k->v[i + c];
                                int r = vlist_push(&st->pool, l, x);
                                if (r < 0)
                                        return r;
                        }
        vlist_release(&st->pool, &vr->rows);
        vr->split = true;
        for (unsigned c = 0; c < vp->n_lists; c++) {
                const Acc *acc = &vp->accs[vp->list_acc[c]];
                if (acc->kind != ACC_SET)
                        continue;
                int r = dedup_due(st, (DistinctSet *)((char *)state + acc->offset));
                if (r < 0)
                        return r;
        }
        return 0;
}

int accum_rows_push_slow(AccumStore *st, const ViewPlan *vp, void *state, const uint64_t *in,
                         uint64_t missing)
{
        ValueRows *vr = rows_of(vp, state);
        const uint64_t m = missing & vp->list_mask;
        const unsigned w = rows_width(vp);
        if (m == vp->list_mask)
                return 0; /* nothing for any of them */
        int r;
        /* here with some missing, a narrow row that does not fit, or the rows' chunk full */
        if (!vr->split) {
                uint64_t row[VLIST_MAX_WIDTH];
                if (!m && rows_make(vp, in, row) &&
                    !(vp->rows_split_at_dedup && vlist_len(&vr->rows) / w >= ACCUM_DEDUP_MIN))
                        return vlist_push_row_slow(&st->pool, &vr->rows, row, w);
                if ((r = rows_split(st, vp, state)) < 0)
                        return r;
        }
        for (unsigned c = 0; c < vp->n_lists; c++) {
                size_t a = vp->list_acc[c];
                if (missing >> a & 1)
                        continue;
                VList *l = (VList *)((char *)state + vp->accs[a].offset);
                if (vlist_has_room(l))
                        *l->next++ = in[a];
                else if ((r = accum_list_push_slow(st, &vp->accs[a], l, in[a])) < 0)
                        return r;
        }
        return 0;
}

static void summary_merge(Summary *d, const Summary *s, ValueType t)
{
        if (s->n == 0)
                return;
        if (d->n == 0) {
                memcpy(d, s, t == VALUE_NUM ? SUMMARY_NUM_SIZE : sizeof(Summary));
                return;
        }
        if (t == VALUE_NUM) {
                d->min.d = MIN(d->min.d, s->min.d);
                d->max.d = MAX(d->max.d, s->max.d);
        } else {
                d->min.i = MIN(d->min.i, s->min.i);
                d->max.i = MAX(d->max.i, s->max.i);
                d->overflow |= s->overflow | __builtin_add_overflow(d->isum, s->isum, &d->isum);
        }
        d->comp += neumaier_add(&d->sum, s->sum) + s->comp;
        d->n += s->n;
}

/* Word c of every row of w words of l: interned in src's store, now in dst's. */
static int remap_strings(AccumStore *dst, VList *l, unsigned w, unsigned c)
{
        vlist_seal(l);
        for (VChunk *k = l->head; k; k = k->next)
                for (uint32_t i = c; i < k->n; i += w) {
                        const InternStr *e = (const InternStr *)(uintptr_t)k->v[i];
                        const InternStr *m = intern_get(&dst->intern, e->s, e->len, e->hash);
                        if (!m)
                                return -ENOMEM;
                        k->v[i] = (uint64_t)(uintptr_t)m;
                }
        return 0;
}

int accum_merge(AccumStore *dst, const ViewPlan *vp, void *dst_state, void *src_state)
{
        *(uint64_t *)dst_state += *(uint64_t *)src_state;
        if (vp->rows_offset) {
                ValueRows *dr = rows_of(vp, dst_state), *sr = rows_of(vp, src_state);
                int r = 0;
                if (dr->split || sr->split) {
                        /* both split: their own lists are joined below */
                        if (!dr->split)
                                r = rows_split(dst, vp, dst_state);
                        if (r >= 0 && !sr->split)
                                r = rows_split(dst, vp, src_state);
                        if (r < 0)
                                return r;
                } else {
                        for (unsigned c = 0; c < vp->n_lists; c++) {
                                const Acc *acc = &vp->accs[vp->list_acc[c]];
                                if (acc->kind == ACC_SET && acc->type == VALUE_STR &&
                                    (r = remap_strings(dst, &sr->rows, vp->n_lists, c)) < 0)
                                        return r;
                        }
                        vlist_join(&dr->rows, &sr->rows);
                }
        }
        for (size_t a = 0; a < vp->n_accs; a++) {
                const Acc *acc = &vp->accs[a];
                void *d = (char *)dst_state + acc->offset, *s = (char *)src_state + acc->offset;
                int r = 0;
                switch (acc->kind) {
                case ACC_SUMMARY: summary_merge(d, s, acc->type); break;
                case ACC_VALUES: vlist_join(d, s); break;
                case ACC_SET: {
                        DistinctSet *dd = d, *sd = s;
                        if (acc->type == VALUE_STR && (r = remap_strings(dst, &sd->list, 1, 0)) < 0)
                                return r;
                        vlist_join(&dd->list, &sd->list);
                        break;
                }
                case ACC_SKETCH: {
                        Sketch **dk = d, **sk = s;
                        if (!*dk) {
                                *dk = *sk; /* the first sketch of this group moves over */
                                *sk = NULL;
                        } else if (*sk)
                                r = sketch_merge(*dk, *sk);
                        break;
                }
                case ACC_HLL: {
                        Hll **dh = d, **sh = s;
                        if (!*dh) {
                                *dh = *sh;
                                *sh = NULL;
                        } else if (*sh)
                                r = hll_merge(*dh, *sh);
                        break;
                }
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* At most this many of the largest values are kept by quantile_top: 64 covers p95 up to
 * about 1,260 values a group. At 16, Q1 at 10M rows (417 values a group, m = 22) fell back
 * to the copy and quickselect: the views phase took 0.54 s, at 64 0.37 s (median of 3,
 * loaded machine, load 4). */
#define QUANTILE_TOP_MAX 64

/* quantile_cont when q is near 1 (p95 of a few hundred values per group): the two order
 * statistics around q * (n - 1) are among the m = n - lo largest, so one pass over the
 * chunks keeping those m in a small sorted array (a value below the smallest kept, nearly
 * all of them, costs one compare) replaces the copy to scratch and the selection. Same
 * order statistics, same arithmetic as quantile_cont_*, so the same result; false (the
 * caller selects) when m > QUANTILE_TOP_MAX, and for doubles when either statistic is a zero, whose
 * sign the selection's order would decide. */
#define DEFINE_QUANTILE_TOP(name, T, from_bits, check, to_double, conv)                   \
        static bool name(Values *vs, double q, double *ret)                               \
        {                                                                                 \
                size_t n = vs->n;                                                         \
                double pos = q * (double)(n - 1);                                         \
                size_t lo = (size_t)floor(pos);                                           \
                if (lo >= n - 1)                                                          \
                        lo = n - 1;                                                       \
                size_t m = n - lo, have = 0;                                              \
                if (m > QUANTILE_TOP_MAX)                                                 \
                        return false;                                                     \
                T top[QUANTILE_TOP_MAX]; /* ascending: top[0] is the m-th largest */      \
                uint64_t u;                                                               \
                FOR_EACH_VALUE (vs, u, conv) {                                            \
                        T x = from_bits(u);                                               \
                        size_t j;                                                         \
                        if (have < m) {                                                   \
                                for (j = have++; j > 0 && top[j - 1] > x; j--)            \
                                        top[j] = top[j - 1];                              \
                                top[j] = x;                                               \
                        } else if (x > top[0]) {                                          \
                                for (j = 0; j + 1 < m && top[j + 1] < x; j++)             \
                                        top[j] = top[j + 1];                              \
                                top[j] = x;                                               \
                        }                                                                 \
                }                                                                         \
                T a = top[0];                                                             \
                if (lo == n - 1 || pos == (double)lo) {                                   \
                        if (!check(a))                                                    \
                                return false;                                             \
                        *ret = to_double(a);                                              \
                        return true;                                                      \
                }                                                                         \
                T b = top[1];                                                             \
                if (!check(a) || !check(b))                                               \
                        return false;                                                     \
                *ret = to_double(a) + (pos - (double)lo) * (to_double(b) - to_double(a)); \
                return true;                                                              \
        }

static inline double double_from_bits(uint64_t u)
{
        double d;
        memcpy(&d, &u, sizeof(d));
        return d;
}
static inline int64_t int_from_bits(uint64_t u)
{
        return (int64_t)u;
}
static inline bool nonzero(double d)
{
        return d != 0;
}
static inline bool any_int(int64_t i)
{
        (void)i;
        return true;
}
static inline double as_double(double d)
{
        return d;
}
static inline double int_as_double(int64_t i)
{
        return (double)i;
}
DEFINE_QUANTILE_TOP(quantile_top_double, double, double_from_bits, nonzero, as_double, as_word)
DEFINE_QUANTILE_TOP(quantile_top_int, int64_t, int_from_bits, any_int, int_as_double, as_word)
DEFINE_QUANTILE_TOP(quantile_top_int_low, int64_t, int_from_bits, any_int, int_as_double, low_half)
DEFINE_QUANTILE_TOP(quantile_top_int_high, int64_t, int_from_bits, any_int, int_as_double,
                    high_half)
/* narrow nums (accum.h): no -0.0 among them, so a zero's sign decides nothing */
DEFINE_QUANTILE_TOP(quantile_top_scaled_low, int64_t, int_from_bits, any_int, narrow_num_value,
                    low_half)
DEFINE_QUANTILE_TOP(quantile_top_scaled_high, int64_t, int_from_bits, any_int, narrow_num_value,
                    high_half)

/* One of the above for vs's kind of values. */
static bool quantile_top(const Acc *acc, Values *vs, double q, double *ret)
{
        if (vs->half < 0)
                return acc->type == VALUE_NUM ? quantile_top_double(vs, q, ret)
                                              : quantile_top_int(vs, q, ret);
        if (vs->scaled)
                return vs->half ? quantile_top_scaled_high(vs, q, ret)
                                : quantile_top_scaled_low(vs, q, ret);
        return vs->half ? quantile_top_int_high(vs, q, ret) : quantile_top_int_low(vs, q, ret);
}

static int quantile_of(AccumStore *st, const Acc *acc, Values *l, double q, Value *out)
{
        if (l->n == 0) {
                *out = (Value){.type = VALUE_NIL};
                return 0;
        }
        double top;
        if (quantile_top(acc, l, q, &top)) {
                *out = (Value){.type = VALUE_NUM, .d = top};
                return 0;
        }
        int r = scratch_reserve(st, l->n);
        if (r < 0)
                return r;
        values_copy(l, st->scratch);
        if (l->scaled)
                for (uint64_t i = 0; i < l->n; i++)
                        ((double *)st->scratch)[i] = narrow_num_value((int64_t)st->scratch[i]);
        double v = acc->type == VALUE_NUM ? quantile_cont_double((double *)st->scratch, l->n, q)
                                          : quantile_cont_int((int64_t *)st->scratch, l->n, q);
        *out = (Value){.type = VALUE_NUM, .d = v};
        return 0;
}

static void prefetch_list(const VList *l)
{
        if (!l->head)
                return;
        __builtin_prefetch(l->head);
        /* the last chunk is the largest: its first 8 lines (the list's end is in its state) */
        const char *t = (const char *)l->tail, *end = (const char *)l->end;
        for (int i = 0; i < 8 && t < end; i++, t += 64)
                __builtin_prefetch(t);
}

void accum_prefetch_lists(const ViewPlan *vp, const void *state)
{
        if (vp->rows_offset)
                prefetch_list(&((const ValueRows *)((const char *)state + vp->rows_offset))->rows);
        for (size_t a = 0; a < vp->n_accs; a++) {
                const Acc *acc = &vp->accs[a];
                const char *p = (const char *)state + acc->offset;
                if (acc->kind == ACC_VALUES)
                        prefetch_list((const VList *)p);
                else if (acc->kind == ACC_SET)
                        prefetch_list(&((const DistinctSet *)p)->list);
        }
}

size_t accum_list_heads(const ViewPlan *vp, const void *state, const VChunk **heads, size_t max)
{
        size_t n = 0;
        if (vp->rows_offset && n < max)
                heads[n++] =
                    ((const ValueRows *)((const char *)state + vp->rows_offset))->rows.head;
        for (unsigned c = 0; c < vp->n_lists && n < max; c++)
                heads[n++] =
                    ((const VList *)((const char *)state + vp->accs[vp->list_acc[c]].offset))->head;
        return n;
}

int accum_values(AccumStore *st, const ViewPlan *vp, void *state, Value *out)
{
        for (size_t a = 0; a < vp->cfg->n_aggregates; a++) {
                const AggPlan *ap = &vp->aggs[a];
                const Acc *acc = ap->acc >= 0 ? &vp->accs[ap->acc] : NULL;
                void *p = acc ? (char *)state + acc->offset : NULL;
                Value *o = &out[a];
                *o = (Value){.type = VALUE_NIL};
                switch (ap->def->kind) {
                case AGG_COUNT:
                        *o = (Value){.type = VALUE_INT, .i = (int64_t)group_rows(state)};
                        break;
                case AGG_SUM: {
                        const Summary *m = p;
                        if (ap->out_type == VALUE_INT) {
                                if (!m->overflow)
                                        *o = (Value){.type = VALUE_INT, .i = m->isum};
                        } else
                                *o = (Value){.type = VALUE_NUM, .d = m->n ? m->sum + m->comp : 0};
                        break;
                }
                case AGG_AVG: {
                        const Summary *m = p;
                        if (m->n == 0)
                                break;
                        double sum = acc->type == VALUE_INT && !m->overflow ? (double)m->isum
                                                                            : m->sum + m->comp;
                        *o = (Value){.type = VALUE_NUM, .d = sum / (double)m->n};
                        break;
                }
                case AGG_MIN:
                case AGG_MAX: {
                        const Summary *m = p;
                        if (m->n == 0)
                                break;
                        o->type = (uint8_t)acc->type;
                        if (acc->type == VALUE_NUM)
                                o->d = ap->def->kind == AGG_MIN ? m->min.d : m->max.d;
                        else
                                o->i = ap->def->kind == AGG_MIN ? m->min.i : m->max.i;
                        break;
                }
                case AGG_QUANTILE: {
                        Values vs;
                        values_of(vp, state, acc, &vs);
                        int r = quantile_of(st, acc, &vs, ap->def->q, o);
                        if (r < 0)
                                return r;
                        break;
                }
                case AGG_DISTINCT: {
                        Values vs;
                        values_of(vp, state, acc, &vs);
                        size_t n;
                        int r = count_unique(st, &vs, &n);
                        if (r < 0)
                                return r;
                        *o = (Value){.type = VALUE_INT, .i = (int64_t)n};
                        break;
                }
                case AGG_APPROX_QUANTILE: {
                        Sketch *k = *(Sketch **)p;
                        if (k && sketch_count(k) > 0)
                                *o =
                                    (Value){.type = VALUE_NUM, .d = sketch_quantile(k, ap->def->q)};
                        break;
                }
                case AGG_APPROX_DISTINCT: {
                        Hll *h = *(Hll **)p;
                        *o = (Value){.type = VALUE_INT, .i = h ? (int64_t)hll_count(h) : 0};
                        break;
                }
                default: break;
                }
        }
        return 0;
}

void accum_state_done(const ViewPlan *vp, void *state)
{
        for (size_t a = 0; a < vp->n_accs; a++) {
                void **p = (void **)((char *)state + vp->accs[a].offset);
                if (vp->accs[a].kind == ACC_SKETCH)
                        *p = sketch_free(*p);
                else if (vp->accs[a].kind == ACC_HLL)
                        *p = hll_free(*p);
        }
}
