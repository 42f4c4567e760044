#include "metrics.h"

#include <fcntl.h>

#include "pinning.h"

static const double bucket_bounds[METRICS_N_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1,
};

static const struct {
        int code;
        const char *label;
} codes[_CODE_MAX] = {
    [CODE_200] = {200, "200"},   [CODE_304] = {304, "304"}, [CODE_400] = {400, "400"},
    [CODE_404] = {404, "404"},   [CODE_405] = {405, "405"}, [CODE_413] = {413, "413"},
    [CODE_414] = {414, "414"},   [CODE_500] = {500, "500"}, [CODE_503] = {503, "503"},
    [CODE_OTHER] = {0, "other"},
};

static void bump(atomic_ullong *c, uint64_t by)
{
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                              memory_order_relaxed);
}

void metrics_count_request(LoopMetrics *m, int status, uint64_t duration_nsec)
{
        size_t c = CODE_OTHER;
        for (size_t i = 0; i < CODE_OTHER; i++)
                if (codes[i].code == status) {
                        c = i;
                        break;
                }
        bump(&m->requests[c], 1);
        double s = (double)duration_nsec / 1e9;
        size_t b = 0;
        while (b < METRICS_N_BUCKETS && s > bucket_bounds[b])
                b++;
        bump(&m->buckets[b], 1);
        bump(&m->duration_nsec_sum, duration_nsec);
}

/* Resident set size from /proc/self/statm, in bytes; 0 if unknown. */
static uint64_t rss_bytes(void)
{
        char buf[128];
        int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        unsigned long long size, resident;
        if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
                return 0;
        return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t load(const atomic_ullong *c)
{
        return atomic_load_explicit(c, memory_order_relaxed);
}

static void label_escaped(Buf *b, const char *s)
{
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        buf_putc(b, '\\');
                if (*s == '\n') {
                        buf_puts(b, "\\n");
                        continue;
                }
                buf_putc(b, *s);
        }
}

