#include "status_page.h"

#include <event2/event.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "doc.h"
#include "gzip.h"
#include "heartbeat_svg.h"
#include "history.h"
#include "metrics.h"
#include "negotiate.h"
#include "pinning.h"
#include "timeparse.h"

#define CT_HTML    "text/html; charset=utf-8"
#define CT_JSON    "application/json; charset=utf-8"
#define CT_MSGPACK "application/msgpack"
/* Inline style and the refresh script only; the SVG is inline markup, not an image. */
#define STATUS_CSP                                                                    \
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; " \
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define REFRESH_MIN_SEC 30
/* At short test intervals a render per sample would keep the loop busy (about 4 ms of
 * CPU for a full day) and a render always in flight in memory: samples are still taken
 * every interval, the page follows at most once a second. */
#define RENDER_MIN_USEC USEC_PER_SEC
#define ENV_INTERVAL    "TALLYD_HISTORY_INTERVAL"
#define MIB             1024.0

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

static void html_escape(Buf *b, const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                switch (s[i]) {
                case '&': buf_puts(b, "&amp;"); break;
                case '<': buf_puts(b, "&lt;"); break;
                case '>': buf_puts(b, "&gt;"); break;
                case '"': buf_puts(b, "&quot;"); break;
                case '\'': buf_puts(b, "&#39;"); break;
                case 0: buf_puts(b, "&#xFFFD;"); break;
                default: buf_putc(b, s[i]);
                }
        }
}

static void html_cstr(Buf *b, const char *s)
{
        html_escape(b, s ? s : "", s ? strlen(s) : 0);
}

/* A view name as one URL path segment: everything but unreserved bytes percent-encoded,
 * so the result is also safe inside a quoted HTML attribute. */
static void url_segment(Buf *b, const char *s, size_t len)
{
        static const char hex[] = "0123456789ABCDEF";
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~')
                        buf_putc(b, (char)c);
                else {
                        buf_putc(b, '%');
                        buf_putc(b, hex[c >> 4]);
                        buf_putc(b, hex[c & 15]);
                }
        }
}

static void rfc3339(char *buf, size_t n, int64_t usec)
{
        /* whole seconds read better on a page; the JSON keeps microseconds */
        format_time_rfc3339(buf, n, usec - usec % (int64_t)USEC_PER_SEC);
}

static const char page_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1000px;"
    "padding:0 1em;color:#222}"
    "h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em}"
    "table{border-collapse:collapse}td,th{padding:.15em .7em;border-bottom:1px solid #e5e5e5;"
    "text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:0}"
    "dt{color:#666}dd{margin:0}.stale{color:#c92a2a;font-weight:600}.fresh{color:#2b8a3e}"
    ".failed{color:#c92a2a}.muted{color:#777}.runs{max-height:28em;overflow:auto;"
    "display:block}footer{margin-top:2em;color:#777;font-size:.9em}";

static void kib_cell(Buf *b, bool known, uint64_t kib)
{
        if (known)
                buf_printf(b, "<td class=\"n\" data-kib=\"%llu\">%.1f</td>",
                           (unsigned long long)kib, (double)kib / MIB);
        else
                buf_puts(b, "<td class=\"n muted\">–</td>");
}

