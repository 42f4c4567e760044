#include "shard.h"

#include <math.h>
#include <xxhash.h>

#include "csv.h"
#include "hll.h"
#include "neumaier.h"
#include "select.h"
#include "sketch.h"

#define DEDUP_MIN \
        1024 /* below this, sorting once at the end is cheaper than keeping the list unique */

const char *bad_reason_to_string(BadReason r)
{
        static const char *const names[_BAD_REASON_MAX] = {
            [BAD_FIELD_COUNT] = "wrong field count",
            [BAD_QUOTING] = "bad quoting",
            [BAD_TOO_LONG] = "record too long",
            [BAD_INT] = "bad int",
            [BAD_NUM] = "bad num",
            [BAD_TIME] = "bad time",
        };
        return (unsigned)r < _BAD_REASON_MAX ? names[r] : "bad row";
}

int shard_init(Shard *s, const SourcePlan *plan)
{
        *s = (Shard){.plan = plan};
        for (size_t i = 0; i < CONFIG_MAX_COLUMNS; i++)
                s->newest[i] = INT64_MIN;
        int r = bump_new(&s->arena);
        if (r < 0)
                return r;
        if ((r = vpool_init(&s->pool)) < 0)
                return r;
        if ((r = intern_init(&s->intern)) < 0)
                return r;
        /* first half: one key of any size; second half: the keys of a batch */
        s->keybuf_size = 2 * (CSV_MAX_RECORD_BYTES + 16 * CONFIG_MAX_COLUMNS);
        s->keybuf = malloc(s->keybuf_size);
        s->views = calloc(plan->n_views + 1, sizeof(ViewShard));
        s->batch = calloc(SHARD_BATCH * (plan->cfg->n_columns + 1), sizeof(Value));
        if (!s->keybuf || !s->views || !s->batch)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_views; i++) {
                s->views[i].plan = &plan->views[i];
                r = group_table_init(&s->views[i].groups, s->arena, plan->views[i].state_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void free_pointers(ViewShard *vs)
{
        const ViewPlan *vp = vs->plan;
        for (size_t a = 0; a < vp->n_accs; a++) {
                if (vp->accs[a].kind != ACC_SKETCH && vp->accs[a].kind != ACC_HLL)
                        continue;
                for (size_t g = 0; g < vs->groups.n; g++) {
                        void **p =
                            (void **)((char *)vs->groups.groups[g]->state + vp->accs[a].offset);
                        if (vp->accs[a].kind == ACC_SKETCH)
                                sketch_free(*p);
                        else
                                hll_free(*p);
                        *p = NULL;
                }
        }
}

void shard_done(Shard *s)
{
        if (s->views)
                for (size_t i = 0; i < s->plan->n_views; i++) {
                        if (s->views[i].groups.groups)
                                free_pointers(&s->views[i]);
                        group_table_done(&s->views[i].groups);
                        free(s->views[i].deferred);
                }
        free(s->views);
        free(s->keybuf);
        free(s->batch);
        free(s->scratch);
        intern_done(&s->intern);
        vpool_done(&s->pool);
        bump_free(s->arena);
        *s = (Shard){};
}

uint64_t shard_rows_rejected(const Shard *s)
{
        uint64_t n = 0;
        for (int i = 0; i < _BAD_REASON_MAX; i++)
                n += s->bad[i];
        return n;
}

static int scratch_reserve(Shard *s, size_t n)
{
        if (n <= s->scratch_size)
                return 0;
        size_t size = MAX(n, s->scratch_size * 2);
        uint64_t *p = realloc(s->scratch, size * sizeof(uint64_t));
        if (!p)
                return -ENOMEM;
        s->scratch = p;
        s->scratch_size = size;
        return 0;
}

/* t - window without overflow: "no time seen yet" is INT64_MIN */
static inline int64_t window_start(int64_t t, uint64_t window)
{
        int64_t r;
        if (window > (uint64_t)INT64_MAX || __builtin_sub_overflow(t, (int64_t)window, &r))
                return INT64_MIN;
        return r;
}

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

/* ---- keys ---- */

/* A key is, per group-by column, one type byte (VALUE_NIL for missing) then 8 bytes of
 * value, or for strings a 4-byte length and the bytes. */
static size_t encode_key(char *buf, const ViewConfig *v, const Value *row)
{
        size_t n = 0;
        for (size_t i = 0; i < v->n_group_by; i++) {
                const Value *x = &row[v->group_by[i]];
                buf[n++] = (char)x->type;
                if (x->type == VALUE_STR) {
                        memcpy(buf + n, &x->len, 4);
                        memcpy(buf + n + 4, x->s, x->len);
                        n += 4 + x->len;
                } else if (x->type == VALUE_NUM) {
                        double d = x->d == 0 ? 0.0 : x->d; /* -0 and 0 are one group */
                        memcpy(buf + n, &d, 8);
                        n += 8;
                } else if (x->type != VALUE_NIL) {
                        memcpy(buf + n, &x->i, 8);
                        n += 8;
                }
        }
        return n;
}

/* ---- accumulators ---- */

/* One 8-byte input per accumulator, prepared once per row so that held-back rows replay
 * exactly what a direct update would have done. Returns the missing-value mask. */
static int prepare_inputs(Shard *s, const ViewPlan *vp, const Value *row, uint64_t *in,
                          uint64_t *ret_missing)
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
                switch (acc->kind) {
                case ACC_SUMMARY:
                case ACC_VALUES: in[a] = (uint64_t)x->i; break; /* raw bits either way */
                case ACC_SKETCH: in[a] = dbits(x->type == VALUE_NUM ? x->d : (double)x->i); break;
                case ACC_SET:
                        if (x->type == VALUE_STR) {
                                const InternStr *e =
                                    intern_get(&s->intern, x->s, x->len, intern_hash(x->s, x->len));
                                if (!e)
                                        return -ENOMEM;
                                in[a] = (uint64_t)(uintptr_t)e;
                        } else if (x->type == VALUE_NUM)
                                in[a] = dbits(x->d == 0 ? 0.0 : x->d);
                        else
                                in[a] = (uint64_t)x->i;
                        break;
                case ACC_HLL:
                        if (x->type == VALUE_STR)
                                in[a] = XXH3_64bits(x->s, x->len);
                        else {
                                uint64_t u = x->type == VALUE_NUM ? dbits(x->d == 0 ? 0.0 : x->d)
                                                                  : (uint64_t)x->i;
                                in[a] = XXH3_64bits(&u, 8);
                        }
                        break;
                }
        }
        *ret_missing = missing;
        return 0;
}

