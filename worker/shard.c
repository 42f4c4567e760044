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

static bool defer_packable(const ViewPlan *vp);
static uint16_t defer_nums(const ViewPlan *vp);

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
                s->views[i].deferred_wide = !defer_packable(&plan->views[i]);
                s->views[i].deferred_nums = defer_nums(&plan->views[i]);
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
 * the time, then the inputs: 40 bytes a row for Q2's three accumulators instead of 48.
 * Packed (the view shard's !deferred_wide), the time and the inputs after word 0 go as 32
 * bits each, two to a word: the time as whole milliseconds from the shard's first held
 * time (deferred_base), the inputs as accum.h's narrow_encode has them (exact or refused),
 * while every one held fits; the first that does not widens the view shard's whole array
 * once (defer_widen), so the replay sees the same times and input words whatever the data.
 * Q2 at 10M rows, whose held rows are nearly all of its peak: 24 instead of 40 bytes a
 * row, peak RSS 247 -> 214 MiB with only the inputs packed (32 bytes), 247 -> 176 MiB with
 * the time too (docs/performance.md, 2e). */
#define DEFER_PTR_BITS        48
#define DEFER_PACKED_WORDS(n) ((n + 2) / 2) /* after word 0: the time and n inputs */
#define DEFER_TIME_UNIT       1000          /* usec: a packed time is whole milliseconds */
static inline bool defer_narrow(const ViewPlan *vp)
{
        return vp->n_accs <= 64 - DEFER_PTR_BITS;
}

/* A bit per accumulator of vp (of the first 16) whose input packs as a num (else as an
 * int): a sketch's input is a double whatever its column. */
static uint16_t defer_nums(const ViewPlan *vp)
{
        uint16_t nums = 0;
        for (size_t a = 0; a < MIN(vp->n_accs, (size_t)16); a++)
                if (vp->accs[a].kind == ACC_SKETCH || vp->accs[a].type == VALUE_NUM)
                        nums |= (uint16_t)(1u << a);
        return nums;
}

/* Whether vp's held rows start packed: the mask shares word 0 and every input is a
 * number's (an interned string's address or a hash would never fit). */
static bool defer_packable(const ViewPlan *vp)
{
        if (!vp->deferred || !defer_narrow(vp))
                return false;
        for (size_t a = 0; a < vp->n_accs; a++) {
                const Acc *acc = &vp->accs[a];
                if (acc->kind == ACC_HLL || (acc->type != VALUE_INT && acc->type != VALUE_NUM))
                        return false;
        }
        return true;
}

static inline size_t defer_words(const ViewShard *vs)
{
        const ViewPlan *vp = vs->plan;
        if (!vs->deferred_wide)
                return 1 + DEFER_PACKED_WORDS(vp->n_accs);
        return (defer_narrow(vp) ? 2 : 3) + vp->n_accs;
}

/* The full-word layout's time word; the inputs follow it. */
static inline size_t defer_time_word(const ViewPlan *vp)
{
        return defer_narrow(vp) ? 1 : 2;
}

/* The time of held record rec. */
static inline int64_t defer_time(const ViewShard *vs, const uint64_t *rec)
{
        if (vs->deferred_wide)
                return (int64_t)rec[defer_time_word(vs->plan)];
        return vs->deferred_base + (int64_t)(int32_t)(uint32_t)rec[1] * DEFER_TIME_UNIT;
}

/* The time ts and the input words in[] (a missing one's is 0) as packed words into out[]
 * (slot 0 the time, slot a + 1 input a; slot 2j the low half of word j), or false. */
static inline __attribute__((always_inline)) bool defer_pack_n(const ViewShard *vs, int64_t ts,
                                                               const uint64_t *in, uint64_t missing,
                                                               uint64_t *out, size_t n)
{
        uint32_t slot[2 + 16];
        int64_t d;
        if (__builtin_sub_overflow(ts, vs->deferred_base, &d) || d % DEFER_TIME_UNIT != 0 ||
            d / DEFER_TIME_UNIT != (int32_t)(d / DEFER_TIME_UNIT))
                return false;
        slot[0] = (uint32_t)(int32_t)(d / DEFER_TIME_UNIT);
        unsigned nums = vs->deferred_nums;
        for (size_t a = 0; a < n; a++) {
                slot[a + 1] = 0;
                if (!(missing >> a & 1) && !narrow_encode(nums >> a & 1, in[a], &slot[a + 1]))
                        return false;
        }
        slot[n + 1] = 0;
        for (size_t w = 0; w < DEFER_PACKED_WORDS(n); w++)
                out[w] = slot[2 * w] | (uint64_t)slot[2 * w + 1] << 32;
        return true;
}

/* The input words defer_pack took (0 for a missing one, as accum_prepare_inputs gives). */
static inline __attribute__((always_inline)) void
defer_unpack_n(const ViewShard *vs, const uint64_t *words, uint64_t *in, size_t n)
{
        unsigned nums = vs->deferred_nums;
        for (size_t a = 0; a < n; a++) {
                size_t k = a + 1;
                in[a] = narrow_decode(nums >> a & 1, (uint32_t)(words[k / 2] >> (32 * (k & 1))));
        }
}

/* With the common counts constant, so the loops unroll: Q2 2M 2,669.1 -> 2,630.5 M
 * instructions (2,555.3 with full words). */
static inline bool defer_pack(const ViewShard *vs, int64_t ts, const uint64_t *in, uint64_t missing,
                              uint64_t *out)
{
        switch (vs->plan->n_accs) {
        case 1: return defer_pack_n(vs, ts, in, missing, out, 1);
        case 2: return defer_pack_n(vs, ts, in, missing, out, 2);
        case 3: return defer_pack_n(vs, ts, in, missing, out, 3);
        case 4: return defer_pack_n(vs, ts, in, missing, out, 4);
        default: return defer_pack_n(vs, ts, in, missing, out, vs->plan->n_accs);
        }
}

static inline void defer_unpack(const ViewShard *vs, const uint64_t *words, uint64_t *in)
{
        switch (vs->plan->n_accs) {
        case 1: defer_unpack_n(vs, words, in, 1); break;
        case 2: defer_unpack_n(vs, words, in, 2); break;
        case 3: defer_unpack_n(vs, words, in, 3); break;
        case 4: defer_unpack_n(vs, words, in, 4); break;
        default: defer_unpack_n(vs, words, in, vs->plan->n_accs); break;
        }
}

/* Converts the held packed rows to full words in place, for good. */
static int defer_widen(ViewShard *vs)
{
        const ViewPlan *vp = vs->plan;
        size_t pw = defer_words(vs), ww = 2 + vp->n_accs; /* packed: the mask in word 0 */
        if (vs->cap_deferred) {
                uint64_t *p = realloc(vs->deferred, vs->cap_deferred * ww * 8);
                if (!p)
                        return -ENOMEM;
                vs->deferred = p;
        }
        /* from the last back: wide record i starts at or past packed record i, and the packed
         * records before i all lie below it */
        for (size_t i = vs->n_deferred; i-- > 0;) {
                uint64_t rec[1 + DEFER_PACKED_WORDS(16)];
                memcpy(rec, vs->deferred + i * pw, pw * 8);
                uint64_t *w = vs->deferred + i * ww;
                w[0] = rec[0];
                w[1] = (uint64_t)defer_time(vs, rec);
                defer_unpack(vs, rec + 1, w + 2);
        }
        vs->deferred_wide = true;
        return 0;
}

static int defer(Shard *s, ViewShard *vs, void *state, int64_t ts, const uint64_t *in,
                 uint64_t missing)
{
        const ViewPlan *vp = vs->plan;
        size_t words = defer_words(vs), tw = defer_time_word(vp);
        if (vs->cap_deferred == 0)
                vs->deferred_base = ts; /* the first held row's */
        if (vs->n_deferred == vs->cap_deferred) {
                /* drop what the newest time seen so far already rules out, then grow */
                int64_t cutoff =
                    window_start(s->newest[vp->cfg->window_column], vp->cfg->window_usec);
                size_t k = 0;
                for (size_t i = 0; i < vs->n_deferred; i++) {
                        uint64_t *rec = vs->deferred + i * words;
                        if (defer_time(vs, rec) < cutoff)
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
        uint64_t *rec = vs->deferred + vs->n_deferred * words;
        /* packed straight into the free record; one that does not fit widens the rest */
        if (!vs->deferred_wide) {
                if (defer_pack(vs, ts, in, missing, rec + 1)) {
                        vs->n_deferred++;
                        rec[0] = (uint64_t)(uintptr_t)state | missing << DEFER_PTR_BITS;
                        return 0;
                }
                int r = defer_widen(vs);
                if (r < 0)
                        return r;
                words = defer_words(vs);
                rec = vs->deferred + vs->n_deferred * words;
        }
        vs->n_deferred++;
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
                size_t words = defer_words(vs), tw = defer_time_word(vp);
                bool narrow = defer_narrow(vp), packed = !vs->deferred_wide;
                const uint64_t ptr_mask = (UINT64_C(1) << DEFER_PTR_BITS) - 1;
                for (size_t i = 0; i < vs->n_deferred; i++) {
                        const uint64_t *rec = vs->deferred + i * words;
                        if (defer_time(vs, rec) < cutoff)
                                continue;
                        void *state = (void *)(uintptr_t)(rec[0] & (narrow ? ptr_mask : ~0ull));
                        uint64_t missing = narrow ? rec[0] >> DEFER_PTR_BITS : rec[1];
                        uint64_t in[PLAN_MAX_ACCS];
                        if (packed)
                                defer_unpack(vs, rec + 1, in);
                        int r =
                            accum_update(&s->store, vp, state, packed ? in : rec + tw + 1, missing);
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
