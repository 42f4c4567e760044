/* Accumulators: the per-group state behind the aggregates (plan.h says which a view
 * carries and where in the group's state block each lives), how a row's value goes in,
 * how two threads' states of one group merge, and the final value of every aggregate.
 *
 * A row's input to an accumulator is one 8-byte word prepared up front
 * (accum_prepare_inputs), so rows held back for a window replay exactly what a direct
 * update would have done. */
#pragma once

#include "neumaier.h"

#include <math.h>
#include <xxhash.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "hll.h"
#include "intern.h"
#include "plan.h"
#include "sketch.h"
#include "vlist.h"

typedef struct Summary {
        uint64_t n;
        double sum, comp; /* Neumaier-compensated sum (num columns; avg of int ones) */
        union {
                int64_t i;
                double d;
        } min, max;
        /* int and time columns only: a num column's summary ends here (SUMMARY_NUM_SIZE) */
        int64_t isum;
        bool overflow; /* isum wrapped: the int sum is reported as missing */
} Summary;
#define SUMMARY_NUM_SIZE offsetof(Summary, isum)

typedef struct DistinctSet {
        VList list;          /* first: a set is its list where one is expected */
        uint64_t next_dedup; /* sort and deduplicate when the list reaches this length */
} DistinctSet;

/* A view's two or more list accumulators (plan.h, rows_offset) take a row's inputs as one
 * row of words while all of them are present: one append position in the state's hot line
 * and one tail to write per row instead of one of each per accumulator (Q1: p95 and
 * distinct). A row with some but not all of them missing, or (with a distinct set among
 * them) rows reaching ACCUM_DEDUP_MIN, splits the group: its rows move into each
 * accumulator's own list, where every later value goes, so each accumulator's values stay
 * in row order whichever way they were kept (the order a quantile's selection sees). */
typedef struct ValueRows {
        VList rows; /* next, end first: the hot part */
        bool split;
} ValueRows;

/* What one thread's accumulators allocate from: value chunks, interned strings (exact
 * distinct over str keeps their pointers), and scratch space for sorting and selection. */
typedef struct AccumStore {
        VPool pool;
        Intern intern;
        uint64_t *scratch;
        size_t scratch_size; /* in words */
        uint64_t *seen;      /* ACCUM_SEEN_BITS bits, all clear between uses: small-range dedup */
} AccumStore;

int accum_store_init(AccumStore *st);
void accum_store_done(AccumStore *st);

/* A group state block starts with its row count. */
static inline uint64_t group_rows(const void *state)
{
        return *(const uint64_t *)state;
}

/* Per row and view, so inline: a call per accumulator would cost more than the work. */

/* Below this many values, counting once at the end is cheaper than keeping a distinct
 * set's list unique; past it the list is deduplicated whenever a chunk fills and it has
 * doubled since the last time. */
#define ACCUM_DEDUP_MIN 1024

static inline uint64_t dbits(double d)
{
        uint64_t u;
        memcpy(&u, &d, 8);
        return u;
}

static inline double bitsd(uint64_t u)
{
        double d;
        memcpy(&d, &u, 8);
        return d;
}

/* Narrow rows (plan.h, rows_narrow): a view's two list inputs, each as 32 bits, make one
 * word (slot 0 the low half), so a row writes 8 bytes instead of 16 and the finish phase
 * reads half as much (Q1 at 10M rows: 80 instead of 160 MB). An int is kept when it is in
 * int32 range; a num x as the int32 m with m / ACCUM_NARROW_SCALE == x exactly (the
 * division is correctly rounded, so a decimal with up to 3 digits after the point parsed
 * correctly rounded comes back bit for bit; -0.0, NaN, infinities and anything else do
 * not). Such m order and compare as their doubles do, so selection and deduplication run
 * on them and only the chosen values are converted. A row that does not fit splits its
 * group as a missing input does: its values then go to the accumulators' own lists as
 * full words. */
#define ACCUM_NARROW_SCALE 1000.0

