/* The run: every source opened, read into its shards and closed, the shards merged, each
 * view of the source written into the snapshot; then the snapshot is published. What a
 * source is (files, a query, a program) is source.h's business; this file only drives
 * sources through their interface and decides what the operator sees. */
#include "engine.h"

#include <inttypes.h>
#include <limits.h>
#include <signal.h>

#include "guard.h"
#include "log.h"
#include "parallel.h"
#include "plan.h"
#include "prerender.h"
#include "select.h"
#include "snapshot_write.h"
#include "source.h"
#include "usage.h"
#include "view_out.h"

static volatile sig_atomic_t stop_requested;

void engine_request_stop(void)
{
        stop_requested = 1;
}

static void log_bad_rows(const SourceConfig *src, const BadSamples *bad, const Shard *s)
{
        for (size_t i = 0; i < bad->n; i++) {
                const BadSample *b = &bad->v[i];
                char where[PATH_MAX + 64];
                bool file = b->position == POSITION_FILE_LINE;
                if (file)
                        snprintf(where, sizeof(where), "%s:%" PRIu64, b->input, b->n);
                else
                        snprintf(where, sizeof(where), "%s %" PRIu64 " of %s",
                                 b->position == POSITION_ROW_OF ? "row" : "line", b->n, b->input);
                log_struct(
                    LOG_WARNING, 0, NULL,
                    LOG_FIELDS(log_field("TALLY_SOURCE=%s", src->name),
                               log_field("TALLY_%s=%s", file ? "FILE" : "INPUT", b->input),
                               log_field("TALLY_%s=%" PRIu64,
                                         b->position == POSITION_ROW_OF ? "ROW" : "LINE", b->n)),
                    "%s: malformed row skipped: %s%s%s", where, bad_reason_to_string(b->reason),
                    b->column >= 0 ? " in column " : "",
                    b->column >= 0 ? src->columns[b->column].name : "");
        }
        uint64_t n_bad = shard_rows_rejected(s);
        if (n_bad == 0)
                return;
        char summary[512] = "";
        size_t len = 0;
        for (int i = 0; i < _BAD_REASON_MAX; i++)
                if (s->bad[i] && len < sizeof(summary))
                        len +=
                            (size_t)snprintf(summary + len, sizeof(summary) - len, "%s%s: %" PRIu64,
                                             len ? ", " : "", bad_reason_to_string(i), s->bad[i]);
        log_warning("source %s: %" PRIu64 " of %" PRIu64 " rows malformed (%s)", src->name, n_bad,
                    s->rows_read, summary);
}

/* A source's failure as the operator sees it: the source's own words when it has some. */
static int source_failed(const Source *s, int r)
{
        const char *name = s->plan->cfg->name;
        if (r == -ETIME && !s->error[0])
                return log_error_errno(r, "source %s: deadline passed while reading", name);
        if (s->error[0])
                log_error_errno(r < 0 ? r : 0, "%s", s->error);
        return r == SOURCE_BAD_CONFIG ? ENGINE_BAD_CONFIG : r;
}

static int apply_deferred_part(size_t k, size_t n, void *userdata)
{
        void **args = userdata;
        ShardSet *set = args[0];
        return shard_apply_deferred(&set->shards[k], args[1]);
}

/* The newest time per column is a property of the whole source: only now can windows
 * against it be applied, in every shard, before the shards are merged into the first. */
static int merge_shards(ShardSet *set)
{
        int64_t newest[CONFIG_MAX_COLUMNS];
        for (size_t c = 0; c < CONFIG_MAX_COLUMNS; c++) {
                newest[c] = INT64_MIN;
                for (size_t i = 0; i < set->n; i++)
                        newest[c] = MAX(newest[c], set->shards[i].newest[c]);
        }
        void *args[] = {set, newest};
        int r = parallel_run(set->n, apply_deferred_part, args);
        for (size_t i = 1; i < set->n && r >= 0; i++)
                r = shard_merge(&set->shards[0], &set->shards[i]);
        return r;
}

