#include "served.h"

#include <sys/mman.h>

#include "coop.h"
#include "csv.h"
#include "prerender.h"
#include "render.h"

static atomic_uint live;

unsigned served_live(void)
{
        return live;
}

void *served_alloc_mem(Served *sv, size_t size, size_t align)
{
        pthread_mutex_lock(&sv->lock);
        void *p = arena_alloc(sv->arena, size, align);
        pthread_mutex_unlock(&sv->lock);
        return p;
}

int served_copy(Served *sv, const char *p, size_t len, Piece *ret)
{
        char *copy = served_alloc_mem(sv, len, 1);
        if (!copy && len)
                return -ENOMEM;
        if (len)
                memcpy(copy, p, len);
        *ret = (Piece){copy, len};
        return 0;
}

int served_keep_mapping(Served *sv, Buf *b, Piece *ret)
{
        size_t len = b->len;
        void *p;
        size_t size;
        pthread_mutex_lock(&sv->lock);
        int r = sv->n_maps == sv->max_maps ? -ENOBUFS : buf_take_mapping(b, &p, &size);
        if (r >= 0)
                sv->maps[sv->n_maps++] = (ServedMapping){p, size};
        pthread_mutex_unlock(&sv->lock);
        if (r < 0)
                return r;
        *ret = (Piece){p, len};
        return 0;
}

static void (*_Atomic retire_hook)(Served *sv, void *userdata);
static void *_Atomic retire_userdata;

void served_set_retire_hook(void (*hook)(Served *sv, void *userdata), void *userdata)
{
        retire_userdata = userdata;
        retire_hook = hook;
}

void served_release(Served *sv)
{
        for (size_t i = 0; i < sv->n_maps; i++)
                coop_munmap(sv->maps[i].p, sv->maps[i].size);
        pthread_mutex_destroy(&sv->lock);
        arena_free(sv->arena); /* sv lives in its own arena */
}

static inline void served_releasep(Served **sv)
{
        if (*sv)
                served_release(*sv);
}

/* Column names and types stay for documents rendered per request. */
static int served_copy_columns(Served *sv, const SnapshotView *v, ServedView *out)
{
        out->n_columns = v->n_columns;
        out->columns = arena_new0(sv->arena, ServedColumn, v->n_columns + 1);
        if (!out->columns)
                return -ENOMEM;
        for (size_t c = 0; c < v->n_columns; c++) {
                out->columns[c].type = v->columns[c].type;
                out->columns[c].name =
                    arena_strndup(sv->arena, v->columns[c].name, strlen(v->columns[c].name));
                if (!out->columns[c].name)
                        return -ENOMEM;
        }
        return 0;
}

