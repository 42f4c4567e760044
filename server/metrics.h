/* Counters each event loop keeps for itself, and the Prometheus text that sums them.
 *
 * Every loop writes only its own LoopMetrics (no shared cache lines on the request path);
 * /metrics, served by whichever loop, reads all of them with relaxed atomic loads. */
#pragma once

#include <stdatomic.h>

#include "buf.h"
#include "loader.h"
#include "served.h"

#define METRICS_N_BUCKETS 12

typedef enum MetricsCode {
        CODE_200,
        CODE_304,
        CODE_400,
        CODE_404,
        CODE_405,
        CODE_413,
        CODE_414,
        CODE_500,
        CODE_503,
        CODE_OTHER,
        _CODE_MAX,
} MetricsCode;

typedef struct LoopMetrics {
        atomic_ullong requests[_CODE_MAX];
        atomic_ullong buckets[METRICS_N_BUCKETS + 1]; /* last: +Inf */
        atomic_ullong duration_nsec_sum;
        atomic_ullong connections;
} LoopMetrics;

/* Single writer per LoopMetrics: a relaxed load and store, no locked instruction. */
void metrics_count_request(LoopMetrics *m, int status, uint64_t duration_nsec);

typedef struct MetricsInput {
        const Served *served; /* may be NULL */
        uint64_t now_usec;
        const LoaderStats *loader;
        uint64_t pin; /* pinning_current() */
        const LoopMetrics *const *loops;
        size_t n_loops;
        uint64_t worker_runs_ok, worker_runs_failed;
        unsigned open_connections, max_connections;
} MetricsInput;

void metrics_render(Buf *out, const MetricsInput *in);