static void render_snapshot(Buf *b, const StatusPage *p, int64_t now)
{
        const Served *sv = p->served;
        buf_puts(b, "<section id=\"snapshot\"><h2>Served snapshot</h2>");
        if (!sv) {
                buf_puts(b, "<p id=\"no-snapshot\">No snapshot loaded yet: data endpoints answer "
                            "503 until the worker publishes one.</p></section>");
                return;
        }
        char created[48];
        rfc3339(created, sizeof(created), sv->created_usec);
        uint64_t age =
            now > sv->created_usec ? (uint64_t)(now - sv->created_usec) / USEC_PER_SEC : 0;
        uint64_t max_age = p->o.max_age_usec / USEC_PER_SEC;
        bool stale = age > max_age;
        const SnapshotStats *st = &sv->stats;
        buf_printf(b,
                   "<dl><dt>generation</dt><dd id=\"generation\">%llu</dd>"
                   "<dt>created</dt><dd id=\"created\" data-usec=\"%lld\">%s</dd>"
                   "<dt>age</dt><dd id=\"age\" data-seconds=\"%llu\"><span class=\"%s\">%llu s "
                   "%s</span> (max_age %llu s)</dd>",
                   (unsigned long long)sv->generation, (long long)sv->created_usec, created,
                   (unsigned long long)age, stale ? "stale" : "fresh", (unsigned long long)age,
                   stale ? "— stale, /readyz fails" : "— fresh", (unsigned long long)max_age);
        /* as of the last scan (pinning.h); a pin change without a new snapshot shows at
         * the next tick */
        uint64_t pin = pinning_current();
        if (pin == PINNING_NONE)
                buf_puts(b,
                         "<dt>pinned</dt><dd id=\"pinned\" data-pinned=\"false\">not pinned</dd>");
        else if (pin == PINNING_UNREADABLE)
                buf_puts(b, "<dt>pinned</dt><dd id=\"pinned\" data-pinned=\"unusable\" "
                            "class=\"stale\">pin file unusable</dd>");
        else
                buf_printf(b,
                           "<dt>pinned</dt><dd id=\"pinned\" data-pinned=\"true\" "
                           "data-generation=\"%llu\">pinned to generation %llu</dd>",
                           (unsigned long long)pin, (unsigned long long)pin);
        buf_printf(b,
                   "<dt>file</dt><dd id=\"file-bytes\" data-bytes=\"%llu\">%.1f KiB</dd>"
                   "<dt>rows</dt><dd id=\"total-rows\">%llu in %zu view%s</dd>"
                   "<dt>worker</dt><dd id=\"worker\">host <span id=\"worker-host\">",
                   (unsigned long long)sv->file_bytes, (double)sv->file_bytes / 1024.0,
                   (unsigned long long)sv->total_rows, sv->n_views, sv->n_views == 1 ? "" : "s");
        html_cstr(b, st->host);
        buf_printf(b,
                   "</span>, <span id=\"worker-rows-read\">%llu</span> rows read, "
                   "<span id=\"worker-rows-rejected\">%llu</span> rejected, "
                   "<span id=\"worker-duration-ms\">%llu</span> ms",
                   (unsigned long long)st->rows_read, (unsigned long long)st->rows_rejected,
                   (unsigned long long)st->duration_ms);
        if (st->has_usage)
                buf_printf(b,
                           "; peak RSS <span id=\"worker-peak-rss\" data-kib=\"%llu\">%.1f "
                           "MiB</span>, CPU <span id=\"worker-cpu-ms\">%llu</span> ms, wall "
                           "<span id=\"worker-wall-ms\">%llu</span> ms",
                           (unsigned long long)st->peak_rss_kib, (double)st->peak_rss_kib / MIB,
                           (unsigned long long)st->cpu_ms, (unsigned long long)st->wall_ms);
        else
                buf_puts(b, "; <span class=\"muted\">no usage recorded (older worker)</span>");
        buf_puts(b, "</dd></dl></section>");

        buf_puts(b, "<section><h2>Views</h2><table id=\"views\"><thead><tr><th>view</th>"
                    "<th class=\"n\">rows</th><th>JSON</th><th>CSV</th></tr></thead><tbody>");
        for (size_t i = 0; i < sv->n_views; i++) {
                const ServedView *v = &sv->views[i];
                Buf href = BUF_NULL;
                buf_puts(&href, "/v1/views/");
                url_segment(&href, v->name, v->name_len);
                buf_putc(&href, 0);
                const char *h = buf_ok(&href) ? href.data : "/v1/views";
                buf_puts(b, "<tr><td class=\"name\">");
                html_escape(b, v->name, v->name_len);
                buf_printf(b,
                           "</td><td class=\"n rows\">%zu</td><td><a class=\"json\" "
                           "href=\"%s\">JSON</a></td><td><a class=\"csv\" "
                           "href=\"%s?format=csv\">CSV</a></td></tr>",
                           v->n_rows, h, h);
                buf_done(&href);
        }
        buf_puts(b, "</tbody></table></section>");
}

