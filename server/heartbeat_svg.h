/* The heartbeat plot: tallyd's RSS as a line and each worker run's peak RSS as a spike,
 * on one time axis, as inline SVG for the status page.
 *
 * Rendered by the server so the page needs no script and no external asset. The SVG is
 * also what the browser test inspects: one polyline point per RSS sample (class "rss"),
 * one element of class "run" per plotted run, so counts can be checked against
 * /v1/history. Scaling is separate and pure so it is unit-tested on its own. */
#pragma once

#include "buf.h"
#include "history.h"

/* Ticks lo, lo + step, ... up to hi (hi a multiple of step). */
typedef struct AxisTicks {
        double lo, hi, step;
} AxisTicks;

/* A value axis from 0 to at least max in 1/2/5×10^k steps, at most six of them; max below
 * 1e-6, above 1e15 or not a number gives [0, 1]. */
AxisTicks axis_value_ticks(double max);
/* A time step (µs) for [from, to): the smallest of 10 ms .. 12 h giving at most 8 ticks. */
uint64_t axis_time_step(int64_t from_usec, int64_t to_usec);

typedef struct HeartbeatWindow {
        int64_t from_usec, to_usec;
        size_t n_samples; /* RSS samples drawn */
        size_t n_runs;    /* runs drawn: those at or after from_usec */
        size_t first_run; /* index of the first run drawn */
} HeartbeatWindow;

/* The time range drawn at now: the last rss_cap intervals or the whole ring if it reaches
 * further back, narrowed to the oldest sample or run inside so that a fresh tallyd does
 * not draw a mostly empty day. */
HeartbeatWindow heartbeat_window(const History *h, int64_t now_usec);
/* Appends the <svg> element to out (check buf_ok). */
void heartbeat_svg_render(Buf *out, const History *h, const HeartbeatWindow *w);