static int write_views(SnapshotWriter *w, ShardSet *set, uint64_t scan_usec, uint64_t *view_rows)
{
        for (size_t vi = 0; vi < set->plan->n_views; vi++) {
                const ViewConfig *v = set->plan->views[vi].cfg;
                uint64_t t0 = now_monotonic_usec();
                size_t rows = 0;
                char why[1024] = "";
                int r = set->plan->views[vi].select
                            ? select_out_write(w, set, vi, &rows, why, sizeof(why))
                            : view_out_write(w, set, vi, &rows);
                if (r > 0) {
                        log_error("%s", why);
                        return ENGINE_BAD_VIEW;
                }
                if (r == -E2BIG)
                        return log_error_errno(r, "view %s: more than %d columns", v->name,
                                               SNAPSHOT_MAX_COLUMNS);
                if (r < 0)
                        return log_error_errno(r, "view %s: cannot encode: %m", v->name);
                view_rows[set->plan->views[vi].index] = rows;
                uint64_t ms = (scan_usec + now_monotonic_usec() - t0) / USEC_PER_MSEC;
                log_struct(LOG_INFO, 0, NULL,
                           LOG_FIELDS(log_field("TALLY_VIEW=%s", v->name),
                                      log_field("TALLY_ROWS=%zu", rows),
                                      log_field("TALLY_DURATION_MS=%" PRIu64, ms)),
                           "view %s: %zu rows in %" PRIu64 " ms", v->name, rows, ms);
        }
        return 0;
}

static int run_source(const Config *cfg, const SourcePlan *sp, uint64_t deadline, SnapshotWriter *w,
                      uint64_t *view_rows, EngineResult *res)
{
        const SourceConfig *src = sp->cfg;
        uint64_t t0 = now_monotonic_usec();
        _cleanup_(source_freep) Source *s = NULL;
        int r = source_new(sp, &s);
        if (r == -EPROTONOSUPPORT) {
                log_error("source %s: type = %s is not built into this worker", src->name,
                          source_type_to_string(src->type));
                return ENGINE_BAD_CONFIG;
        }
        if (r < 0)
                return r;
        const SourceContext ctx = {.deadline = deadline,
                                   .stop = &stop_requested,
                                   .threads = sp->ordered ? 1 : cfg->worker.threads};
        if ((r = s->ops->open(s, &ctx)) != 0)
                return source_failed(s, r);
        _cleanup_(shard_set_freep) ShardSet *set = NULL;
        if ((r = shard_set_new(sp, &set)) < 0)
                return r;
        if ((r = s->ops->read(s, set, &ctx)) != 0)
                return source_failed(s, r);
        uint64_t t_read = now_monotonic_usec();
        if ((r = merge_shards(set)) < 0)
                return r;
        /* the phases, for measuring (TALLY_LOG_LEVEL=debug) */
        log_debug("source %s: read %" PRIu64 " ms, merged %" PRIu64 " ms", src->name,
                  (t_read - t0) / USEC_PER_MSEC, (now_monotonic_usec() - t_read) / USEC_PER_MSEC);

        const Shard *all = &set->shards[0];
        uint64_t bad = shard_rows_rejected(all);
        res->rows_read += all->rows_read;
        res->rows_rejected += bad;
        log_bad_rows(src, &s->bad, all);
        if (all->rows_read > 0 && (double)bad / (double)all->rows_read > src->max_bad_ratio) {
                log_struct(LOG_ERR, 0, MSGID_BAD_ROWS,
                           LOG_FIELDS(log_field("TALLY_SOURCE=%s", src->name),
                                      log_field("TALLY_ROWS_READ=%" PRIu64, all->rows_read),
                                      log_field("TALLY_ROWS_REJECTED=%" PRIu64, bad)),
                           "source %s: %" PRIu64 " of %" PRIu64
                           " rows malformed, above max_bad_ratio %g; no snapshot written",
                           src->name, bad, all->rows_read, src->max_bad_ratio);
                return ENGINE_BAD_ROWS;
        }
        if (source_expired(&ctx))
                return log_error_errno(ETIME, "source %s: deadline passed", src->name);
        if ((r = write_views(w, set, now_monotonic_usec() - t0, view_rows)) != 0)
                return r;
        SnapshotSource info = {.name = src->name,
                               .type = s->ops->type,
                               .files = s->ops->files(s),
                               .rows_read = all->rows_read,
                               .rows_rejected = bad};
        return snapshot_writer_add_source(w, &info);
}

