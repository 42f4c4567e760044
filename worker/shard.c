#include "shard.h"

#include "select.h"

#include "key.h"
#include "where.h"

const char *bad_reason_to_string(BadReason r)
{
        static const char *const names[_BAD_REASON_MAX] = {
            [BAD_FIELD_COUNT] = "wrong field count",
            [BAD_QUOTING] = "bad quoting",
            [BAD_TOO_LONG] = "record too long",
            [BAD_INT] = "bad int",
            [BAD_NUM] = "bad num",
            [BAD_TIME] = "bad time",
            [BAD_JSON] = "bad JSON",
        };
        return (unsigned)r < _BAD_REASON_MAX ? names[r] : "bad row";
}

int shard_init(Shard *s, const SourcePlan *plan)
{
        *s = (Shard){.plan = plan};
        for (size_t i = 0; i < CONFIG_MAX_COLUMNS; i++)
                s->newest[i] = INT64_MIN;
        int r = bump_new(&s->bump);
        if (r < 0)
                return r;
        if ((r = accum_store_init(&s->store)) < 0)
                return r;
        /* first half: one key of any size; second half: the keys of a batch */
        s->keybuf_size = 2 * KEY_MAX_BYTES(SHARD_MAX_ROW_BYTES);
        s->keybuf = malloc(s->keybuf_size);
        s->views = calloc(plan->n_views + 1, sizeof(ViewShard));
        s->batch = calloc(SHARD_BATCH * (plan->cfg->n_columns + 1), sizeof(Value));
        if (!s->keybuf || !s->views || !s->batch)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_views; i++) {
                s->views[i].plan = &plan->views[i];
                r = group_table_init(&s->views[i].groups, s->bump, plan->views[i].state_size,
                                     plan->views[i].hot_size);
                if (r < 0)
                        return r;
                if (!plan->views[i].select &&
                    (r = fast_index_init(&s->views[i].fast, plan->views[i].cfg->n_group_by)) < 0)
                        return r;
        }
        return 0;
}

/* Whether group states hold memory of their own (else the bump goes with everything) */
static bool owns_pointers(const ViewPlan *vp)
{
        for (size_t a = 0; a < vp->n_accs; a++)
                if (vp->accs[a].kind == ACC_SKETCH || vp->accs[a].kind == ACC_HLL)
                        return true;
        return false;
}

void shard_done(Shard *s)
{
        if (s->views)
                for (size_t i = 0; i < s->plan->n_views; i++) {
                        ViewShard *vs = &s->views[i];
                        for (size_t g = 0; g < vs->groups.n && owns_pointers(vs->plan); g++)
                                accum_state_done(vs->plan, vs->groups.groups[g]->state);
                        group_table_done(&vs->groups);
                        fast_index_done(&vs->fast);
                        select_rows_free(vs->select);
                        free(vs->deferred);
                }
        free(s->views);
        free(s->keybuf);
        free(s->batch);
        accum_store_done(&s->store);
        bump_free(s->bump);
        *s = (Shard){};
}

int shard_flush(Shard *s)
{
        if (s->n_batch == 0)
                return 0;
        int r = shard_add_rows(s, s->batch, s->n_batch);
        s->n_batch = 0;
        return r;
}

uint64_t shard_rows_rejected(const Shard *s)
{
        uint64_t n = 0;
        for (int i = 0; i < _BAD_REASON_MAX; i++)
                n += s->bad[i];
        return n;
}

/* t - window without overflow: "no time seen yet" is INT64_MIN */
static inline int64_t window_start(int64_t t, uint64_t window)
{
        int64_t r;
        if (window > (uint64_t)INT64_MAX || __builtin_sub_overflow(t, (int64_t)window, &r))
                return INT64_MIN;
        return r;
}

/* ---- rows ---- */

/* A held-back row: its group's state pointer (48 bits) with the missing mask in the top
 * 16 bits when the view has at most 16 accumulators (else the mask in a word of its own),
 * the time, then the inputs: 40 bytes a row for Q2's three accumulators instead of 48. */
#define DEFER_PTR_BITS 48
static inline bool defer_narrow(const ViewPlan *vp)
{
        return vp->n_accs <= 64 - DEFER_PTR_BITS;
}
static inline size_t defer_words(const ViewPlan *vp)
{
        return (defer_narrow(vp) ? 2 : 3) + vp->n_accs;
}

