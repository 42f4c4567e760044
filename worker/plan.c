#include "plan.h"

#include "log.h"
#include "shard.h"
#include "vlist.h"

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

static size_t acc_size(AccKind k)
{
        switch (k) {
        case ACC_SUMMARY: return sizeof(Summary);
        case ACC_VALUES: return sizeof(VList);
        case ACC_SET: return sizeof(DistinctSet);
        case ACC_SKETCH: return sizeof(void *);
        case ACC_HLL: return sizeof(void *);
        }
        return 0;
}

static int build_view(const Config *cfg, size_t vi, int64_t now_usec, ViewPlan *vp)
{
        const ViewConfig *v = &cfg->views[vi];
        const SourceConfig *s = &cfg->sources[v->source];
        *vp = (ViewPlan){.cfg = v, .index = vi};
        vp->aggs = calloc(v->n_aggregates + 1, sizeof(AggPlan));
        if (!vp->aggs)
                return -ENOMEM;
        size_t off = sizeof(uint64_t);
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
                off = (off + 15) & ~(size_t)15;
                vp->accs[vp->n_accs] = (Acc){.kind = k,
                                             .column = d->column,
                                             .type = s->columns[d->column].type,
                                             .offset = off};
                off += acc_size(k);
                ap->acc = (int)vp->n_accs++;
        }
        vp->state_size = off;
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
