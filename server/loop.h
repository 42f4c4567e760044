/* One serving event loop: an event_base, the HTTP transport on it (httpd.h), and the
 * loop's own reference to the snapshot it serves.
 *
 * `workers = N` runs N of these, loop 0 on the main thread. Nothing is shared between
 * loops but the listening fd (every loop's transport accepts from it), the connection
 * limit and the read-only Served snapshots. A new snapshot reaches a loop through
 * loop_request_swap(), which wakes the loop to fetch it and drop its old reference. */
#pragma once

#include <event2/event.h>

#include "httpd.h"
#include "metrics.h"

typedef struct Loop Loop;

typedef struct LoopOptions {
        int listen_fd;
        ConnLimit *limit;
        /* Called (any loop's thread) when connections drop below the limit again. */
        void (*resume_all)(void *userdata);
        unsigned max_header_bytes;
        uint64_t timeout_usec;
        uint64_t max_age_usec;
        /* Called on the loop's thread: a new reference to the snapshot to serve. */
        Served *(*fetch)(void *userdata);
        void (*render_metrics)(void *userdata, Buf *out);
        void *userdata;
        StatusPage *status; /* GET / and /v1/history, shared by all loops; NULL: 404 */
} LoopOptions;

int loop_new(const LoopOptions *o, Loop **ret);
Loop *loop_free(Loop *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(Loop *, loop_free);
struct event_base *loop_base(Loop *l);
/* Any thread: asks the loop to fetch the current snapshot. */
void loop_request_swap(Loop *l);
/* The loop's thread (or before it runs): serve sv from now on (takes a reference). */
void loop_set_served(Loop *l, Served *sv);
const LoopMetrics *loop_metrics(const Loop *l);
/* Monotonic time of the loop's last heartbeat tick (the watchdog checks every loop). */
uint64_t loop_heartbeat(const Loop *l);
/* Any thread: start accepting again (after the connection limit was reached). */
void loop_resume_accept(Loop *l);
/* Any thread: stop accepting and drain the loop's connections (httpd_drain()). */
void loop_drain(Loop *l, uint64_t grace_usec);
/* Runs until loop_stop(). */
int loop_run(Loop *l);
/* Any thread. */
void loop_stop(Loop *l);
