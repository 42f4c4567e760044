/* The status page's bodies: the HTML page and the history document (status_render.h). */
#include "status_render.h"

#include "pinning.h"
#include "timeparse.h"

#define REFRESH_MIN_SEC 30
#define MIB             1024.0

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

static void render_snapshot(Buf *b, const StatusShown *p, int64_t now)
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
        uint64_t max_age = p->max_age_usec / USEC_PER_SEC;
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

void status_render_html(Buf *b, const StatusShown *p, int64_t now, const HeartbeatWindow *w)
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

void status_render_history(Buf *b, DocFormat fmt, const StatusShown *p, int64_t now,
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
