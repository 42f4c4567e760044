#include "status_page.h"

#include <event2/event.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "gzip.h"
#include "history.h"
#include "metrics.h"
#include "negotiate.h"
#include "status_render.h"

#define CT_HTML    "text/html; charset=utf-8"
#define CT_JSON    "application/json; charset=utf-8"
#define CT_MSGPACK "application/msgpack"
/* Inline style and the refresh script only; the SVG is inline markup, not an image. */
#define STATUS_CSP                                                                    \
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; " \
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
/* At short test intervals a render per sample would keep the loop busy (about 4 ms of
 * CPU for a full day) and a render always in flight in memory: samples are still taken
 * every interval, the page follows at most once a second. */
#define RENDER_MIN_USEC USEC_PER_SEC
#define ENV_INTERVAL    "TALLYD_HISTORY_INTERVAL"

/* Only the gzip copies are kept (a full day's plain bodies are 430 kB, their gzip 90 kB:
 * every browser takes gzip); a client that does not is answered by inflating a copy into
 * its own response (status_page_respond). */
enum { BODY_HTML, BODY_JSON, BODY_MP, N_BODIES };

/* One render: immutable once published, freed by the last reference. */
typedef struct StatusBodies {
        atomic_uint refs;
        Piece gz[N_BODIES]; /* gzip of each body */
        size_t plain_len[N_BODIES];
        size_t map_size[N_BODIES]; /* each gzip body is its own mapping */
        char etag[2][40];          /* page, history */
} StatusBodies;

struct StatusPage {
        StatusOptions o;
        History *history;
        Served *served; /* main loop only */
        struct event *tick;
        uint64_t renders;
        pthread_mutex_t lock;
        StatusBodies *current;     /* guarded by lock */
        int64_t rendered_usec;     /* main loop: when current was rendered */
        size_t last_len[N_BODIES]; /* plain sizes last time: the next render's reservation */
};

static void bodies_unref(StatusBodies *b)
{
        if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
                return;
        for (size_t i = 0; i < N_BODIES; i++)
                if (b->gz[i].p)
                        munmap((void *)b->gz[i].p, b->map_size[i]);
        free(b);
}

static void *keep_ref(void *keep)
{
        atomic_fetch_add(&((StatusBodies *)keep)->refs, 1);
        return keep;
}

static void keep_unref(const void *data, size_t len, void *keep)
{
        bodies_unref(keep);
}

/* Compresses the rendered body b into slot i of nb and drops b. */
static int keep_gzip(StatusPage *p, StatusBodies *nb, size_t i, Buf *b)
{
        int r = buf_ok(b) ? 0 : -ENOMEM;
        Buf z;
        buf_init_mapped(&z);
        if (r >= 0)
                r = gzip_buf(b->data, b->len, &z);
        void *map = NULL;
        if (r >= 0 && !buf_ok(&z))
                r = -ENOMEM;
        if (r >= 0) {
                size_t len = z.len;
                r = buf_take_mapping(&z, &map, &nb->map_size[i]);
                if (r >= 0) {
                        nb->gz[i] = (Piece){map, len};
                        nb->plain_len[i] = b->len;
                        p->last_len[i] = b->len;
                }
        }
        buf_done(&z);
        buf_done(b);
        return r;
}

/* A rendering buffer sized for what body i needed last time (plus an eighth): one
 * mapping, faulted in once, instead of doubling from a small one. */
static void render_buf(const StatusPage *p, size_t i, Buf *b)
{
        buf_init_mapped(b);
        if (p->last_len[i])
                (void)buf_reserve(b, p->last_len[i] + p->last_len[i] / 8);
}

