#include "loop.h"

#include <time.h>

#include "coop.h"
#include "pinning.h"

#define HEARTBEAT_USEC (1 * USEC_PER_SEC)

struct Loop {
        LoopOptions o;
        struct event_base *base;
        Httpd *httpd;
        struct event *swap_ev;
        struct event *heartbeat_ev;
        Served *served;
        LoopMetrics metrics;
        atomic_ullong heartbeat_usec;
        uint64_t request_start_nsec; /* one request at a time per loop */
};

static uint64_t mono_nsec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void handle(void *userdata, const Request *req, Response *resp)
{
        Loop *l = userdata;
        l->request_start_nsec = mono_nsec();
        /* While the loader works, a saturated loop hands it the core once a millisecond
         * (coop.h) instead of leaving it a turn per scheduler tick. */
        coop_give_way(l->request_start_nsec);
        /* The coarse realtime clock (the last tick) is as good as the loop's cached time
         * for ages in seconds, without the base's lock that event_base_gettimeofday_cached()
         * takes: 100 instructions per request (callgrind, bench rows at c50). */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME_COARSE, &now);
        RespondContext ctx = {
            .served = l->served,
            .now_usec = (uint64_t)now.tv_sec * USEC_PER_SEC + (uint64_t)now.tv_nsec / 1000,
            .max_age_usec = l->o.max_age_usec,
            .pin = pinning_current(),
            .render_metrics = l->o.render_metrics,
            .userdata = l->o.userdata,
            .status = l->o.status,
        };
        respond(&ctx, req, resp);
}

static void sent(void *userdata, int status)
{
        Loop *l = userdata;
        metrics_count_request(&l->metrics, status, mono_nsec() - l->request_start_nsec);
}

static void below_limit(void *userdata)
{
        Loop *l = userdata;
        if (l->o.resume_all)
                l->o.resume_all(l->o.userdata);
}

static void on_swap(evutil_socket_t fd, short what, void *arg)
{
        Loop *l = arg;
        Served *sv = l->o.fetch(l->o.userdata);
        Served *old = l->served;
        l->served = sv;
        served_unref(old);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
        Loop *l = arg;
        atomic_store(&l->heartbeat_usec, now_monotonic_usec());
}

static int new_base(struct event_base **ret)
{
        /* With a changelist, the read-disable/re-enable and similar flips evhttp does
         * within one loop iteration cancel out instead of each costing an epoll_ctl:
         * measured 4 -> 2 epoll_ctl per keep-alive request. */
        struct event_config *cfg = event_config_new();
        if (!cfg)
                return -ENOMEM;
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        struct event_base *base = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (!base)
                return -ENOMEM;
        /* priority 0 for adopting new connections (conn.c), 1 for everything else */
        if (event_base_priority_init(base, 2) < 0) {
                event_base_free(base);
                return -ENOMEM;
        }
        *ret = base;
        return 0;
}

int loop_new(const LoopOptions *o, Loop **ret)
{
        _cleanup_(loop_freep) Loop *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->o = *o;
        atomic_init(&l->heartbeat_usec, now_monotonic_usec());
        int r = new_base(&l->base);
        if (r < 0)
                return r;
        l->swap_ev = event_new(l->base, -1, 0, on_swap, l);
        l->heartbeat_ev = event_new(l->base, -1, EV_PERSIST, on_heartbeat, l);
        if (!l->swap_ev || !l->heartbeat_ev)
                return -ENOMEM;
        HttpdOptions ho = {
            .listen_fd = o->listen_fd,
            .limit = o->limit,
            .max_header_bytes = o->max_header_bytes,
            .timeout_usec = o->timeout_usec,
            .accepted = &l->metrics.connections,
            .handle = handle,
            .sent = sent,
            .below_limit = below_limit,
            .userdata = l,
        };
        r = httpd_new(l->base, &ho, &l->httpd);
        if (r < 0)
                return r;
        struct timeval hb = timeval_from_usec(HEARTBEAT_USEC);
        if (evtimer_add(l->heartbeat_ev, &hb) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

Loop *loop_free(Loop *l)
{
        if (!l)
                return NULL;
        httpd_free(l->httpd);
        if (l->swap_ev)
                event_free(l->swap_ev);
        if (l->heartbeat_ev)
                event_free(l->heartbeat_ev);
        served_unref(l->served);
        if (l->base)
                event_base_free(l->base);
        free(l);
        return NULL;
}

struct event_base *loop_base(Loop *l)
{
        return l->base;
}

void loop_request_swap(Loop *l)
{
        event_active(l->swap_ev, 0, 0);
}

void loop_set_served(Loop *l, Served *sv)
{
        Served *old = l->served;
        l->served = served_ref(sv);
        served_unref(old);
}

const LoopMetrics *loop_metrics(const Loop *l)
{
        return &l->metrics;
}

uint64_t loop_heartbeat(const Loop *l)
{
        return atomic_load(&((Loop *)l)->heartbeat_usec);
}

void loop_resume_accept(Loop *l)
{
        httpd_resume_accept(l->httpd);
}

void loop_drain(Loop *l, uint64_t grace_usec)
{
        httpd_drain(l->httpd, grace_usec);
}

int loop_run(Loop *l)
{
        return event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY) < 0 ? -EIO : 0;
}

void loop_stop(Loop *l)
{
        event_base_loopexit(l->base, NULL);
}