/* Whether the run may publish: every view's guards hold, or force says so anyway. */
static int check_guards(const Config *cfg, const uint64_t *view_rows, bool force)
{
        _cleanup_free_ GuardBreak *breaks = calloc(cfg->n_views + 1, 2 * sizeof(GuardBreak));
        if (!breaks)
                return -ENOMEM;
        bool unreadable;
        char reason[256] = "";
        int n = guard_check(cfg, view_rows, breaks, &unreadable, reason, sizeof(reason));
        if (n < 0)
                return log_error_errno(n, "publish guards: cannot read %s: %m", cfg->snapshot_dir);
        if (unreadable)
                log_warning("publish guards: the newest snapshot in %s is unreadable (%s); "
                            "max_shrink not checked",
                            cfg->snapshot_dir, reason);
        for (int i = 0; i < n; i++) {
                const GuardBreak *b = &breaks[i];
                const char *view = cfg->views[b->view].name;
                char why[160];
                if (strcmp(b->guard, "min_rows") == 0)
                        snprintf(why, sizeof(why), "%" PRIu64 " rows, fewer than min_rows %" PRIu64,
                                 b->rows, b->reference);
                else
                        snprintf(why, sizeof(why),
                                 "%" PRIu64 " rows against %" PRIu64 " in snapshot %" PRIu64
                                 ", shrunk more than max_shrink %g%%",
                                 b->rows, b->reference, b->previous_generation,
                                 cfg->views[b->view].max_shrink * 100);
                log_struct(force ? LOG_WARNING : LOG_ERR, 0, MSGID_PUBLISH_GUARD,
                           LOG_FIELDS(log_field("TALLY_VIEW=%s", view),
                                      log_field("TALLY_GUARD=%s", b->guard),
                                      log_field("TALLY_ROWS=%" PRIu64, b->rows),
                                      log_field("TALLY_REFERENCE=%" PRIu64, b->reference)),
                           "view %s: %s; %s", view, why,
                           force ? "publishing anyway (--force)" : "no snapshot written");
        }
        return n > 0 && !force ? ENGINE_GUARD : 0;
}

int engine_run(const Config *cfg, uint64_t deadline_usec, bool force, EngineResult *ret)
{
        uint64_t t0 = now_monotonic_usec();
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r = plan_build(cfg, (int64_t)now_realtime_usec(), &plan);
        if (r == -EINVAL)
                return ENGINE_BAD_CONFIG;
        if (r < 0)
                return r;
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        if ((r = snapshot_writer_new(&w)) < 0)
                return r;
        /* version 2: the worker renders what tallyd serves, so loading stays cheap; each
         * view's formats render at once on the threads the scan uses */
        snapshot_writer_set_transform(w, prerender_transform, cfg->max_snapshot_bytes);
        long threads =
            cfg->worker.threads ? (long)cfg->worker.threads : sysconf(_SC_NPROCESSORS_ONLN);
        served_set_runner(parallel_run, threads > 0 ? MIN((size_t)threads, PARALLEL_MAX) : 1);
        _cleanup_free_ uint64_t *view_rows = calloc(cfg->n_views + 1, sizeof(uint64_t));
        if (!view_rows)
                return -ENOMEM;
        for (size_t si = 0; si < plan->n_sources && r == 0; si++)
                r = run_source(cfg, &plan->sources[si], deadline_usec, w, view_rows, ret);
        if (r != 0)
                return r;
        if ((r = check_guards(cfg, view_rows, force)) != 0)
                return r;
        char host[256] = "";
        (void)gethostname(host, sizeof(host) - 1);
        SnapshotStats stats = {.rows_read = ret->rows_read,
                               .rows_rejected = ret->rows_rejected,
                               .duration_ms = (now_monotonic_usec() - t0) / USEC_PER_MSEC,
                               .host = host};
        usage_measure(&stats);
        snapshot_writer_set_stats(w, &stats);
        if (stop_requested)
                return log_error_errno(ECANCELED, "stopped by signal before publishing");
        uint64_t t_publish = now_monotonic_usec();
        r = snapshot_writer_publish(w, cfg->snapshot_dir, cfg->keep, deadline_usec,
                                    &ret->generation, &ret->bytes);
        log_debug("published in %" PRIu64 " ms",
                  (now_monotonic_usec() - t_publish) / USEC_PER_MSEC);
        if (r == -ETIME)
                return log_error_errno(r, "deadline passed while publishing, nothing written");
        if (r < 0)
                return log_error_errno(r, "cannot publish snapshot into %s: %s", cfg->snapshot_dir,
                                       r == -EOVERFLOW ? "a snapshot file there already carries "
                                                         "the largest generation; remove it"
                                                       : strerror(-r));
        if (snapshot_writer_transform_skipped(w))
                log_notice("snapshot %" PRIu64 " written as version 1: with its serving-ready "
                           "bodies it would pass max_snapshot_bytes (%" PRIu64 "), so tallyd "
                           "renders it at load instead",
                           ret->generation, cfg->max_snapshot_bytes);
        return 0;
}
