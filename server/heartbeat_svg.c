#include "heartbeat_svg.h"

#include <time.h>

/* Plot geometry in SVG user units; the element scales to the page width. */
#define SVG_W         960
#define SVG_H         320
#define PLOT_L        64
#define PLOT_R        16
#define PLOT_T        36
#define PLOT_B        40
#define PLOT_W        (SVG_W - PLOT_L - PLOT_R)
#define PLOT_H        (SVG_H - PLOT_T - PLOT_B)
#define KIB_MIB       1024.0
#define NO_USAGE_MARK 10 /* height of a run mark whose peak RSS is unknown */

/* No libm here: linking it only for these few calls maps and touches about 480 KiB of
 * libm.so in tallyd (measured with smaps), a third of the status page's memory. */
static long long round_ll(double v)
{
        return (long long)(v >= 0 ? v + 0.5 : v - 0.5);
}

/* ceil for 0 <= x < 2^63 */
static double ceil_pos(double x)
{
        long long i = (long long)x;
        return (double)(i + ((double)i < x));
}

AxisTicks axis_value_ticks(double max)
{
        if (!(max >= 1e-6) || max > 1e15) /* also NaN and infinity */
                max = 1;
        /* the smallest 1/2/5×10^k step that covers max in at most six steps */
        double mag = 1; /* 10^floor(log10(max / 6)) */
        while (mag * 10 <= max / 6)
                mag *= 10;
        while (mag > max / 6)
                mag /= 10;
        double step = mag;
        static const double mult[] = {1, 2, 5, 10};
        for (size_t i = 0; i < ELEMENTSOF(mult); i++) {
                step = mult[i] * mag;
                if (ceil_pos(max / step - 1e-9) <= 6)
                        break;
        }
        double hi = ceil_pos(max / step - 1e-9) * step;
        if (hi < max)
                hi += step;
        return (AxisTicks){0, hi, step};
}

uint64_t axis_time_step(int64_t from_usec, int64_t to_usec)
{
        static const uint64_t steps_ms[] = {10,      20,      50,       100,      200,     500,
                                            1000,    2000,    5000,     10000,    15000,   30000,
                                            60000,   120000,  300000,   600000,   900000,  1800000,
                                            3600000, 7200000, 10800000, 21600000, 43200000};
        uint64_t span = to_usec > from_usec ? (uint64_t)(to_usec - from_usec) : 1;
        for (size_t i = 0; i < ELEMENTSOF(steps_ms); i++)
                if (span / (steps_ms[i] * USEC_PER_MSEC) <= 8)
                        return steps_ms[i] * USEC_PER_MSEC;
        return steps_ms[ELEMENTSOF(steps_ms) - 1] * USEC_PER_MSEC;
}

HeartbeatWindow heartbeat_window(const History *h, int64_t now_usec)
{
        /* everything in the ring is drawn, even when ticks came late (a loaded machine, a
         * simulated day at 1 ms): the ring, not the clock, bounds the plot */
        int64_t span = (int64_t)(h->interval_usec * h->rss_cap);
        HeartbeatWindow w = {.from_usec = now_usec - span, .to_usec = now_usec};
        if (h->rss_n)
                w.from_usec = MIN(w.from_usec, history_rss_at(h, 0).t_usec);
        int64_t oldest = INT64_MAX;
        for (size_t i = 0; i < h->rss_n; i++) {
                int64_t t = history_rss_at(h, i).t_usec;
                if (t >= w.from_usec) {
                        oldest = MIN(oldest, t);
                        break;
                }
        }
        w.first_run = h->runs_n;
        for (size_t i = 0; i < h->runs_n; i++)
                if (history_run_at(h, i)->when_usec >= w.from_usec) {
                        w.first_run = i;
                        oldest = MIN(oldest, history_run_at(h, i)->when_usec);
                        break;
                }
        /* runs come in order of arrival, not of time: count every one inside */
        for (size_t i = w.first_run; i < h->runs_n; i++) {
                int64_t t = history_run_at(h, i)->when_usec;
                if (t >= w.from_usec)
                        oldest = MIN(oldest, t);
        }
        if (oldest != INT64_MAX)
                w.from_usec = oldest;
        for (size_t i = 0; i < h->rss_n; i++) {
                int64_t t = history_rss_at(h, i).t_usec;
                w.n_samples += t >= w.from_usec;
                w.to_usec = MAX(w.to_usec, t);
        }
        for (size_t i = w.first_run; i < h->runs_n; i++) {
                int64_t t = history_run_at(h, i)->when_usec;
                w.n_runs += t >= w.from_usec;
                w.to_usec = MAX(w.to_usec, t);
        }
        /* a single instant (one sample, or all at once) gets one interval of room */
        if (w.to_usec - w.from_usec < (int64_t)h->interval_usec)
                w.from_usec = w.to_usec - (int64_t)h->interval_usec;
        return w;
}