/* Input word in (accum_input's) as 32 bits into *ret, or false. */
static inline bool narrow_encode(bool num, uint64_t in, uint32_t *ret)
{
        if (!num) {
                if ((int64_t)in != (int32_t)in)
                        return false;
                *ret = (uint32_t)in;
                return true;
        }
        double t = bitsd(in) * ACCUM_NARROW_SCALE;
#ifdef __SSE2__
        /* one cvtsd2si (to the nearest; NaN and out of range give INT64_MIN) instead of two
         * range compares and a rounding branch: Q1 500k, view_add_rows 243.2 -> 241.3 M
         * instructions */
        int64_t m = _mm_cvtsd_si64(_mm_set_sd(t));
        if (m != (int32_t)m)
                return false;
#else
        if (!(t > -2147483648.5 && t < 2147483647.5)) /* NaN too */
                return false;
        int32_t m = (int32_t)(t < 0 ? t - 0.5 : t + 0.5); /* the nearest */
#endif
        if (dbits((double)m / ACCUM_NARROW_SCALE) != in) /* exact, or not narrow */
                return false;
        *ret = (uint32_t)m;
        return true;
}

/* The double a narrow num m stands for. */
static inline double narrow_num_value(int64_t m)
{
        return (double)m / ACCUM_NARROW_SCALE;
}

/* narrow_encode's inverse: the input word the 32 bits u stand for. */
static inline uint64_t narrow_decode(bool num, uint32_t u)
{
        int64_t m = (int32_t)u;
        return num ? dbits(narrow_num_value(m)) : (uint64_t)m;
}

/* The input word of accumulator acc for the (present) value x; -ENOMEM when interning
 * fails. */
static inline int accum_input(AccumStore *st, const Acc *acc, const Value *x, uint64_t *ret)
{
        switch (acc->kind) {
        case ACC_SUMMARY:
        case ACC_VALUES: *ret = (uint64_t)x->i; break; /* raw bits either way */
        case ACC_SKETCH: *ret = dbits(x->type == VALUE_NUM ? x->d : (double)x->i); break;
        case ACC_SET:
                if (x->type == VALUE_STR) {
                        const InternStr *e =
                            intern_get(&st->intern, x->s, x->len, intern_hash(x->s, x->len));
                        if (!e)
                                return -ENOMEM;
                        *ret = (uint64_t)(uintptr_t)e;
                } else if (x->type == VALUE_NUM)
                        *ret = dbits(x->d == 0 ? 0.0 : x->d);
                else
                        *ret = (uint64_t)x->i;
                break;
        case ACC_HLL:
                if (x->type == VALUE_STR)
                        *ret = XXH3_64bits(x->s, x->len);
                else {
                        uint64_t u =
                            x->type == VALUE_NUM ? dbits(x->d == 0 ? 0.0 : x->d) : (uint64_t)x->i;
                        *ret = XXH3_64bits(&u, 8);
                }
                break;
        }
        return 0;
}

/* One input word per accumulator of vp from row (n_columns Values); *ret_missing gets a
 * bit per accumulator whose column is missing. -ENOMEM when interning fails. */
static inline int accum_prepare_inputs(AccumStore *st, const ViewPlan *vp, const Value *row,
                                       uint64_t *in, uint64_t *ret_missing)
{
        uint64_t missing = 0;
        for (size_t a = 0; a < vp->n_accs; a++) {
                const Acc *acc = &vp->accs[a];
                const Value *x = &row[acc->column];
                if (x->type == VALUE_NIL) {
                        missing |= UINT64_C(1) << a;
                        in[a] = 0;
                        continue;
                }
                int r = accum_input(st, acc, x, &in[a]);
                if (r < 0)
                        return r;
        }
        *ret_missing = missing;
        return 0;
}

static inline void summary_add(Summary *m, ValueType t, uint64_t in)
{
        if (t == VALUE_NUM) {
                double d = bitsd(in);
                if (m->n == 0)
                        m->min.d = m->max.d = d;
                else {
                        if (d < m->min.d)
                                m->min.d = d;
                        if (d > m->max.d)
                                m->max.d = d;
                }
                m->comp += neumaier_add(&m->sum, d);
        } else {
                int64_t v = (int64_t)in;
                if (m->n == 0)
                        m->min.i = m->max.i = v;
                else {
                        if (v < m->min.i)
                                m->min.i = v;
                        if (v > m->max.i)
                                m->max.i = v;
                }
                m->overflow |= __builtin_add_overflow(m->isum, v, &m->isum);
                m->comp += neumaier_add(&m->sum, (double)v);
        }
        m->n++;
}

