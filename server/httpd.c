/* The lean HTTP/1.1 transport: accepting (here) and connections (conn.c) on libevent's
 * core, one event per fd, no bufferevents, no evhttp. */
#include "httpd.h"

#include <sys/socket.h>

#include "conn.h"
#include "log.h"
#include "ratelimit.h"

#define ACCEPT_PAUSE_USEC (100 * USEC_PER_MSEC)
#define ACCEPT_BATCH      64
#define WARN_EVERY_USEC   (10 * USEC_PER_SEC)

struct Httpd {
        HttpdOptions o;
        ConnServer srv;
        struct event *accept_ev;
        struct event *pause_ev;  /* after EMFILE: a short pause */
        struct event *resume_ev; /* below max_connections again */
        struct event *drain_ev;  /* httpd_drain(), on the base's thread */
        _Atomic uint64_t grace_usec;
        bool accepting, paused, draining;
};

static void set_accepting(Httpd *h, bool on)
{
        if (h->draining)
                on = false;
        if (on == h->accepting)
                return;
        h->accepting = on;
        if (on)
                event_add(h->accept_ev, NULL);
        else
                event_del(h->accept_ev);
}

/* A slot under max_connections, taken before accept(): exact with any number of loops. */
static bool limit_reserve(ConnLimit *lim)
{
        unsigned open = atomic_load_explicit(&lim->open, memory_order_relaxed);
        do
                if (open >= lim->max)
                        return false;
        while (!atomic_compare_exchange_weak(&lim->open, &open, open + 1));
        return true;
}

static void limit_release(void *owner)
{
        Httpd *h = owner;
        unsigned before = atomic_fetch_sub(&h->o.limit->open, 1);
        if (before != h->o.limit->max)
                return;
        /* this loop resumes at once, the others through below_limit */
        if (!h->paused)
                set_accepting(h, true);
        if (h->o.below_limit)
                h->o.below_limit(h->o.userdata);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
        Httpd *h = arg;
        for (int i = 0; i < ACCEPT_BATCH; i++) {
                if (!limit_reserve(h->o.limit)) {
                        /* the rest wait in the listen backlog until a slot frees up */
                        set_accepting(h, false);
                        static _Atomic uint64_t last_warning;
                        if (ratelimit_pass(&last_warning, WARN_EVERY_USEC))
                                log_warning("max_connections (%u) reached; new connections "
                                            "wait in the listen backlog",
                                            h->o.limit->max);
                        return;
                }
                int fd = accept4((int)lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        int err = errno;
                        limit_release(h);
                        if (err == EINTR || err == ECONNABORTED)
                                continue;
                        if (err == EAGAIN || err == EWOULDBLOCK)
                                return;
                        /* out of fds or memory: stop for a moment instead of spinning on a
                         * listening socket that stays readable */
                        set_accepting(h, false);
                        h->paused = true;
                        struct timeval tv = timeval_from_usec(ACCEPT_PAUSE_USEC);
                        evtimer_add(h->pause_ev, &tv);
                        static _Atomic uint64_t last_warning;
                        if (ratelimit_pass(&last_warning, WARN_EVERY_USEC))
                                log_warning_errno(err, "accept() failed, pausing new "
                                                       "connections: %m");
                        return;
                }
                atomic_store_explicit(h->o.accepted,
                                      atomic_load_explicit(h->o.accepted, memory_order_relaxed) + 1,
                                      memory_order_relaxed);
                (void)conn_open(&h->srv, fd);
        }
}

static void on_pause_end(evutil_socket_t fd, short what, void *arg)
{
        Httpd *h = arg;
        h->paused = false;
        if (atomic_load(&h->o.limit->open) < h->o.limit->max)
                set_accepting(h, true);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
        Httpd *h = arg;
        if (!h->paused && atomic_load(&h->o.limit->open) < h->o.limit->max)
                set_accepting(h, true);
}

void httpd_resume_accept(Httpd *h)
{
        event_active(h->resume_ev, EV_TIMEOUT, 0);
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
        Httpd *h = arg;
        set_accepting(h, false);
        h->draining = true;
        conn_drain_all(&h->srv, atomic_load(&h->grace_usec));
}

void httpd_drain(Httpd *h, uint64_t grace_usec)
{
        atomic_store(&h->grace_usec, grace_usec);
        event_active(h->drain_ev, EV_TIMEOUT, 0);
}

int httpd_new(struct event_base *base, const HttpdOptions *o, Httpd **ret)
{
        _cleanup_(httpd_freep) Httpd *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->o = *o;
        if (h->o.timeout_usec == 0) /* no deadline: a year stands in */
                h->o.timeout_usec = 365 * 24 * 3600 * USEC_PER_SEC;
        h->srv = (ConnServer){
            .o = &h->o, .base = base, .date_sec = -1, .release = limit_release, .owner = h};
        h->accept_ev = event_new(base, o->listen_fd, EV_READ | EV_PERSIST, on_accept, h);
        h->pause_ev = evtimer_new(base, on_pause_end, h);
        h->resume_ev = event_new(base, -1, 0, on_resume, h);
        h->drain_ev = event_new(base, -1, 0, on_drain, h);
        if (!h->accept_ev || !h->pause_ev || !h->resume_ev || !h->drain_ev)
                return -ENOMEM;
        set_accepting(h, true);
        *ret = TAKE_PTR(h);
        return 0;
}

Httpd *httpd_free(Httpd *h)
{
        if (!h)
                return NULL;
        h->paused = true; /* closing connections must not re-arm accepting */
        conn_close_all(&h->srv);
        if (h->accept_ev)
                event_free(h->accept_ev);
        if (h->pause_ev)
                event_free(h->pause_ev);
        if (h->resume_ev)
                event_free(h->resume_ev);
        if (h->drain_ev)
                event_free(h->drain_ev);
        free(h);
        return NULL;
}