/* sv for s: the header, the views' names and counts; no bodies yet. */
static int served_alloc(const Snapshot *s, size_t max_maps, Served **ret)
{
        Arena *a = NULL;
        int r = arena_new(&a);
        if (r < 0)
                return r;
        _cleanup_(served_releasep) Served *sv = arena_new0(a, Served, 1);
        if (!sv) {
                arena_free(a);
                return -ENOMEM;
        }
        sv->arena = a;
        pthread_mutex_init(&sv->lock, NULL);
        sv->max_maps = max_maps;
        sv->maps = arena_new0(a, ServedMapping, sv->max_maps);
        if (!sv->maps)
                return -ENOMEM;
        sv->generation = s->generation;
        sv->created_usec = s->created_usec;
        sv->file_bytes = s->file_bytes;
        sv->stats = s->stats; /* the status page's run record; host copied below */
        sv->stats.host = arena_strndup(a, s->stats.host ? s->stats.host : "",
                                       s->stats.host ? strlen(s->stats.host) : 0);
        if (!sv->stats.host)
                return -ENOMEM;
        sv->views = arena_new0(a, ServedView, s->n_views);
        if (!sv->views && s->n_views)
                return -ENOMEM;
        sv->n_views = s->n_views;
        for (size_t i = 0; i < s->n_views; i++) {
                const SnapshotView *v = &s->views[i];
                ServedView *out = &sv->views[i];
                out->name_len = strlen(v->name);
                out->name = arena_strndup(a, v->name, out->name_len);
                if (!out->name)
                        return -ENOMEM;
                out->n_rows = v->n_rows;
                out->n_keys = v->n_keys;
                sv->total_rows += v->n_rows;
                r = served_copy_columns(sv, v, out);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(sv);
        return 0;
}

static void served_finish(Served *sv, uint64_t t0)
{
        static atomic_ullong last_id;
        atomic_init(&sv->refs, 1);
        sv->id = atomic_fetch_add_explicit(&last_id, 1, memory_order_relaxed) + 1;
        sv->prepare_usec = now_monotonic_usec() - t0;
        live++;
}

static ServedRunner runner;
static size_t runner_threads;

void served_set_runner(ServedRunner run, size_t n_threads)
{
        runner = run;
        runner_threads = n_threads;
}

typedef struct ViewJobs {
        Served *sv;
        const Snapshot *s;
        size_t n_jobs;
        atomic_size_t next; /* the next job not taken */
} ViewJobs;

/* Every part takes the next job not taken until none is left: job j is view j / 3 in
 * format j % 3, JSON (the largest body, and gzipped) first, then CSV (gzipped), then
 * msgpack. Taking jobs as parts come free rather than k, k + n, ... keeps both threads
 * busy on one view: one does the JSON while the other does the CSV, then the msgpack. */
static int view_jobs_part(size_t k, size_t n, void *userdata)
{
        (void)k;
        (void)n;
        ViewJobs *jobs = userdata;
        for (;;) {
                size_t j = atomic_fetch_add_explicit(&jobs->next, 1, memory_order_relaxed);
                if (j >= jobs->n_jobs)
                        return 0;
                size_t i = j / 3;
                ServedView *out = &jobs->sv->views[i];
                const SnapshotView *v = &jobs->s->views[i];
                int r = j % 3 == 0 ? render_view_format(jobs->sv, jobs->s, i, DOC_JSON, &out->json)
                        : j % 3 == 1
                            ? render_csv_view(jobs->sv, v, &out->csv)
                            : render_view_format(jobs->sv, jobs->s, i, DOC_MSGPACK, &out->mp);
                if (r < 0) {
                        /* the others stop after their current job */
                        atomic_store_explicit(&jobs->next, jobs->n_jobs, memory_order_relaxed);
                        return r;
                }
        }
}

/* Every view's documents, on the runner's threads when one is set. */
static int served_run_views(Served *sv, const Snapshot *s)
{
        ViewJobs jobs = {sv, s, 3 * s->n_views, 0};
        size_t parts = MIN(runner_threads, jobs.n_jobs);
        if (!runner || parts < 2)
                return view_jobs_part(0, 1, &jobs);
        return runner(parts, view_jobs_part, &jobs);
}

int served_new(const Snapshot *s, Served **ret)
{
        uint64_t t0 = now_monotonic_usec();
        _cleanup_(served_releasep) Served *sv = NULL;
        /* per view: JSON, its gzip, msgpack, CSV and its gzip; the views list's gzip */
        int r = served_alloc(s, 5 * s->n_views + 1, &sv);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_views; i++) {
                r = row_index_build(sv->arena, &s->views[i], &sv->views[i].index);
                if (r < 0)
                        return r;
                r = slice_index_build(sv->arena, &s->views[i], &sv->views[i].slices);
                if (r < 0)
                        return r;
        }
        r = render_snapshot(sv, s);
        if (r < 0)
                return r;
        r = served_run_views(sv, s);
        if (r < 0)
                return r;
        served_finish(sv, t0);
        *ret = TAKE_PTR(sv);
        return 0;
}

int served_new_prerendered(const Snapshot *s, void *image, size_t image_size, Served **ret)
{
        uint64_t t0 = now_monotonic_usec();
        _cleanup_(served_releasep) Served *sv = NULL;
        int r = served_alloc(s, 1, &sv); /* the file image */
        if (r < 0)
                return r;
        /* from the key cells the read kept, before the rows' pages are dropped */
        for (size_t i = 0; i < s->n_views; i++) {
                r = slice_index_build(sv->arena, &s->views[i], &sv->views[i].slices);
                if (r < 0)
                        return r;
        }
        r = prerender_adopt(sv, s, image, image_size);
        if (r < 0)
                return r;
        served_finish(sv, t0);
        *ret = TAKE_PTR(sv);
        return 0;
}

Served *served_ref(Served *sv)
{
        if (sv)
                atomic_fetch_add_explicit(&sv->refs, 1, memory_order_relaxed);
        return sv;
}

void served_unref(Served *sv)
{
        if (!sv)
                return;
        if (atomic_fetch_sub_explicit(&sv->refs, 1, memory_order_acq_rel) != 1)
                return;
        live--;
        void (*hook)(Served *, void *) = retire_hook;
        if (hook)
                hook(sv, retire_userdata);
        else
                served_release(sv);
}

void served_unref_cb(const void *data, size_t len, void *sv)
{
        served_unref(sv);
}

const ServedView *served_find_view(const Served *sv, const char *name, size_t len)
{
        for (size_t i = 0; i < sv->n_views; i++)
                if (sv->views[i].name_len == len && memcmp(sv->views[i].name, name, len) == 0)
                        return &sv->views[i];
        return NULL;
}
