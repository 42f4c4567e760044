#include "plan.h"

#include "accum.h"
#include "log.h"
#include "shard.h"

static AccKind acc_kind_of(AggKind k)
{
        switch (k) {
        case AGG_QUANTILE: return ACC_VALUES;
        case AGG_DISTINCT: return ACC_SET;
        case AGG_APPROX_QUANTILE: return ACC_SKETCH;
        case AGG_APPROX_DISTINCT: return ACC_HLL;
        default: return ACC_SUMMARY;
        }
}

/* A summary of a num column stops before the int sum (accum.h): 40 bytes, so the count, it
 * and a value list's append position make one cache line. */
static size_t acc_size(const Acc *a)
{
        switch (a->kind) {
        case ACC_SUMMARY: return a->type == VALUE_NUM ? SUMMARY_NUM_SIZE : sizeof(Summary);
        case ACC_VALUES: return sizeof(VList);
        case ACC_SET: return sizeof(DistinctSet);
        case ACC_SKETCH: return sizeof(void *);
        case ACC_HLL: return sizeof(void *);
        }
        return 0;
}

static bool is_list(AccKind k)
{
        return k == ACC_VALUES || k == ACC_SET;
}

/* The state block: the row count, then what every row's update reads (summaries, sketch
 * pointers, the value rows' or the one value list's append position), then the rest. All
 * 8-byte fields at 8-byte offsets; the group table puts the block on a cache line. */
static void lay_out(ViewPlan *vp)
{
        size_t off = sizeof(uint64_t);
        for (size_t i = 0; i < vp->n_accs; i++)
                if (!is_list(vp->accs[i].kind)) {
                        vp->accs[i].offset = off;
                        off += acc_size(&vp->accs[i]);
                }
        for (size_t i = 0; i < vp->n_accs; i++)
                if (is_list(vp->accs[i].kind)) {
                        Acc *a = &vp->accs[i];
                        a->slot = vp->n_lists;
                        vp->list_acc[vp->n_lists++] = (uint8_t)i;
                        vp->list_mask |= UINT64_C(1) << i;
                        if (a->kind == ACC_SET)
                                vp->rows_split_at_dedup = true;
                }
        if (vp->n_lists >= 2) {
                vp->rows_offset = off;
                /* time columns (microseconds) and interned strings never fit 32 bits */
                vp->rows_narrow = vp->n_lists == 2;
                for (unsigned c = 0; c < vp->n_lists && vp->rows_narrow; c++) {
                        ValueType t = vp->accs[vp->list_acc[c]].type;
                        vp->rows_narrow = t == VALUE_INT || t == VALUE_NUM;
                        vp->narrow_num[c] = t == VALUE_NUM;
                        vp->narrow_zero[c] =
                            vp->accs[vp->list_acc[c]].kind == ACC_SET && t == VALUE_NUM;
                        vp->narrow_col[c] = vp->accs[vp->list_acc[c]].column;
                }
                vp->narrow_direct = vp->rows_narrow;
                for (size_t i = 0; i < vp->n_accs; i++)
                        if (vp->accs[i].kind == ACC_SUMMARY)
                                vp->summary_acc[vp->n_summaries++] = (uint8_t)i;
                        else if (!is_list(vp->accs[i].kind))
                                vp->narrow_direct = false;
                vp->hot_size = off + 2 * sizeof(uint64_t); /* VList's next, end */
                off += sizeof(ValueRows);
        } else
                vp->rows_split_at_dedup = false;
        /* the one list's append position is hot; with value rows, the own lists are not */
        for (size_t i = 0; i < vp->n_accs; i++)
                if (is_list(vp->accs[i].kind)) {
                        vp->accs[i].offset = off;
                        if (vp->n_lists == 1)
                                vp->hot_size = off + 2 * sizeof(uint64_t);
                        off += acc_size(&vp->accs[i]);
                }
        if (vp->n_lists == 0)
                vp->hot_size = off;
        vp->state_size = off;
}