static int dedup(Shard *s, DistinctSet *d)
{
        int r = scratch_reserve(s, d->list.n);
        if (r < 0)
                return r;
        vlist_copy(&d->list, s->scratch);
        size_t n = sort_unique_u64(s->scratch, d->list.n);
        vlist_rewrite(&s->pool, &d->list, s->scratch, n);
        d->next_dedup = MAX((uint64_t)DEDUP_MIN, 2 * (uint64_t)n);
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

static int update(Shard *s, const ViewPlan *vp, void *state, const uint64_t *in, uint64_t missing)
{
        (*(uint64_t *)state)++;
        for (size_t a = 0; a < vp->n_accs; a++) {
                if (missing & (UINT64_C(1) << a))
                        continue;
                const Acc *acc = &vp->accs[a];
                void *st = (char *)state + acc->offset;
                int r = 0;
                switch (acc->kind) {
                case ACC_SUMMARY: summary_add(st, acc->type, in[a]); break;
                case ACC_VALUES: r = vlist_push(&s->pool, st, in[a]); break;
                case ACC_SET: {
                        DistinctSet *d = st;
                        r = vlist_push(&s->pool, &d->list, in[a]);
                        if (r == 0 && d->list.n >= MAX(d->next_dedup, (uint64_t)DEDUP_MIN))
                                r = dedup(s, d);
                        break;
                }
                case ACC_SKETCH: {
                        Sketch **k = st;
                        if (!*k && !(*k = sketch_new()))
                                return -ENOMEM;
                        r = sketch_add(*k, bitsd(in[a]));
                        break;
                }
                case ACC_HLL: {
                        Hll **h = st;
                        if (!*h && !(*h = hll_new()))
                                return -ENOMEM;
                        r = hll_add(*h, in[a]);
                        break;
                }
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- rows ---- */

static int defer(Shard *s, ViewShard *vs, Group *group, int64_t ts, const uint64_t *in,
                 uint64_t missing)
{
        const ViewPlan *vp = vs->plan;
        size_t words = 3 + vp->n_accs;
        if (vs->n_deferred == vs->cap_deferred) {
                /* drop what the newest time seen so far already rules out, then grow */
                int64_t cutoff =
                    window_start(s->newest[vp->cfg->window_column], vp->cfg->window_usec);
                size_t k = 0;
                for (size_t i = 0; i < vs->n_deferred; i++) {
                        uint64_t *rec = vs->deferred + i * words;
                        if ((int64_t)rec[2] < cutoff)
                                continue;
                        if (k != i)
                                memmove(vs->deferred + k * words, rec, words * 8);
                        k++;
                }
                vs->n_deferred = k;
                if (k * 2 > vs->cap_deferred || vs->cap_deferred == 0) {
                        size_t cap = vs->cap_deferred ? vs->cap_deferred * 2 : 4096;
                        uint64_t *p = realloc(vs->deferred, cap * words * 8);
                        if (!p)
                                return -ENOMEM;
                        vs->deferred = p;
                        vs->cap_deferred = cap;
                }
        }
        uint64_t *rec = vs->deferred + vs->n_deferred++ * words;
        rec[0] = (uint64_t)(uintptr_t)group;
        rec[1] = missing;
        rec[2] = (uint64_t)ts;
        memcpy(rec + 3, in, vp->n_accs * 8);
        return 0;
}

static bool row_selected(const ViewPlan *vp, const Shard *s, const Value *row, int64_t *ret_ts)
{
        const ViewConfig *v = vp->cfg;
        if (!where_match(v->where, v->n_where, row))
                return false;
        if (v->window_column >= 0) {
                const Value *t = &row[v->window_column];
                if (t->type == VALUE_NIL)
                        return false;
                *ret_ts = t->i;
                if (vp->window_now && t->i < vp->now_cutoff)
                        return false;
                if (vp->deferred &&
                    t->i < window_start(s->newest[v->window_column], v->window_usec))
                        return false;
        }
        return true;
}

static int view_add_rows(Shard *s, ViewShard *vs, const Value *rows, size_t n, size_t nc)
{
        const ViewPlan *vp = vs->plan;
        const ViewConfig *v = vp->cfg;
        GroupTable *t = &vs->groups;
        uint64_t hash[SHARD_BATCH];
        int64_t ts[SHARD_BATCH];
        uint16_t sel[SHARD_BATCH];
        uint32_t koff[SHARD_BATCH], klens[SHARD_BATCH];
        Group *grp[SHARD_BATCH];
        size_t ns = 0;

        /* pass 1: filter, encode and hash the key, prefetch its slot. Keys are kept for
         * pass 3 while they fit the key buffer (re-encoded after that). */
        size_t kused = 0, kmax = s->keybuf_size / 2;
        for (size_t i = 0; i < n; i++) {
                const Value *row = rows + i * nc;
                ts[ns] = 0;
                if (!row_selected(vp, s, row, &ts[ns]))
                        continue;
                size_t klen = encode_key(s->keybuf, v, row);
                const char *kb = s->keybuf;
                koff[ns] = UINT32_MAX;
                if (kused + klen <= kmax) {
                        memcpy(s->keybuf + kmax + kused, kb, klen);
                        koff[ns] = (uint32_t)kused;
                        kused += klen;
                }
                klens[ns] = (uint32_t)klen;
                uint64_t h = group_key_hash(kb, klen);
                __builtin_prefetch(&t->slots[h & t->mask]);
                hash[ns] = h;
                sel[ns++] = (uint16_t)i;
        }
        /* pass 2: prefetch the record the slot points at: header, key, state */
        size_t lines = MIN((sizeof(Group) + 32 + t->state_size + 63) / 64, (size_t)4);
        for (size_t k = 0; k < ns; k++) {
                uint64_t slot = t->slots[hash[k] & t->mask];
                if (!slot)
                        continue;
                const char *rec = (const char *)(uintptr_t)(slot & ((UINT64_C(1) << 48) - 1));
                for (size_t l = 0; l < lines; l++)
                        __builtin_prefetch(rec + 64 * l);
        }
        /* pass 3: find or make the group, prefetch where its values go next */
        for (size_t k = 0; k < ns; k++) {
                const char *kb = s->keybuf;
                if (koff[k] == UINT32_MAX)
                        encode_key(s->keybuf, v, rows + sel[k] * nc);
                else
                        kb = s->keybuf + kmax + koff[k];
                bool fresh;
                Group *g = group_table_get(t, kb, klens[k], hash[k], true, &fresh);
                if (!g)
                        return -ENOMEM;
                grp[k] = g;
                if (vp->deferred)
                        continue;
                for (size_t a = 0; a < vp->n_accs; a++) {
                        const Acc *acc = &vp->accs[a];
                        const VList *l =
                            acc->kind == ACC_VALUES
                                ? (const VList *)((char *)g->state + acc->offset)
                            : acc->kind == ACC_SET
                                ? &((const DistinctSet *)((char *)g->state + acc->offset))->list
                                : NULL;
                        const void *next = l ? vlist_next_slot(l) : NULL;
                        if (next)
                                __builtin_prefetch(next, 1);
                }
        }
        /* pass 4: update */
        for (size_t k = 0; k < ns; k++) {
                const Value *row = rows + sel[k] * nc;
                uint64_t in[PLAN_MAX_ACCS], missing;
                int r = prepare_inputs(s, vp, row, in, &missing);
                if (r < 0)
                        return r;
                if (vp->deferred)
                        r = defer(s, vs, grp[k], ts[k], in, missing);
                else
                        r = update(s, vp, grp[k]->state, in, missing);
                if (r < 0)
                        return r;
        }
        return 0;
}

int shard_add_rows(Shard *s, const Value *rows, size_t n)
{
        const SourcePlan *sp = s->plan;
        const size_t nc = sp->cfg->n_columns;
        for (size_t c = 0; c < nc; c++) {
                if (!sp->track_max[c])
                        continue;
                for (size_t i = 0; i < n; i++) {
                        const Value *x = &rows[i * nc + c];
                        if (x->type != VALUE_NIL && x->i > s->newest[c])
                                s->newest[c] = x->i;
                }
        }
        for (size_t vi = 0; vi < sp->n_views; vi++) {
                int r = view_add_rows(s, &s->views[vi], rows, n, nc);
                if (r < 0)
                        return r;
        }
        return 0;
}

int shard_apply_deferred(Shard *s, const int64_t *newest)
{
        for (size_t vi = 0; vi < s->plan->n_views; vi++) {
                ViewShard *vs = &s->views[vi];
                const ViewPlan *vp = vs->plan;
                if (!vp->deferred)
                        continue;
                int64_t cutoff = window_start(newest[vp->cfg->window_column], vp->cfg->window_usec);
                size_t words = 3 + vp->n_accs;
                for (size_t i = 0; i < vs->n_deferred; i++) {
                        const uint64_t *rec = vs->deferred + i * words;
                        if ((int64_t)rec[2] < cutoff)
                                continue;
                        int r = update(s, vp, ((Group *)(uintptr_t)rec[0])->state, rec + 3, rec[1]);
                        if (r < 0)
                                return r;
                }
                free(vs->deferred);
                vs->deferred = NULL;
                vs->n_deferred = vs->cap_deferred = 0;
        }
        return 0;
}

/* ---- merging ---- */

static void summary_merge(Summary *d, const Summary *s, ValueType t)
{
        if (s->n == 0)
                return;
        if (d->n == 0) {
                *d = *s;
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

static int remap_strings(Shard *dst, VList *l)
{
        vlist_seal(l);
        for (VChunk *k = l->head; k; k = k->next)
                for (uint32_t i = 0; i < k->n; i++) {
                        const InternStr *e = (const InternStr *)(uintptr_t)k->v[i];
                        const InternStr *m = intern_get(&dst->intern, e->s, e->len, e->hash);
                        if (!m)
                                return -ENOMEM;
                        k->v[i] = (uint64_t)(uintptr_t)m;
                }
        return 0;
}

static int merge_state(Shard *dst, const ViewPlan *vp, void *ds, void *ss)
{
        *(uint64_t *)ds += *(uint64_t *)ss;
        for (size_t a = 0; a < vp->n_accs; a++) {
                const Acc *acc = &vp->accs[a];
                void *d = (char *)ds + acc->offset, *s = (char *)ss + acc->offset;
                int r = 0;
                switch (acc->kind) {
                case ACC_SUMMARY: summary_merge(d, s, acc->type); break;
                case ACC_VALUES: vlist_join(d, s); break;
                case ACC_SET: {
                        DistinctSet *dd = d, *sd = s;
                        if (acc->type == VALUE_STR && (r = remap_strings(dst, &sd->list)) < 0)
                                return r;
                        vlist_join(&dd->list, &sd->list);
                        break;
                }
                case ACC_SKETCH: {
                        Sketch **dk = d, **sk = s;
                        if (!*dk) {
                                *dk = *sk;
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

int shard_merge(Shard *dst, Shard *src)
{
        for (size_t vi = 0; vi < dst->plan->n_views; vi++) {
                ViewShard *dv = &dst->views[vi], *sv = &src->views[vi];
                for (size_t gi = 0; gi < sv->groups.n; gi++) {
                        Group *g = sv->groups.groups[gi];
                        bool fresh;
                        Group *d = group_table_get(&dv->groups, g->key, g->key_len, g->hash, false,
                                                   &fresh);
                        if (!d)
                                return -ENOMEM;
                        int r = merge_state(dst, dv->plan, d->state, g->state);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t c = 0; c < CONFIG_MAX_COLUMNS; c++)
                dst->newest[c] = MAX(dst->newest[c], src->newest[c]);
        dst->rows_read += src->rows_read;
        for (int i = 0; i < _BAD_REASON_MAX; i++)
                dst->bad[i] += src->bad[i];
        return 0;
}

/* ---- results ---- */

static int quantile_of(Shard *s, const Acc *acc, VList *l, double q, Value *out)
{
        if (l->n == 0) {
                *out = (Value){.type = VALUE_NIL};
                return 0;
        }
        int r = scratch_reserve(s, l->n);
        if (r < 0)
                return r;
        vlist_copy(l, s->scratch);
        double v = acc->type == VALUE_NUM ? quantile_cont_double((double *)s->scratch, l->n, q)
                                          : quantile_cont_int((int64_t *)s->scratch, l->n, q);
        *out = (Value){.type = VALUE_NUM, .d = v};
        return 0;
}

int shard_group_values(Shard *s, const ViewPlan *vp, void *state, Value *out)
{
        for (size_t a = 0; a < vp->cfg->n_aggregates; a++) {
                const AggPlan *ap = &vp->aggs[a];
                const Acc *acc = ap->acc >= 0 ? &vp->accs[ap->acc] : NULL;
                void *st = acc ? (char *)state + acc->offset : NULL;
                Value *o = &out[a];
                *o = (Value){.type = VALUE_NIL};
                switch (ap->def->kind) {
                case AGG_COUNT:
                        *o = (Value){.type = VALUE_INT, .i = (int64_t)group_rows(state)};
                        break;
                case AGG_SUM: {
                        const Summary *m = st;
                        if (ap->out_type == VALUE_INT) {
                                if (!m->overflow)
                                        *o = (Value){.type = VALUE_INT, .i = m->isum};
                        } else
                                *o = (Value){.type = VALUE_NUM, .d = m->n ? m->sum + m->comp : 0};
                        break;
                }
                case AGG_AVG: {
                        const Summary *m = st;
                        if (m->n == 0)
                                break;
                        double sum = acc->type == VALUE_INT && !m->overflow ? (double)m->isum
                                                                            : m->sum + m->comp;
                        *o = (Value){.type = VALUE_NUM, .d = sum / (double)m->n};
                        break;
                }
                case AGG_MIN:
                case AGG_MAX: {
                        const Summary *m = st;
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
                        int r = quantile_of(s, acc, st, ap->def->q, o);
                        if (r < 0)
                                return r;
                        break;
                }
                case AGG_DISTINCT: {
                        DistinctSet *d = st;
                        if (d->list.n > 0) {
                                int r = dedup(s, d);
                                if (r < 0)
                                        return r;
                        }
                        *o = (Value){.type = VALUE_INT, .i = (int64_t)d->list.n};
                        break;
                }
                case AGG_APPROX_QUANTILE: {
                        Sketch *k = *(Sketch **)st;
                        if (k && sketch_count(k) > 0)
                                *o =
                                    (Value){.type = VALUE_NUM, .d = sketch_quantile(k, ap->def->q)};
                        break;
                }
                case AGG_APPROX_DISTINCT: {
                        Hll *h = *(Hll **)st;
                        *o = (Value){.type = VALUE_INT, .i = h ? (int64_t)hll_count(h) : 0};
                        break;
                }
                default: break;
                }
        }
        return 0;
}
