#include "view_out.h"

#include <inttypes.h>

#include "key.h"
#include "log.h"
#include "parallel.h"
#include "where.h"

#define FINISH_BLOCK 16384 /* groups finished between writes */

static int cmp_group(const void *a, const void *b)
{
        const Group *x = *(const Group *const *)a, *y = *(const Group *const *)b;
        return key_cmp(x->key, x->key_len, y->key, y->key_len);
}

static int put_key(SnapshotWriter *w, const Group *g, size_t n_keys)
{
        Value keys[CONFIG_MAX_COLUMNS];
        key_decode(g->key, n_keys, keys);
        int r = 0;
        for (size_t i = 0; i < n_keys && r >= 0; i++)
                r = snapshot_writer_put_value(w, &keys[i]);
        return r;
}

typedef struct FinishJob {
        ShardSet *set;
        const ViewPlan *vp;
        Group **order;
        size_t from, n;
        Value *vals;
} FinishJob;

/* Groups are finished in key order, so every group's record, state and value chunks are
 * misses, and a value list is a chain of chunks (doubling from 4 values, joined across
 * threads: about 14 for Q1's 417 values a group), each found through the one before. The
 * chains of the next CHAIN_AHEAD groups are followed one chunk per group finished, each
 * chunk prefetched a step before its header is read: by its turn a group's chunks are in
 * cache, instead of one miss after another while its p95 and distinct run. */
#define CHAIN_AHEAD 16
#define CHAINS      4 /* value rows and three lists: the rest are not followed ahead */

static void prefetch_chunk(const VChunk *k)
{
        __builtin_prefetch(k);
        __builtin_prefetch((const char *)k + 64);
}

static int finish_part(size_t k, size_t nk, void *userdata)
{
        FinishJob *j = userdata;
        size_t na = j->vp->cfg->n_aggregates;
        size_t from = j->n * k / nk, to = j->n * (k + 1) / nk;
        Group **g = j->order + j->from;
        const VChunk *chain[CHAIN_AHEAD][CHAINS] = {};
        _Static_assert(CHAIN_AHEAD * CHAINS <= 64, "a bit per chain");
        uint64_t live = 0; /* the chains not yet at their end: most groups of many have one chunk */
        for (size_t i = from; i < to; i++) {
                /* the record and state of the group that enters the chains next step */
                size_t in = i + CHAIN_AHEAD;
                if (in + 8 < to)
                        __builtin_prefetch(g[in + 8]);
                if (in + 4 < to) {
                        __builtin_prefetch(g[in + 4]->state);
                        __builtin_prefetch((const char *)g[in + 4]->state + 64);
                        __builtin_prefetch((const char *)g[in + 4]->state + 128);
                }
                for (uint64_t m = live; m; m &= m - 1) {
                        unsigned b = (unsigned)__builtin_ctzll(m);
                        const VChunk **p = &chain[b / CHAINS][b % CHAINS];
                        if ((*p = (*p)->next))
                                prefetch_chunk(*p);
                        else
                                live &= ~(UINT64_C(1) << b);
                }
                if (i < from + CHAIN_AHEAD) /* the first groups: their first chunks now */
                        accum_prefetch_lists(j->vp, g[i]->state);
                int r =
                    accum_values(&j->set->shards[k].store, j->vp, g[i]->state, &j->vals[i * na]);
                if (r < 0)
                        return r;
                /* group i's slot goes to group i + CHAIN_AHEAD */
                size_t a = i % CHAIN_AHEAD;
                const VChunk **c = chain[a];
                size_t n = in < to ? accum_list_heads(j->vp, g[in]->state, c, CHAINS) : 0;
                for (size_t l = 0; l < CHAINS; l++) {
                        uint64_t bit = UINT64_C(1) << (a * CHAINS + l);
                        if (l < n && c[l]) {
                                prefetch_chunk(c[l]);
                                live |= bit;
                        } else {
                                c[l] = NULL;
                                live &= ~bit;
                        }
                }
        }
        return 0;
}

/* Ranking order: the better value first (NaN above every number, as SQL orders it), nil
 * after every value in both directions, then key order. */
static int cmp_value_asc(const Value *a, const Value *b)
{
        if (a->type == VALUE_NIL || b->type == VALUE_NIL)
                return 0; /* handled by the callers */
        if (a->type == VALUE_NUM) {
                bool na = a->d != a->d, nb = b->d != b->d;
                if (na || nb)
                        return na - nb;
                return (a->d > b->d) - (a->d < b->d);
        }
        return (a->i > b->i) - (a->i < b->i);
}