/* Renders every body for now and publishes them; on failure the previous set stays. */
static int render(StatusPage *p, int64_t now)
{
        StatusBodies *nb = calloc(1, sizeof(*nb));
        if (!nb)
                return -ENOMEM;
        atomic_init(&nb->refs, 1);
        HeartbeatWindow w = heartbeat_window(p->history, now);
        StatusShown shown = {p->history, p->served, p->o.max_age_usec};
        Buf b;
        render_buf(p, BODY_HTML, &b);
        status_render_html(&b, &shown, now, &w);
        int r = keep_gzip(p, nb, BODY_HTML, &b);
        if (r >= 0) {
                render_buf(p, BODY_JSON, &b);
                status_render_history(&b, DOC_JSON, &shown, now, &w);
                r = keep_gzip(p, nb, BODY_JSON, &b);
        }
        if (r >= 0) {
                render_buf(p, BODY_MP, &b);
                status_render_history(&b, DOC_MSGPACK, &shown, now, &w);
                r = keep_gzip(p, nb, BODY_MP, &b);
        }
        if (r < 0) {
                bodies_unref(nb);
                return r;
        }
        p->renders++;
        p->rendered_usec = now;
        snprintf(nb->etag[0], sizeof(nb->etag[0]), "W/\"status-%llu\"",
                 (unsigned long long)p->renders);
        snprintf(nb->etag[1], sizeof(nb->etag[1]), "W/\"history-%llu\"",
                 (unsigned long long)p->renders);
        pthread_mutex_lock(&p->lock);
        StatusBodies *old = p->current;
        p->current = nb;
        pthread_mutex_unlock(&p->lock);
        bodies_unref(old);
        return 0;
}

void status_page_tick(StatusPage *p, int64_t now_usec)
{
        history_add_rss(p->history, now_usec, metrics_rss_bytes() / 1024);
        (void)render(p, now_usec);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        StatusPage *p = arg;
        int64_t now = (int64_t)now_realtime_usec();
        history_add_rss(p->history, now, metrics_rss_bytes() / 1024);
        int64_t since = now - p->rendered_usec;
        if (since < 0 || (uint64_t)since >= RENDER_MIN_USEC)
                (void)render(p, now);
}

void status_page_snapshot(StatusPage *p, Served *sv)
{
        Served *old = p->served;
        p->served = served_ref(sv);
        served_unref(old);
        if (!sv)
                return;
        const SnapshotStats *st = &sv->stats;
        RunRecord run = {
            .when_usec = sv->created_usec,
            .generation = sv->generation,
            .duration_ms = st->duration_ms,
            .wall_ms = st->wall_ms,
            .rows_read = st->rows_read,
            .rows_rejected = st->rows_rejected,
            .has_usage = st->has_usage,
            .peak_rss_kib = st->peak_rss_kib,
            .cpu_ms = st->cpu_ms,
            .outcome = RUN_OK,
        };
        history_add_run(p->history, &run);
        (void)render(p, (int64_t)now_realtime_usec());
}

void status_page_worker_exited(StatusPage *p, int wait_status, uint64_t duration_ms,
                               const struct rusage *ru)
{
        if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0)
                return; /* its snapshot brings the run, with the worker's own numbers */
        RunRecord run = {
            .when_usec = (int64_t)now_realtime_usec(),
            .duration_ms = duration_ms,
            .wall_ms = duration_ms,
            .outcome = RUN_FAILED,
            .exit_status =
                WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -WTERMSIG(wait_status),
        };
        if (ru) {
                run.has_usage = true;
                run.peak_rss_kib = (uint64_t)ru->ru_maxrss;
                run.cpu_ms =
                    ((uint64_t)ru->ru_utime.tv_sec + (uint64_t)ru->ru_stime.tv_sec) * 1000 +
                    ((uint64_t)ru->ru_utime.tv_usec + (uint64_t)ru->ru_stime.tv_usec) / 1000;
        }
        history_add_run(p->history, &run);
        (void)render(p, run.when_usec);
}