static int defer(Shard *s, ViewShard *vs, void *state, int64_t ts, const uint64_t *in,
                 uint64_t missing)
{
        const ViewPlan *vp = vs->plan;
        size_t words = defer_words(vp), tw = words - vp->n_accs - 1; /* the time's word */
        if (vs->n_deferred == vs->cap_deferred) {
                /* drop what the newest time seen so far already rules out, then grow */
                int64_t cutoff =
                    window_start(s->newest[vp->cfg->window_column], vp->cfg->window_usec);
                size_t k = 0;
                for (size_t i = 0; i < vs->n_deferred; i++) {
                        uint64_t *rec = vs->deferred + i * words;
                        if ((int64_t)rec[tw] < cutoff)
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
        rec[0] = (uint64_t)(uintptr_t)state;
        if (defer_narrow(vp))
                rec[0] |= missing << DEFER_PTR_BITS;
        else
                rec[1] = missing;
        rec[tw] = (uint64_t)ts;
        memcpy(rec + tw + 1, in, vp->n_accs * 8);
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

/* The key buffer's second half holds a batch's encoded keys for pass 3 while they fit
 * (re-encoded after that). */
static void encode_for_later(Shard *s, const ViewConfig *v, const Value *row, size_t *kused,
                             uint32_t *koff, uint32_t *klen, uint64_t *hash)
{
        size_t kmax = s->keybuf_size / 2;
        size_t n = key_encode(s->keybuf, v, row);
        *koff = UINT32_MAX;
        if (*kused + n <= kmax) {
                memcpy(s->keybuf + kmax + *kused, s->keybuf, n);
                *koff = (uint32_t)*kused;
                *kused += n;
        }
        *klen = (uint32_t)n;
        *hash = group_key_hash(s->keybuf, n);
}

/* The cache lines of a state block a row's update touches (plan.h, hot_size). */
static size_t hot_lines(const ViewPlan *vp)
{
        return MIN((vp->hot_size + 63) / 64, (size_t)4);
}

static void prefetch_state(const void *state, size_t lines)
{
        for (size_t l = 0; l < lines; l++)
                __builtin_prefetch((const char *)state + 64 * l);
}

static int view_add_rows(Shard *s, ViewShard *vs, const Value *rows, size_t n, size_t nc)
{
        const ViewPlan *vp = vs->plan;
        if (vp->select)
                return select_add_rows(s, vs, rows, n, nc);
        const ViewConfig *v = vp->cfg;
        GroupTable *t = &vs->groups;
        FastIndex *f = &vs->fast;
        uint64_t hash[SHARD_BATCH], fh[SHARD_BATCH];
        uint64_t fk[SHARD_BATCH][FASTKEY_MAX_WORDS];
        int64_t ts[SHARD_BATCH];
        uint16_t sel[SHARD_BATCH];
        bool packed[SHARD_BATCH];
        uint32_t koff[SHARD_BATCH], klens[SHARD_BATCH];
        void *st[SHARD_BATCH];
        size_t ns = 0;
        size_t kused = 0;
        size_t lines = hot_lines(vp);
        if (f->want) {
                int r = fast_index_widen(f, t);
                if (r < 0)
                        return r;
        }

        /* pass 1: filter; pack the key and prefetch its fast-index entry, or (a key that does
         * not pack) encode and hash it and prefetch its group-table slot */
        for (size_t i = 0; i < n; i++) {
                const Value *row = rows + i * nc;
                ts[ns] = 0;
                if (!row_selected(vp, s, row, &ts[ns]))
                        continue;
                packed[ns] = f->nw && fast_key_pack(f, v, row, fk[ns]);
                if (packed[ns]) {
                        uint64_t h = fast_key_hash(fk[ns], f->nw);
                        __builtin_prefetch(fast_index_slot(f, h));
                        fh[ns] = h;
                        koff[ns] = UINT32_MAX;
                        klens[ns] = 0;
                } else {
                        encode_for_later(s, v, row, &kused, &koff[ns], &klens[ns], &hash[ns]);
                        __builtin_prefetch(&t->slots[hash[ns] & t->mask]);
                }
                sel[ns++] = (uint16_t)i;
        }
        /* pass 2: find packed keys and prefetch their state; prefetch the group record an
         * unpacked key's slot points at (header, key, state) */
        for (size_t k = 0; k < ns; k++) {
                if (packed[k]) {
                        st[k] = f->nw ? fast_index_find(f, fk[k], fh[k]) : NULL;
                        if (st[k])
                                prefetch_state(st[k], lines);
                        continue;
                }
                st[k] = NULL;
                uint64_t slot = t->slots[hash[k] & t->mask];
                if (slot)
                        prefetch_state((const char *)(uintptr_t)(slot & ((UINT64_C(1) << 48) - 1)),
                                       MIN(lines + 1, (size_t)4));
        }
        /* pass 3: the rest through the group table (new groups enter the fast index);
         * prefetch where each row's values go next */
        for (size_t k = 0; k < ns; k++) {
                if (!st[k]) {
                        const Value *row = rows + sel[k] * nc;
                        bool fast = packed[k] && f->nw;
                        if (fast && (st[k] = fast_index_find(f, fk[k], fh[k])))
                                goto found; /* made earlier in this batch */
                        if (packed[k])      /* not encoded in pass 1 */
                                encode_for_later(s, v, row, &kused, &koff[k], &klens[k], &hash[k]);
                        const char *kb = s->keybuf;
                        if (koff[k] == UINT32_MAX)
                                key_encode(s->keybuf, v, row);
                        else
                                kb = s->keybuf + s->keybuf_size / 2 + koff[k];
                        bool fresh;
                        Group *g = group_table_get(t, kb, klens[k], hash[k], true, &fresh);
                        if (!g)
                                return -ENOMEM;
                        st[k] = g->state;
                        if (fast) {
                                int r = fast_index_add(f, fk[k], fh[k], g->state);
                                if (r < 0)
                                        return r;
                        }
                }
        found:
                if (vp->deferred)
                        continue;
                if (vp->rows_offset) {
                        const void *next = vlist_next_slot(
                            &((const ValueRows *)((char *)st[k] + vp->rows_offset))->rows);
                        if (next)
                                __builtin_prefetch(next, 1);
                        continue;
                }
                for (size_t a = 0; a < vp->n_accs; a++) {
                        const Acc *acc = &vp->accs[a];
                        if (acc->kind != ACC_VALUES && acc->kind != ACC_SET)
                                continue;
                        /* a DistinctSet starts with its list */
                        const void *next =
                            vlist_next_slot((const VList *)((char *)st[k] + acc->offset));
                        if (next)
                                __builtin_prefetch(next, 1);
                }
        }
        /* pass 4: update */
        for (size_t k = 0; k < ns; k++) {
                const Value *row = rows + sel[k] * nc;
                int r;
                if (vp->deferred) {
                        uint64_t in[PLAN_MAX_ACCS], missing;
                        if ((r = accum_prepare_inputs(&s->store, vp, row, in, &missing)) < 0 ||
                            (r = defer(s, vs, st[k], ts[k], in, missing)) < 0)
                                return r;
                } else if ((r = accum_add_row(&s->store, vp, st[k], row)) < 0)
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
                if (vp->select) {
                        select_apply_cutoff(vs, newest);
                        continue;
                }
                int64_t cutoff = window_start(newest[vp->cfg->window_column], vp->cfg->window_usec);
                size_t words = defer_words(vp), tw = words - vp->n_accs - 1;
                bool narrow = defer_narrow(vp);
                const uint64_t ptr_mask = (UINT64_C(1) << DEFER_PTR_BITS) - 1;
                for (size_t i = 0; i < vs->n_deferred; i++) {
                        const uint64_t *rec = vs->deferred + i * words;
                        if ((int64_t)rec[tw] < cutoff)
                                continue;
                        void *state = (void *)(uintptr_t)(rec[0] & (narrow ? ptr_mask : ~0ull));
                        uint64_t missing = narrow ? rec[0] >> DEFER_PTR_BITS : rec[1];
                        int r = accum_update(&s->store, vp, state, rec + tw + 1, missing);
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

int shard_merge(Shard *dst, Shard *src)
{
        for (size_t vi = 0; vi < dst->plan->n_views; vi++) {
                ViewShard *dv = &dst->views[vi], *sv = &src->views[vi];
                if (dv->plan->select) {
                        int r = select_merge(dv, sv);
                        if (r < 0)
                                return r;
                        continue;
                }
                for (size_t gi = 0; gi < sv->groups.n; gi++) {
                        Group *g = sv->groups.groups[gi];
                        bool fresh;
                        Group *d = group_table_get(&dv->groups, g->key, g->key_len, g->hash, false,
                                                   &fresh);
                        if (!d)
                                return -ENOMEM;
                        int r = accum_merge(&dst->store, dv->plan, d->state, g->state);
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

int shard_set_new(const SourcePlan *plan, ShardSet **ret)
{
        ShardSet *set = calloc(1, sizeof(ShardSet));
        if (!set)
                return -ENOMEM;
        set->plan = plan;
        *ret = set;
        return 0;
}

static void shard_set_clear(ShardSet *set)
{
        for (size_t i = 0; i < set->n; i++)
                shard_done(&set->shards[i]);
        free(set->shards);
        set->shards = NULL;
        set->n = 0;
}

ShardSet *shard_set_free(ShardSet *set)
{
        if (!set)
                return NULL;
        shard_set_clear(set);
        free(set);
        return NULL;
}

int shard_set_reset(ShardSet *set, size_t n)
{
        shard_set_clear(set);
        set->shards = calloc(MAX(n, (size_t)1), sizeof(Shard));
        if (!set->shards)
                return -ENOMEM;
        set->n = n;
        for (size_t i = 0; i < n; i++) {
                int r = shard_init(&set->shards[i], set->plan);
                if (r < 0)
                        return r;
        }
        return 0;
}
