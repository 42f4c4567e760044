/* The status page (GET / and /status) and its data (GET /v1/history): what tallyd serves,
 * how fresh it is, what the worker runs cost, and the memory heartbeat, for an operator
 * with a browser and nothing else.
 *
 * Everything is rendered ahead of requests, on the main loop: when a snapshot is
 * installed, when the spawner sees a run fail, and at each sampling tick (tallyd's RSS is
 * sampled every 10 s, or $TALLYD_HISTORY_INTERVAL for tests; at shorter intervals the page
 * follows at most once a second). The bodies — HTML, JSON, msgpack — are kept as gzip
 * only, in one immutable, reference-counted set: a request takes a reference and sends a
 * slice of it, so a GET costs no rendering, and a slow client holds an old set, never a
 * half-rendered one. The rare client without gzip costs one inflate into its own
 * response; a day's history kept plain as well would cost 430 kB of tallyd's RSS. */
#pragma once

#include <event2/event.h>
#include <sys/resource.h>

#include "respond.h"

typedef struct StatusPage StatusPage;

typedef struct StatusOptions {
        uint64_t max_age_usec;  /* shown against the snapshot's age */
        uint64_t interval_usec; /* 0: $TALLYD_HISTORY_INTERVAL, else 10 s */
        size_t rss_samples;     /* 0: HISTORY_RSS_SAMPLES */
        size_t runs;            /* 0: HISTORY_RUNS */
} StatusOptions;

/* -EINVAL if $TALLYD_HISTORY_INTERVAL is set but not a duration >= 1 ms. Renders the
 * first page (no snapshot yet) at once; sampling starts with status_page_start(). */
int status_page_new(const StatusOptions *o, StatusPage **ret);
/* Stops sampling; bodies still referenced by responses in flight live on until sent. */
StatusPage *status_page_free(StatusPage *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(StatusPage *, status_page_free);
/* Samples now and then every interval on base (the main loop). */
int status_page_start(StatusPage *p, struct event_base *base);

/* Main loop: sv is now served (a reference is taken); its run is recorded once per
 * generation and the page re-rendered. */
void status_page_snapshot(StatusPage *p, Served *sv);
/* Main loop: a worker tallyd spawned exited (wait status, rusage of the child). Failed
 * runs are recorded (successful ones arrive with their snapshot) and the page
 * re-rendered. */
void status_page_worker_exited(StatusPage *p, int wait_status, uint64_t duration_ms,
                               const struct rusage *ru);
/* Main loop: take one RSS sample at now and re-render at once (the first sample; tests).
 * The timer samples every interval but re-renders at most once a second. */
void status_page_tick(StatusPage *p, int64_t now_usec);

/* Any loop (respond.c): answers ROUTE_STATUS or ROUTE_HISTORY into resp (a reference on
 * the bodies held on resp->keep until response_done()). The gzip body goes out as a
 * shared piece; a client that takes no gzip gets it inflated into resp->owned. -ENOMEM
 * if that copy cannot be made. */
int status_page_respond(StatusPage *p, const Request *req, RouteKind kind, bool msgpack,
                        Response *resp);