typedef struct Scale {
        int64_t from;
        double x_per_usec, y_per_kib;
} Scale;

static double x_of(const Scale *s, int64_t t)
{
        return PLOT_L + (double)(t - s->from) * s->x_per_usec;
}

static double y_of(const Scale *s, uint64_t kib)
{
        return PLOT_T + PLOT_H - (double)kib * s->y_per_kib;
}

static void time_label(char *buf, size_t n, int64_t t, uint64_t step)
{
        time_t sec = (time_t)(t / (int64_t)USEC_PER_SEC);
        struct tm tm;
        gmtime_r(&sec, &tm);
        if (step >= 60 * USEC_PER_SEC)
                snprintf(buf, n, "%02d:%02d", tm.tm_hour, tm.tm_min);
        else if (step >= USEC_PER_SEC)
                snprintf(buf, n, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
        else
                snprintf(buf, n, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                         (int)(t % (int64_t)USEC_PER_SEC / 1000));
}

static void axes(Buf *out, const Scale *s, const HeartbeatWindow *w, AxisTicks yt)
{
        buf_puts(out, "<g class=\"axes\" font-size=\"12\" fill=\"#444\">");
        for (double v = yt.lo; v <= yt.hi + yt.step / 2; v += yt.step) {
                double y = y_of(s, (uint64_t)round_ll(v * KIB_MIB));
                buf_printf(out,
                           "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                           "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>",
                           PLOT_L, y, PLOT_L + PLOT_W, y, PLOT_L - 6, y + 4, v);
        }
        uint64_t step = axis_time_step(w->from_usec, w->to_usec);
        int64_t first = w->from_usec - w->from_usec % (int64_t)step;
        if (first < w->from_usec)
                first += (int64_t)step;
        for (int64_t t = first; t <= w->to_usec; t += (int64_t)step) {
                char label[32];
                time_label(label, sizeof(label), t, step);
                double x = x_of(s, t);
                buf_printf(out,
                           "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                           "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                           x, PLOT_T, x, PLOT_T + PLOT_H + 4, x, PLOT_T + PLOT_H + 18, label);
        }
        buf_printf(out,
                   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                   "stroke=\"#888\"/>"
                   "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
                   "text-anchor=\"middle\">RSS (MiB)</text>"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time of day (UTC)</text></g>",
                   PLOT_L, PLOT_T, PLOT_W, PLOT_H, PLOT_T + PLOT_H / 2, PLOT_T + PLOT_H / 2,
                   PLOT_L + PLOT_W / 2, SVG_H - 4);
}

static void legend(Buf *out)
{
        buf_printf(out,
                   "<g class=\"legend\" font-size=\"12\" fill=\"#222\">"
                   "<line x1=\"%d\" y1=\"14\" x2=\"%d\" y2=\"14\" stroke=\"#1f6feb\" "
                   "stroke-width=\"2\"/><text x=\"%d\" y=\"18\">tallyd RSS</text>"
                   "<line x1=\"%d\" y1=\"6\" x2=\"%d\" y2=\"22\" stroke=\"#d9480f\" "
                   "stroke-width=\"2\"/><text x=\"%d\" y=\"18\">worker run: peak RSS</text>"
                   "<line x1=\"%d\" y1=\"6\" x2=\"%d\" y2=\"22\" stroke=\"#c92a2a\" "
                   "stroke-width=\"2\" stroke-dasharray=\"3 2\"/>"
                   "<text x=\"%d\" y=\"18\">failed run</text></g>",
                   PLOT_L, PLOT_L + 24, PLOT_L + 30, PLOT_L + 130, PLOT_L + 130, PLOT_L + 138,
                   PLOT_L + 300, PLOT_L + 300, PLOT_L + 308);
}

/* v with one decimal, without printf: 8640 points per render made printf's float
 * formatting the largest cost of rendering the page. */
static void put_fixed1(Buf *out, double v)
{
        long long t = round_ll(v * 10);
        char tmp[32];
        size_t n = 0;
        bool neg = t < 0;
        unsigned long long u = neg ? (unsigned long long)-t : (unsigned long long)t;
        tmp[n++] = (char)('0' + u % 10);
        tmp[n++] = '.';
        u /= 10;
        do {
                tmp[n++] = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (neg)
                tmp[n++] = '-';
        if (!buf_reserve(out, n))
                return;
        while (n)
                out->data[out->len++] = tmp[--n];
}

static void rss_line(Buf *out, const Scale *s, const History *h, const HeartbeatWindow *w)
{
        bool open = false;
        RssSample last = {0};
        bool any = false;
        for (size_t i = 0; i < h->rss_n; i++) {
                const RssSample p = history_rss_at(h, i);
                if (p.t_usec < w->from_usec)
                        continue;
                if (open && history_rss_gap_before(h, i)) {
                        buf_puts(out, "\"/>");
                        open = false;
                }
                if (!open) {
                        buf_puts(out, "<polyline class=\"rss\" fill=\"none\" stroke=\"#1f6feb\" "
                                      "stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"");
                        open = true;
                } else
                        buf_putc(out, ' ');
                put_fixed1(out, x_of(s, p.t_usec));
                buf_putc(out, ',');
                put_fixed1(out, y_of(s, p.rss_kib));
                last = p;
                any = true;
        }
        if (open)
                buf_puts(out, "\"/>");
        if (any) /* a one-point line is invisible: the newest sample also gets a dot */
                buf_printf(out,
                           "<circle class=\"rss-now\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                           "fill=\"#1f6feb\"><title>tallyd now: %.1f MiB</title></circle>",
                           x_of(s, last.t_usec), y_of(s, last.rss_kib),
                           (double)last.rss_kib / KIB_MIB);
}

static void run_marks(Buf *out, const Scale *s, const History *h, const HeartbeatWindow *w)
{
        for (size_t i = w->first_run; i < h->runs_n; i++) {
                const RunRecord *r = history_run_at(h, i);
                if (r->when_usec < w->from_usec)
                        continue;
                double x = x_of(s, r->when_usec), base = PLOT_T + PLOT_H;
                double top = r->has_usage ? y_of(s, r->peak_rss_kib) : base - NO_USAGE_MARK;
                bool ok = r->outcome == RUN_OK;
                buf_printf(out,
                           "<line class=\"run %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                           "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s>",
                           ok ? "ok" : "failed", x, base, x, top, ok ? "#d9480f" : "#c92a2a",
                           ok ? "" : " stroke-dasharray=\"3 2\"");
                if (ok && r->has_usage)
                        buf_printf(out, "<title>generation %llu: peak %.1f MiB</title></line>",
                                   (unsigned long long)r->generation,
                                   (double)r->peak_rss_kib / KIB_MIB);
                else if (ok)
                        buf_printf(out,
                                   "<title>generation %llu: peak RSS not recorded</title></line>",
                                   (unsigned long long)r->generation);
                else
                        buf_printf(out, "<title>failed run (%s %d)</title></line>",
                                   r->exit_status < 0 ? "signal" : "exit status",
                                   r->exit_status < 0 ? -r->exit_status : r->exit_status);
        }
}

void heartbeat_svg_render(Buf *out, const History *h, const HeartbeatWindow *w)
{
        uint64_t max_kib = 0;
        for (size_t i = 0; i < h->rss_n; i++)
                if (history_rss_at(h, i).t_usec >= w->from_usec)
                        max_kib = MAX(max_kib, history_rss_at(h, i).rss_kib);
        for (size_t i = w->first_run; i < h->runs_n; i++) {
                const RunRecord *r = history_run_at(h, i);
                if (r->when_usec >= w->from_usec && r->has_usage)
                        max_kib = MAX(max_kib, r->peak_rss_kib);
        }
        AxisTicks yt = axis_value_ticks((double)max_kib / KIB_MIB);
        Scale s = {.from = w->from_usec,
                   .x_per_usec = (double)PLOT_W / (double)MAX(w->to_usec - w->from_usec, 1),
                   .y_per_kib = (double)PLOT_H / (yt.hi * KIB_MIB)};
        buf_printf(out,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                   "width=\"100%%\" role=\"img\" aria-label=\"Memory heartbeat: tallyd RSS and "
                   "worker peak RSS over time\" font-family=\"sans-serif\" "
                   "data-samples=\"%zu\" data-runs=\"%zu\" data-from-usec=\"%lld\" "
                   "data-to-usec=\"%lld\">",
                   SVG_W, SVG_H, w->n_samples, w->n_runs, (long long)w->from_usec,
                   (long long)w->to_usec);
        axes(out, &s, w, yt);
        legend(out);
        if (w->n_samples == 0 && w->n_runs == 0)
                buf_printf(out,
                           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#888\">no "
                           "samples yet</text>",
                           PLOT_L + PLOT_W / 2, PLOT_T + PLOT_H / 2);
        run_marks(out, &s, h, w);
        rss_line(out, &s, h, w);
        buf_puts(out, "</svg>");
}