static void render_runs(Buf *b, const History *h)
{
        buf_printf(b,
                   "<section><h2>Recent worker runs</h2><p class=\"muted\">The last %zu seen "
                   "(at most %zu), newest first: successful runs from the snapshots they "
                   "published, failed ones when tallyd spawned the worker.</p>",
                   h->runs_n, h->runs_cap);
        buf_puts(b, "<table id=\"runs\" class=\"runs\"><thead><tr><th>finished (UTC)</th>"
                    "<th class=\"n\">generation</th><th>outcome</th><th class=\"n\">duration "
                    "(ms)</th><th class=\"n\">rows read</th><th class=\"n\">rejected</th>"
                    "<th class=\"n\">peak RSS (MiB)</th><th class=\"n\">CPU (ms)</th></tr>"
                    "</thead><tbody>");
        for (size_t k = h->runs_n; k-- > 0;) {
                const RunRecord *r = history_run_at(h, k);
                char when[48];
                rfc3339(when, sizeof(when), r->when_usec);
                bool ok = r->outcome == RUN_OK;
                buf_printf(b, "<tr class=\"%s\" data-when-usec=\"%lld\"><td>%s</td>",
                           ok ? "ok" : "failed", (long long)r->when_usec, when);
                if (ok)
                        buf_printf(b, "<td class=\"n\">%llu</td><td>ok</td>",
                                   (unsigned long long)r->generation);
                else
                        buf_printf(b, "<td class=\"n muted\">–</td><td>failed (%s %d)</td>",
                                   r->exit_status < 0 ? "signal" : "exit",
                                   r->exit_status < 0 ? -r->exit_status : r->exit_status);
                buf_printf(b, "<td class=\"n\">%llu</td>", (unsigned long long)r->duration_ms);
                if (ok)
                        buf_printf(b, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>",
                                   (unsigned long long)r->rows_read,
                                   (unsigned long long)r->rows_rejected);
                else
                        buf_puts(b, "<td class=\"n muted\">–</td><td class=\"n muted\">–</td>");
                kib_cell(b, r->has_usage, r->peak_rss_kib);
                if (r->has_usage)
                        buf_printf(b, "<td class=\"n\">%llu</td></tr>",
                                   (unsigned long long)r->cpu_ms);
                else
                        buf_puts(b, "<td class=\"n muted\">–</td></tr>");
        }
        buf_puts(b, "</tbody></table></section>");
}

static void render_html(Buf *b, const StatusPage *p, int64_t now, const HeartbeatWindow *w)
{
        const History *h = p->history;
        char at[48], interval[32];
        rfc3339(at, sizeof(at), now);
        format_duration(interval, sizeof(interval), h->interval_usec);
        uint64_t refresh = MAX((uint64_t)REFRESH_MIN_SEC, h->interval_usec / USEC_PER_SEC);
        buf_printf(
            b,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            "<title>tally status</title><style>%s</style></head><body>"
            "<h1>tally status</h1><p class=\"muted\">Rendered by tallyd at <time "
            "id=\"rendered\" data-usec=\"%lld\">%s</time>; re-rendered with every sample (every %s, at "
            "most once a second) and every new snapshot; "
            "this page reloads itself every %llu s.</p>",
            page_style, (long long)now, at, interval, (unsigned long long)refresh);
        render_snapshot(b, p, now);
        uint64_t now_kib = h->rss_n ? history_rss_at(h, h->rss_n - 1).rss_kib : 0;
        buf_printf(b,
                   "<section id=\"heartbeat\"><h2>Memory heartbeat</h2><p>tallyd resident "
                   "memory <b id=\"rss-now\" data-kib=\"%llu\">%.1f MiB</b>, sampled every %s "
                   "(<span id=\"rss-samples\">%zu</span> samples); each worker run's peak RSS "
                   "is a spike (<span id=\"runs-plotted\">%zu</span> runs).</p>",
                   (unsigned long long)now_kib, (double)now_kib / MIB, interval, w->n_samples,
                   w->n_runs);
        heartbeat_svg_render(b, h, w);
        buf_puts(b, "</section>");
        render_runs(b, h);
        buf_printf(b,
                   "<footer>Data: <a href=\"/v1/history\">/v1/history</a> · <a "
                   "href=\"/v1/snapshot\">/v1/snapshot</a> · <a href=\"/v1/views\">/v1/views</a> "
                   "· <a href=\"/metrics\">/metrics</a> · <a href=\"/readyz\">/readyz</a></footer>"
                   "<script>setTimeout(function(){location.reload()},%llu)</script>"
                   "</body></html>\n",
                   (unsigned long long)refresh * 1000);
}