/* The out-of-line halves of accum_update: a value list's new chunk (and a distinct
 * set's deduplication, checked then), and value rows that do not take the fast path. */
int accum_list_push_slow(AccumStore *st, const Acc *acc, void *list, uint64_t v);
int accum_rows_push_slow(AccumStore *st, const ViewPlan *vp, void *state, const uint64_t *in,
                         uint64_t missing);

/* One non-summary accumulator's input v into its part p of a state: a list or set append
 * (deferred to accum_push_rows when the view keeps value rows), a sketch or an HLL. */
static inline __attribute__((always_inline)) int accum_apply(AccumStore *st, const ViewPlan *vp,
                                                             const Acc *acc, void *p, uint64_t v)
{
        switch (acc->kind) {
        case ACC_VALUES:
        case ACC_SET: {
                if (vp->rows_offset)
                        return 0; /* accum_push_rows, with the others */
                VList *l = p;     /* a DistinctSet starts with its list */
                if (_likely_(vlist_has_room(l))) {
                        *l->next++ = v;
                        return 0;
                }
                return accum_list_push_slow(st, acc, p, v);
        }
        case ACC_SKETCH: {
                Sketch **k = p;
                int r;
                if (!*k && (r = sketch_new(k)) < 0)
                        return r;
                return sketch_add(*k, bitsd(v));
        }
        case ACC_HLL: {
                Hll **h = p;
                int r;
                if (!*h && (r = hll_new(h)) < 0)
                        return r;
                return hll_add(*h, v);
        }
        default: return 0;
        }
}

/* The row's list inputs as one value row, for views that keep them so. */
static inline __attribute__((always_inline)) int accum_push_rows(AccumStore *st, const ViewPlan *vp,
                                                                 void *state, const uint64_t *in,
                                                                 uint64_t missing)
{
        if (!vp->rows_offset)
                return 0;
        VList *l = &((ValueRows *)((char *)state + vp->rows_offset))->rows;
        if (vp->rows_narrow) {
                uint32_t a, b;
                if (_likely_(!(missing & vp->list_mask) && vlist_has_room(l) &&
                             narrow_encode(vp->narrow_num[0], in[vp->list_acc[0]], &a) &&
                             narrow_encode(vp->narrow_num[1], in[vp->list_acc[1]], &b))) {
                        *l->next++ = a | (uint64_t)b << 32;
                        return 0;
                }
                return accum_rows_push_slow(st, vp, state, in, missing);
        }
        if (_likely_(!(missing & vp->list_mask) && vlist_has_room(l))) {
                uint64_t *next = l->next;
                for (unsigned c = 0; c < vp->n_lists; c++)
                        next[c] = in[vp->list_acc[c]];
                l->next = next + vp->n_lists;
                return 0;
        }
        return accum_rows_push_slow(st, vp, state, in, missing);
}

/* Counts one row into a group's state. */
static inline int accum_update(AccumStore *st, const ViewPlan *vp, void *state, const uint64_t *in,
                               uint64_t missing)
{
        (*(uint64_t *)state)++;
        for (size_t a = 0; a < vp->n_accs; a++) {
                if (missing & (UINT64_C(1) << a))
                        continue;
                const Acc *acc = &vp->accs[a];
                void *p = (char *)state + acc->offset;
                int r = acc->kind == ACC_SUMMARY ? (summary_add(p, acc->type, in[a]), 0)
                                                 : accum_apply(st, vp, acc, p, in[a]);
                if (r < 0)
                        return r;
        }
        return accum_push_rows(st, vp, state, in, missing);
}

/* accum_add_row for views with narrow rows and summaries only (plan.h, narrow_direct): the
 * same updates, the summaries' from a list of them and the two list inputs straight from
 * their columns into the row word, instead of a loop over every accumulator dispatching on
 * its kind twice and the inputs stored and read back through list_acc. Q1 500k:
 * view_add_rows 241.3 -> 208.5 M instructions (66 a row). */