int status_page_new(const StatusOptions *o, StatusPage **ret)
{
        StatusOptions opt = *o;
        if (!opt.interval_usec) {
                const char *e = getenv(ENV_INTERVAL);
                opt.interval_usec = HISTORY_INTERVAL_USEC;
                if (e && *e &&
                    (parse_duration_usec(e, &opt.interval_usec) < 0 ||
                     opt.interval_usec < USEC_PER_MSEC))
                        return -EINVAL;
        }
        StatusPage *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->o = opt;
        pthread_mutex_init(&p->lock, NULL);
        int r = history_new(opt.rss_samples ? opt.rss_samples : HISTORY_RSS_SAMPLES,
                            opt.runs ? opt.runs : HISTORY_RUNS, opt.interval_usec, &p->history);
        if (r >= 0)
                r = render(p, (int64_t)now_realtime_usec());
        if (r < 0) {
                status_page_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int status_page_start(StatusPage *p, struct event_base *base)
{
        p->tick = event_new(base, -1, EV_PERSIST, on_tick, p);
        if (!p->tick)
                return -ENOMEM;
        struct timeval tv = timeval_from_usec(p->history->interval_usec);
        if (event_add(p->tick, &tv) < 0)
                return -ENOMEM;
        status_page_tick(p, (int64_t)now_realtime_usec());
        return 0;
}

StatusPage *status_page_free(StatusPage *p)
{
        if (!p)
                return NULL;
        if (p->tick)
                event_free(p->tick);
        served_unref(p->served);
        bodies_unref(p->current);
        history_free(p->history);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

/* For a client that takes no gzip: the body inflated into the response's own buffer, a
 * mapping of its own (from the heap, its ~100 kB would stay in tallyd's RSS after the
 * response is freed: below M_TRIM_THRESHOLD). */
static int inflate_into(Response *resp, Piece gz, size_t plain_len)
{
        buf_done(&resp->owned);
        buf_init_mapped(&resp->owned);
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        if (!d || !buf_reserve(&resp->owned, plain_len)) {
                libdeflate_free_decompressor(d);
                return -ENOMEM;
        }
        size_t got = 0;
        enum libdeflate_result lr =
            libdeflate_gzip_decompress(d, gz.p, gz.len, resp->owned.data, plain_len, &got);
        libdeflate_free_decompressor(d);
        if (lr != LIBDEFLATE_SUCCESS || got != plain_len)
                return -EIO; /* our own stream: cannot happen */
        resp->owned.len = got;
        resp->pieces[resp->n_pieces++] = (Piece){resp->owned.data, got};
        return 0;
}

int status_page_respond(StatusPage *p, const Request *req, RouteKind kind, bool msgpack,
                        Response *resp)
{
        pthread_mutex_lock(&p->lock);
        StatusBodies *b = keep_ref(p->current);
        pthread_mutex_unlock(&p->lock);
        resp->keep = b;
        resp->keep_ref = keep_ref;
        resp->keep_unref = keep_unref;
        resp->status = 200;
        resp->vary = true;
        size_t i;
        if (kind == ROUTE_STATUS) {
                resp->content_type = CT_HTML;
                resp->csp = STATUS_CSP;
                resp->etag = b->etag[0];
                i = BODY_HTML;
        } else {
                resp->content_type = msgpack ? CT_MSGPACK : CT_JSON;
                resp->etag = b->etag[1];
                i = msgpack ? BODY_MP : BODY_JSON;
        }
        if (req->if_none_match && etag_list_matches(req->if_none_match, resp->etag)) {
                resp->status = 304;
                resp->no_body = true;
                return 0;
        }
        if (!accept_encoding_gzip(req->accept_encoding))
                return inflate_into(resp, b->gz[i], b->plain_len[i]);
        resp->content_encoding = "gzip";
        resp->shared = 1u << resp->n_pieces; /* sent by reference on keep (httpd.c) */
        resp->pieces[resp->n_pieces++] = b->gz[i];
        return 0;
}