static int rank_cmp(const RankEntry *x, const RankEntry *y, bool asc)
{
        bool nx = x->v.type == VALUE_NIL, ny = y->v.type == VALUE_NIL;
        int c = nx || ny ? nx - ny
                : asc    ? cmp_value_asc(&x->v, &y->v)
                         : cmp_value_asc(&y->v, &x->v);
        return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int rank_cmp_asc(const void *a, const void *b)
{
        return rank_cmp(a, b, true);
}

static int rank_cmp_desc(const void *a, const void *b)
{
        return rank_cmp(a, b, false);
}

void view_out_rank(const Value *vals, size_t n, size_t stride, uint32_t top_n, bool asc,
                   RankEntry *scratch, uint32_t *rank)
{
        for (size_t i = 0; i < n; i++) {
                scratch[i] = (RankEntry){vals[i * stride], i};
                rank[i] = 0;
        }
        qsort(scratch, n, sizeof(RankEntry), asc ? rank_cmp_asc : rank_cmp_desc);
        for (size_t i = 0; i < n && i < top_n; i++)
                rank[scratch[i].index] = (uint32_t)i + 1;
}

/* Groups [from, from + n) of order, finished into vals (n_aggregates each). */
static int finish_all(ShardSet *set, const ViewPlan *vp, Group **order, size_t n, Value *vals)
{
        FinishJob job = {.set = set, .vp = vp, .order = order};
        int r = 0;
        for (size_t from = 0; from < n && r >= 0; from += FINISH_BLOCK) {
                job.from = from;
                job.n = MIN((size_t)FINISH_BLOCK, n - from);
                job.vals = vals + from * vp->cfg->n_aggregates;
                r = parallel_run(set->n, finish_part, &job);
        }
        return r;
}

static size_t prefix_len(const Group *g, size_t k)
{
        return key_prefix_len(g->key, k);
}

/* Filters (having) and ranks (top) the n groups of order, whose values are vals: compacts
 * order and vals to the rows kept, and fills rank[] when the view has a top. Returns the
 * number of rows kept. */
static int select_rows(const ViewConfig *v, Group **order, size_t n, Value *vals, uint32_t *rank,
                       size_t *ret_n)
{
        size_t na = v->n_aggregates, k = 0;
        for (size_t i = 0; i < n; i++) {
                if (!where_match(v->having, v->n_having, &vals[i * na]))
                        continue;
                order[k] = order[i];
                if (k != i)
                        memcpy(&vals[k * na], &vals[i * na], na * sizeof(Value));
                k++;
        }
        n = k;
        if (v->top_n == 0) {
                *ret_n = n;
                return 0;
        }
        _cleanup_free_ RankEntry *scratch = malloc((n + 1) * sizeof(RankEntry));
        if (!scratch)
                return -ENOMEM;
        for (size_t lo = 0, hi; lo < n; lo = hi) {
                size_t pl = prefix_len(order[lo], v->top_per);
                for (hi = lo + 1; hi < n && prefix_len(order[hi], v->top_per) == pl &&
                                  memcmp(order[hi]->key, order[lo]->key, pl) == 0;
                     hi++)
                        ;
                view_out_rank(&vals[lo * na + v->top_by], hi - lo, na, v->top_n, v->top_asc,
                              scratch, &rank[lo]);
        }
        k = 0;
        for (size_t i = 0; i < n; i++) {
                if (rank[i] == 0)
                        continue;
                order[k] = order[i];
                rank[k] = rank[i];
                if (k != i)
                        memcpy(&vals[k * na], &vals[i * na], na * sizeof(Value));
                k++;
        }
        *ret_n = k;
        return 0;
}

static int put_row(SnapshotWriter *w, const ViewConfig *v, const Group *g, const Value *vals,
                   const uint32_t *rank)
{
        int r = put_key(w, g, v->n_group_by);
        for (size_t a = 0; a < v->n_aggregates && r >= 0; a++)
                r = snapshot_writer_put_value(w, &vals[a]);
        if (rank && r >= 0)
                r = snapshot_writer_put_value(w, &(Value){.type = VALUE_INT, .i = *rank});
        return r;
}

/* having or top: every value first, then the rows that are kept */
static int write_selected(SnapshotWriter *w, ShardSet *set, const ViewPlan *vp, Group **order,
                          size_t n, size_t nc, const SnapshotColumn *cols, size_t *ret_rows)
{
        const ViewConfig *v = vp->cfg;
        _cleanup_free_ Value *vals = calloc(n * v->n_aggregates + 1, sizeof(Value));
        _cleanup_free_ uint32_t *rank = calloc(n + 1, sizeof(uint32_t));
        if (!vals || !rank)
                return -ENOMEM;
        int r = finish_all(set, vp, order, n, vals);
        if (r >= 0)
                r = select_rows(v, order, n, vals, rank, &n);
        if (r >= 0)
                r = snapshot_writer_begin_view(w, v->name, v->n_group_by, nc, cols, n);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = put_row(w, v, order[i], &vals[i * v->n_aggregates], v->top_n ? &rank[i] : NULL);
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        if (r < 0)
                return r;
        *ret_rows = n;
        return 0;
}

int view_out_write(SnapshotWriter *w, ShardSet *set, size_t vi, size_t *ret_rows)
{
        ViewShard *vs = &set->shards[0].views[vi];
        const ViewPlan *vp = vs->plan;
        const ViewConfig *v = vp->cfg;
        const SourceConfig *src = set->plan->cfg;
        SnapshotColumn cols[SNAPSHOT_MAX_COLUMNS];
        size_t nc = 0;
        if (v->n_group_by + v->n_aggregates + (v->top_n > 0) > SNAPSHOT_MAX_COLUMNS)
                return -E2BIG;
        for (size_t i = 0; i < v->n_group_by; i++)
                cols[nc++] = (SnapshotColumn){v->group_labels ? v->group_labels[i]
                                                              : src->columns[v->group_by[i]].name,
                                              src->columns[v->group_by[i]].type};
        for (size_t a = 0; a < v->n_aggregates; a++)
                cols[nc++] = (SnapshotColumn){v->aggregates[a].label, vp->aggs[a].out_type};
        if (v->top_n)
                cols[nc++] = (SnapshotColumn){"rank", VALUE_INT};

        if (v->n_group_by == 0 && vs->groups.n == 0) {
                bool fresh; /* one global row even over no input */
                if (!group_table_get(&vs->groups, "", 0, group_key_hash("", 0), true, &fresh))
                        return -ENOMEM;
        }
        _cleanup_free_ Group **order = malloc((vs->groups.n + 1) * sizeof(Group *));
        if (!order)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < vs->groups.n; i++)
                if (v->n_group_by == 0 || group_rows(vs->groups.groups[i]->state) > 0)
                        order[n++] = vs->groups.groups[i];
        uint64_t t0 = now_monotonic_usec();
        qsort(order, n, sizeof(Group *), cmp_group);
        uint64_t t_sort = now_monotonic_usec();
        if (v->n_having > 0 || v->top_n > 0)
                return write_selected(w, set, vp, order, n, nc, cols, ret_rows);

        _cleanup_free_ Value *vals = calloc(FINISH_BLOCK * v->n_aggregates + 1, sizeof(Value));
        if (!vals)
                return -ENOMEM;
        int r = snapshot_writer_begin_view(w, v->name, v->n_group_by, nc, cols, n);
        FinishJob job = {.set = set, .vp = vp, .order = order, .vals = vals};
        uint64_t t_values = 0, t_rows = 0;
        for (size_t from = 0; from < n && r >= 0; from += FINISH_BLOCK) {
                job.from = from;
                job.n = MIN((size_t)FINISH_BLOCK, n - from);
                uint64_t t = now_monotonic_usec();
                r = parallel_run(set->n, finish_part, &job);
                uint64_t t_put = now_monotonic_usec();
                t_values += t_put - t;
                for (size_t i = 0; i < job.n && r >= 0; i++)
                        r = put_row(w, v, order[from + i], &vals[i * v->n_aggregates], NULL);
                t_rows += now_monotonic_usec() - t_put;
        }
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        if (r < 0)
                return r;
        /* the finish phase's parts, for measuring (TALLY_LOG_LEVEL=debug) */
        log_debug("view %s: sorted %" PRIu64 " ms, values %" PRIu64 " ms, rows %" PRIu64 " ms",
                  v->name, (t_sort - t0) / USEC_PER_MSEC, t_values / USEC_PER_MSEC,
                  t_rows / USEC_PER_MSEC);
        *ret_rows = n;
        return 0;
}