static inline __attribute__((always_inline)) int
accum_add_row_narrow(AccumStore *st, const ViewPlan *vp, void *state, const Value *row)
{
        (*(uint64_t *)state)++;
        for (unsigned i = 0; i < vp->n_summaries; i++) {
                const Acc *acc = &vp->accs[vp->summary_acc[i]];
                const Value *x = &row[acc->column];
                if (x->type != VALUE_NIL)
                        summary_add((Summary *)((char *)state + acc->offset), acc->type,
                                    (uint64_t)x->i);
        }
        uint64_t w[2];
        bool nil[2];
        for (unsigned c = 0; c < 2; c++) {
                const Value *x = &row[vp->narrow_col[c]];
                nil[c] = x->type == VALUE_NIL;
                /* accum_input's words: raw bits, a distinct set's -0.0 as 0 (a nil's word is
                 * never read) */
                w[c] = (uint64_t)x->i;
                if (vp->narrow_zero[c] && !nil[c] && x->d == 0)
                        w[c] = 0;
        }
        VList *l = &((ValueRows *)((char *)state + vp->rows_offset))->rows;
        uint32_t a, b;
        if (_likely_(!(nil[0] | nil[1]) && vlist_has_room(l) &&
                     narrow_encode(vp->narrow_num[0], w[0], &a) &&
                     narrow_encode(vp->narrow_num[1], w[1], &b))) {
                *l->next++ = a | (uint64_t)b << 32;
                return 0;
        }
        uint64_t in[PLAN_MAX_ACCS], missing = 0;
        for (unsigned c = 0; c < 2; c++) {
                in[vp->list_acc[c]] = w[c];
                missing |= (uint64_t)nil[c] << vp->list_acc[c];
        }
        return accum_rows_push_slow(st, vp, state, in, missing);
}

/* A row of Values straight into a group's state (views that hold no rows back for a
 * window): accum_prepare_inputs and accum_update in one loop, each input used where it is
 * made instead of stored for a second loop over the accumulators; the same updates in the
 * same order. */
static inline int accum_add_row(AccumStore *st, const ViewPlan *vp, void *state, const Value *row)
{
        if (vp->narrow_direct)
                return accum_add_row_narrow(st, vp, state, row);
        uint64_t in[PLAN_MAX_ACCS], missing = 0;
        (*(uint64_t *)state)++;
        for (size_t a = 0; a < vp->n_accs; a++) {
                const Acc *acc = &vp->accs[a];
                const Value *x = &row[acc->column];
                if (x->type == VALUE_NIL) {
                        missing |= UINT64_C(1) << a;
                        in[a] = 0;
                        continue;
                }
                void *p = (char *)state + acc->offset;
                if (acc->kind == ACC_SUMMARY) {
                        summary_add(p, acc->type, (uint64_t)x->i);
                        continue;
                }
                int r = accum_input(st, acc, x, &in[a]);
                if (r >= 0)
                        r = accum_apply(st, vp, acc, p, in[a]);
                if (r < 0)
                        return r;
        }
        return accum_push_rows(st, vp, state, in, missing);
}

/* Adds src_state (another thread's, allocated from its store) into dst_state. Pointers
 * src_state owns may move to dst_state; src's store must stay alive. */
int accum_merge(AccumStore *dst, const ViewPlan *vp, void *dst_state, void *src_state);
/* The aggregate values of one group, one Value per aggregate of the view (VALUE_NIL where
 * undefined). May reorder the group's stored values. */
int accum_values(AccumStore *st, const ViewPlan *vp, void *state, Value *out);
/* Prefetches the value lists' (or rows') first and last chunks of a state whose lines are already
 * on their way: accum_values reads them a few groups later (groups come in key order, so
 * every one is a miss). */
void accum_prefetch_lists(const ViewPlan *vp, const void *state);
/* The first chunks of a state's value lists (the value rows', then each list
 * accumulator's own), at most max of them, for following their chains ahead of
 * accum_values; returns how many. */
size_t accum_list_heads(const ViewPlan *vp, const void *state, const VChunk **heads, size_t max);
/* Frees what a group state owns outside the store (sketches, HyperLogLogs). */
void accum_state_done(const ViewPlan *vp, void *state);