static int build_view(const Config *cfg, size_t vi, int64_t now_usec, ViewPlan *vp)
{
        const ViewConfig *v = &cfg->views[vi];
        const SourceConfig *s = &cfg->sources[v->source];
        *vp = (ViewPlan){.cfg = v, .index = vi};
        vp->aggs = calloc(v->n_aggregates + 1, sizeof(AggPlan));
        if (!vp->aggs)
                return -ENOMEM;
        for (size_t a = 0; a < v->n_aggregates; a++) {
                const AggregateDef *d = &v->aggregates[a];
                AggPlan *ap = &vp->aggs[a];
                ap->def = d;
                ap->acc = -1;
                ap->out_type = agg_output_type(d->kind, d->column >= 0 ? s->columns[d->column].type
                                                                       : VALUE_INT);
                if (d->kind == AGG_COUNT)
                        continue;
                AccKind k = acc_kind_of(d->kind);
                for (size_t i = 0; i < vp->n_accs; i++)
                        if (vp->accs[i].kind == k && vp->accs[i].column == d->column)
                                ap->acc = (int)i;
                if (ap->acc >= 0)
                        continue;
                if (vp->n_accs == PLAN_MAX_ACCS) {
                        log_error("%s: [view.%s] aggregates: more than %d distinct "
                                  "column/aggregate pairs",
                                  cfg->path, v->name, PLAN_MAX_ACCS);
                        return -EINVAL;
                }
                vp->accs[vp->n_accs] =
                    (Acc){.kind = k, .column = d->column, .type = s->columns[d->column].type};
                ap->acc = (int)vp->n_accs++;
        }
        lay_out(vp);
        vp->select = v->n_select > 0;
        vp->max_bytes = cfg->max_snapshot_bytes;
        if (v->window_column >= 0) {
                if (s->window_from_now) {
                        vp->window_now = true;
                        /* durations are far below 2^62 µs, now is positive */
                        vp->now_cutoff = v->window_usec >= (UINT64_C(1) << 62)
                                             ? INT64_MIN
                                             : now_usec - (int64_t)v->window_usec;
                } else
                        vp->deferred = true;
        }
        return 0;
}

static void mark_used(SourcePlan *sp, const ViewConfig *v)
{
        for (size_t i = 0; i < v->n_group_by; i++)
                sp->used[v->group_by[i]] = true;
        for (size_t i = 0; i < v->n_select; i++)
                sp->used[v->select[i]] = true;
        for (size_t i = 0; i < v->n_where; i++)
                sp->used[v->where[i].column] = true;
        for (size_t i = 0; i < v->n_aggregates; i++)
                if (v->aggregates[i].column >= 0)
                        sp->used[v->aggregates[i].column] = true;
        if (v->window_column >= 0)
                sp->used[v->window_column] = true;
}

int plan_build(const Config *cfg, int64_t now_usec, Plan **ret)
{
        _cleanup_(plan_freep) Plan *p = calloc(1, sizeof(Plan));
        if (!p)
                return -ENOMEM;
        p->sources = calloc(cfg->n_sources + 1, sizeof(SourcePlan));
        if (!p->sources)
                return -ENOMEM;
        p->n_sources = cfg->n_sources;
        for (size_t si = 0; si < cfg->n_sources; si++) {
                SourcePlan *sp = &p->sources[si];
                sp->cfg = &cfg->sources[si];
                sp->index = si;
                sp->views = calloc(cfg->n_views + 1, sizeof(ViewPlan));
                if (!sp->views)
                        return -ENOMEM;
                for (size_t vi = 0; vi < cfg->n_views; vi++) {
                        if (cfg->views[vi].source != si)
                                continue;
                        ViewPlan *vp = &sp->views[sp->n_views];
                        int r = build_view(cfg, vi, now_usec, vp);
                        sp->n_views++;
                        if (r < 0)
                                return r;
                        for (size_t i = 0; i < vp->n_accs; i++)
                                if (vp->accs[i].kind == ACC_SET && vp->accs[i].type == VALUE_STR)
                                        sp->interns = true;
                        if (vp->deferred)
                                sp->track_max[vp->cfg->window_column] = true;
                        mark_used(sp, vp->cfg);
                        if (vp->select && vp->cfg->n_group_by == 0)
                                sp->ordered = true;
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}

Plan *plan_free(Plan *p)
{
        if (!p)
                return NULL;
        for (size_t si = 0; si < p->n_sources; si++) {
                for (size_t vi = 0; vi < p->sources[si].n_views; vi++)
                        free(p->sources[si].views[vi].aggs);
                free(p->sources[si].views);
        }
        free(p->sources);
        free(p);
        return NULL;
}