static void render_history(Buf *b, DocFormat fmt, const StatusPage *p, int64_t now,
                           const HeartbeatWindow *w)
{
        const History *h = p->history;
        Doc d;
        doc_init(&d, b, fmt);
        doc_map(&d, 6);
        doc_key(&d, "interval_ms");
        doc_uint(&d, h->interval_usec / USEC_PER_MSEC);
        doc_key(&d, "rendered_usec");
        doc_int(&d, now);
        doc_key(&d, "window");
        doc_map(&d, 2);
        doc_key(&d, "from_usec");
        doc_int(&d, w->from_usec);
        doc_key(&d, "to_usec");
        doc_int(&d, w->to_usec);
        doc_end(&d);
        doc_key(&d, "capacity");
        doc_map(&d, 2);
        doc_key(&d, "rss_samples");
        doc_uint(&d, h->rss_cap);
        doc_key(&d, "runs");
        doc_uint(&d, h->runs_cap);
        doc_end(&d);
        /* [t_usec, kib] pairs, oldest first: the smallest shape that keeps every sample */
        doc_key(&d, "rss");
        doc_array(&d, (uint32_t)h->rss_n);
        for (size_t i = 0; i < h->rss_n; i++) {
                const RssSample s = history_rss_at(h, i);
                doc_array(&d, 2);
                doc_int(&d, s.t_usec);
                doc_uint(&d, s.rss_kib);
                doc_end(&d);
        }
        doc_end(&d);
        doc_key(&d, "runs");
        doc_array(&d, (uint32_t)h->runs_n);
        for (size_t i = 0; i < h->runs_n; i++) {
                const RunRecord *r = history_run_at(h, i);
                doc_map(&d, 10);
                doc_key(&d, "when_usec");
                doc_int(&d, r->when_usec);
                doc_key(&d, "outcome");
                doc_cstr(&d, r->outcome == RUN_OK ? "ok" : "failed");
                doc_key(&d, "generation");
                if (r->generation)
                        doc_uint(&d, r->generation);
                else
                        doc_nil(&d);
                doc_key(&d, "exit_status");
                if (r->outcome == RUN_OK)
                        doc_nil(&d);
                else
                        doc_int(&d, r->exit_status);
                doc_key(&d, "duration_ms");
                doc_uint(&d, r->duration_ms);
                doc_key(&d, "wall_ms");
                if (r->has_usage)
                        doc_uint(&d, r->wall_ms);
                else
                        doc_nil(&d);
                doc_key(&d, "rows_read");
                doc_uint(&d, r->rows_read);
                doc_key(&d, "rows_rejected");
                doc_uint(&d, r->rows_rejected);
                doc_key(&d, "peak_rss_kib");
                if (r->has_usage)
                        doc_uint(&d, r->peak_rss_kib);
                else
                        doc_nil(&d);
                doc_key(&d, "cpu_ms");
                if (r->has_usage)
                        doc_uint(&d, r->cpu_ms);
                else
                        doc_nil(&d);
                doc_end(&d);
        }
        doc_end(&d);
        doc_end(&d);
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
        Buf b;
        render_buf(p, BODY_HTML, &b);
        render_html(&b, p, now, &w);
        int r = keep_gzip(p, nb, BODY_HTML, &b);
        if (r >= 0) {
                render_buf(p, BODY_JSON, &b);
                render_history(&b, DOC_JSON, p, now, &w);
                r = keep_gzip(p, nb, BODY_JSON, &b);
        }
        if (r >= 0) {
                render_buf(p, BODY_MP, &b);
                render_history(&b, DOC_MSGPACK, p, now, &w);
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
