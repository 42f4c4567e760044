#include "view_out.h"

#include "key.h"
#include "parallel.h"

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

static int finish_part(size_t k, size_t nk, void *userdata)
{
        FinishJob *j = userdata;
        size_t na = j->vp->cfg->n_aggregates;
        for (size_t i = j->n * k / nk; i < j->n * (k + 1) / nk; i++) {
                int r = accum_values(&j->set->shards[k].store, j->vp, j->order[j->from + i]->state,
                                     &j->vals[i * na]);
                if (r < 0)
                        return r;
        }
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
        if (v->n_group_by + v->n_aggregates > SNAPSHOT_MAX_COLUMNS)
                return -E2BIG;
        for (size_t i = 0; i < v->n_group_by; i++)
                cols[nc++] = (SnapshotColumn){src->columns[v->group_by[i]].name,
                                              src->columns[v->group_by[i]].type};
        for (size_t a = 0; a < v->n_aggregates; a++)
                cols[nc++] = (SnapshotColumn){v->aggregates[a].label, vp->aggs[a].out_type};

        if (v->n_group_by == 0 && vs->groups.n == 0) {
                bool fresh; /* one global row even over no input */
                if (!group_table_get(&vs->groups, "", 0, group_key_hash("", 0), true, &fresh))
                        return -ENOMEM;
        }
        _cleanup_free_ Group **order = malloc((vs->groups.n + 1) * sizeof(Group *));
        _cleanup_free_ Value *vals = calloc(FINISH_BLOCK * v->n_aggregates + 1, sizeof(Value));
        if (!order || !vals)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < vs->groups.n; i++)
                if (v->n_group_by == 0 || group_rows(vs->groups.groups[i]->state) > 0)
                        order[n++] = vs->groups.groups[i];
        qsort(order, n, sizeof(Group *), cmp_group);
        int r = snapshot_writer_begin_view(w, v->name, v->n_group_by, nc, cols, n);
        FinishJob job = {.set = set, .vp = vp, .order = order, .vals = vals};
        for (size_t from = 0; from < n && r >= 0; from += FINISH_BLOCK) {
                job.from = from;
                job.n = MIN((size_t)FINISH_BLOCK, n - from);
                r = parallel_run(set->n, finish_part, &job);
                for (size_t i = 0; i < job.n && r >= 0; i++) {
                        r = put_key(w, order[from + i], v->n_group_by);
                        for (size_t a = 0; a < v->n_aggregates && r >= 0; a++)
                                r = snapshot_writer_put_value(w, &vals[i * v->n_aggregates + a]);
                }
        }
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        if (r < 0)
                return r;
        *ret_rows = n;
        return 0;
}