static void header(Buf *b, const char *name, const char *type, const char *help)
{
        buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_render(Buf *b, const MetricsInput *in)
{
        const Served *sv = in->served;
        header(b, "tally_snapshot_loaded", "gauge", "1 if a snapshot is being served.");
        buf_printf(b, "tally_snapshot_loaded %d\n", sv ? 1 : 0);
        header(b, "tally_snapshot_generation", "gauge",
               "Generation of the snapshot being served (0: none).");
        buf_printf(b, "tally_snapshot_generation %llu\n",
                   (unsigned long long)(sv ? sv->generation : 0));
        pinning_metrics(b, in->pin);
        if (sv) {
                double age = (double)snapshot_age_usec(sv->created_usec, in->now_usec) / 1e6;
                header(b, "tally_snapshot_age_seconds", "gauge",
                       "Seconds since the served snapshot was created.");
                buf_printf(b, "tally_snapshot_age_seconds %.3f\n", age);
                header(b, "tally_snapshot_created_timestamp_seconds", "gauge",
                       "Creation time of the served snapshot.");
                buf_printf(b, "tally_snapshot_created_timestamp_seconds %.3f\n",
                           (double)sv->created_usec / 1e6);
                header(b, "tally_snapshot_memory_bytes", "gauge",
                       "Bytes mapped for the served snapshot's prepared bodies and index.");
                buf_printf(b, "tally_snapshot_memory_bytes %zu\n", arena_mapped(sv->arena));
                header(b, "tally_view_rows", "gauge", "Rows per view in the served snapshot.");
                for (size_t i = 0; i < sv->n_views; i++) {
                        buf_puts(b, "tally_view_rows{view=\"");
                        label_escaped(b, sv->views[i].name);
                        buf_printf(b, "\"} %zu\n", sv->views[i].n_rows);
                }
        }
        if (in->loader) {
                header(b, "tally_reloads_total", "counter", "Snapshot loads by result.");
                buf_printf(b, "tally_reloads_total{result=\"ok\"} %llu\n",
                           (unsigned long long)load(&in->loader->loaded));
                buf_printf(b, "tally_reloads_total{result=\"rejected\"} %llu\n",
                           (unsigned long long)load(&in->loader->rejected));
                header(b, "tally_reload_scans_total", "counter", "Snapshot directory scans.");
                buf_printf(b, "tally_reload_scans_total %llu\n",
                           (unsigned long long)load(&in->loader->scans));
                header(b, "tally_reload_duration_seconds", "summary",
                       "Time to read, validate and prepare a snapshot.");
                buf_printf(b, "tally_reload_duration_seconds_sum %.6f\n",
                           (double)load(&in->loader->duration_usec_sum) / 1e6);
                buf_printf(b, "tally_reload_duration_seconds_count %llu\n",
                           (unsigned long long)load(&in->loader->loaded));
                header(b, "tally_last_reload_duration_seconds", "gauge",
                       "Duration of the last successful load.");
                buf_printf(b, "tally_last_reload_duration_seconds %.6f\n",
                           (double)load(&in->loader->last_duration_usec) / 1e6);
        }
        header(b, "tally_worker_runs_total", "counter",
               "tally-worker runs started by --spawn-worker, by result.");
        buf_printf(b, "tally_worker_runs_total{result=\"ok\"} %llu\n",
                   (unsigned long long)in->worker_runs_ok);
        buf_printf(b, "tally_worker_runs_total{result=\"failed\"} %llu\n",
                   (unsigned long long)in->worker_runs_failed);

        header(b, "tally_http_requests_total", "counter", "HTTP responses by status code.");
        uint64_t total = 0;
        for (size_t c = 0; c < _CODE_MAX; c++) {
                uint64_t n = 0;
                for (size_t l = 0; l < in->n_loops; l++)
                        n += load(&in->loops[l]->requests[c]);
                total += n;
                buf_printf(b, "tally_http_requests_total{code=\"%s\"} %llu\n", codes[c].label,
                           (unsigned long long)n);
        }
        header(b, "tally_http_request_duration_seconds", "histogram",
               "Time from a parsed request to its queued response.");
        uint64_t cum = 0, sum_ns = 0;
        for (size_t k = 0; k <= METRICS_N_BUCKETS; k++) {
                for (size_t l = 0; l < in->n_loops; l++)
                        cum += load(&in->loops[l]->buckets[k]);
                if (k < METRICS_N_BUCKETS)
                        buf_printf(b,
                                   "tally_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                                   bucket_bounds[k], (unsigned long long)cum);
                else
                        buf_printf(b,
                                   "tally_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                                   (unsigned long long)cum);
        }
        for (size_t l = 0; l < in->n_loops; l++)
                sum_ns += load(&in->loops[l]->duration_nsec_sum);
        buf_printf(b, "tally_http_request_duration_seconds_sum %.9f\n", (double)sum_ns / 1e9);
        buf_printf(b, "tally_http_request_duration_seconds_count %llu\n", (unsigned long long)cum);
        (void)total;
        uint64_t conns = 0;
        for (size_t l = 0; l < in->n_loops; l++)
                conns += load(&in->loops[l]->connections);
        header(b, "tally_http_connections_total", "counter", "Connections accepted.");
        buf_printf(b, "tally_http_connections_total %llu\n", (unsigned long long)conns);
        header(b, "tally_http_connections_open", "gauge", "Connections open now.");
        buf_printf(b, "tally_http_connections_open %u\n", in->open_connections);
        header(b, "tally_http_connections_max", "gauge", "max_connections.");
        buf_printf(b, "tally_http_connections_max %u\n", in->max_connections);
        header(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        buf_printf(b, "process_resident_memory_bytes %llu\n", (unsigned long long)rss_bytes());
        header(b, "tally_served_snapshots", "gauge",
               "Prepared snapshots alive (serving, or still referenced by responses in flight).");
        buf_printf(b, "tally_served_snapshots %u\n", served_live());
}
