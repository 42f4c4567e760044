#include "httpd.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include "log.h"

/* Bodies at least this long that live in the snapshot go out by reference (zero copy, one
 * snapshot reference per piece); shorter ones are cheaper to copy than to track. */
#define REFERENCE_MIN 2048
/* libevent's 16 KiB default per write halves large-body throughput. */
#define MAX_SINGLE_WRITE (4 * 1024 * 1024)
/* Enough to see a GET body and refuse it in JSON; larger ones evhttp refuses itself. */
#define MAX_BODY          4096
#define HEARTBEAT_USEC    (1 * USEC_PER_SEC)
#define ACCEPT_PAUSE_USEC (100 * USEC_PER_MSEC)

struct Loop {
        LoopOptions o;
        struct event_base *base;
        struct evhttp *http;
        struct evconnlistener *listener;
        struct event *swap_ev;
        struct event *heartbeat_ev;
        struct event *resume_accept_ev; /* after EMFILE: a short pause */
        struct event *resume_ev;        /* below max_connections again */
        struct event *adopt_ev;         /* priority 0: runs before any I/O callback */
        struct bufferevent **pending;   /* accepted, not yet adopted (see on_adopt) */
        size_t n_pending, max_pending;
        bool listener_bound; /* evhttp frees a bound listener itself */
        Served *served;
        LoopMetrics metrics;
        atomic_ullong heartbeat_usec;
};

static uint64_t mono_nsec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Connection tracking.
 *
 * evhttp 2.1 has neither a connection limit nor a deadline for a whole request (its
 * timeout restarts with every byte, so a client trickling one header byte at a time holds
 * a connection forever). Both need to know each connection from accept to close, which
 * evhttp only reveals indirectly: the bufferevent we create for it (bevcb), whose callback
 * argument evhttp then sets to the evhttp_connection. Right after the accept, at a higher
 * priority than any I/O, the loop reads that argument back ("adopts" the connection),
 * registers a close callback and arms the request deadline. The deadline is suspended
 * while a request is being answered and re-armed when the response is done. */
typedef struct Conn {
        Loop *loop;
        struct evhttp_connection *evcon;
        struct event *deadline;
        int fd;
} Conn;

/* fd -> Conn. fds are unique in the process and a slot is only touched by the loop that
 * owns the connection, so no lock; fds beyond the table get no deadline (still counted). */
#define CONN_TABLE_SIZE 65536
static Conn *_Atomic *conn_by_fd;
static pthread_once_t conn_table_once = PTHREAD_ONCE_INIT;

static void conn_table_init(void)
{
        /* calloc'd: pages never touched cost no memory */
        conn_by_fd = calloc(CONN_TABLE_SIZE, sizeof(*conn_by_fd));
}

static struct timeval tv_usec(uint64_t usec)
{
        return (struct timeval){(time_t)(usec / USEC_PER_SEC), (suseconds_t)(usec % USEC_PER_SEC)};
}

static void limit_release(Loop *l)
{
        ConnLimit *lim = l->o.limit;
        unsigned before = atomic_fetch_sub(&lim->open, 1);
        if (before == lim->max && l->o.resume_all)
                l->o.resume_all(l->o.userdata);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
        Conn *c = arg;
        if (conn_by_fd && c->fd >= 0 && c->fd < CONN_TABLE_SIZE)
                conn_by_fd[c->fd] = NULL;
        event_free(c->deadline);
        limit_release(c->loop);
        free(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
        Conn *c = arg;
        log_debug("Closing a connection that sent no complete request within the timeout");
        /* frees c through on_conn_close */
        evhttp_connection_free(c->evcon);
}

static Conn *conn_of(struct evhttp_request *req)
{
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
        int fd = bev ? (int)bufferevent_getfd(bev) : -1;
        if (!conn_by_fd || fd < 0 || fd >= CONN_TABLE_SIZE)
                return NULL;
        Conn *c = conn_by_fd[fd];
        return c && c->evcon == evcon ? c : NULL;
}

static void on_response_done(struct evhttp_request *req, void *arg)
{
        Conn *c = arg;
        struct timeval tv = tv_usec(c->loop->o.timeout_usec);
        evtimer_add(c->deadline, &tv);
}

static void on_adopt(evutil_socket_t fd, short what, void *arg)
{
        Loop *l = arg;
        for (size_t i = 0; i < l->n_pending; i++) {
                struct bufferevent *bev = l->pending[i];
                void *cbarg = NULL;
                bufferevent_getcb(bev, NULL, NULL, NULL, &cbarg);
                Conn *c = cbarg ? calloc(1, sizeof(*c)) : NULL;
                if (c) {
                        c->loop = l;
                        c->evcon = cbarg;
                        c->fd = (int)bufferevent_getfd(bev);
                        c->deadline = evtimer_new(l->base, on_deadline, c);
                }
                if (!c || !c->deadline) {
                        /* evhttp dropped it already (or no memory): count it closed */
                        if (c && cbarg) {
                                free(c);
                                evhttp_connection_free(cbarg);
                        }
                        limit_release(l);
                } else {
                        struct timeval tv = tv_usec(l->o.timeout_usec);
                        evtimer_add(c->deadline, &tv);
                        if (conn_by_fd && c->fd >= 0 && c->fd < CONN_TABLE_SIZE)
                                conn_by_fd[c->fd] = c;
                        evhttp_connection_set_closecb(c->evcon, on_conn_close, c);
                }
                bufferevent_decref(bev);
        }
        l->n_pending = 0;
}

static void add_piece(struct evbuffer *out, const Response *resp, const Piece *p, Served *sv)
{
        if (resp->keep) { /* status page bodies (status_page.c): their own reference */
                void *ref = p->len >= REFERENCE_MIN ? resp->keep_ref(resp->keep) : NULL;
                if (!ref || evbuffer_add_reference(out, p->p, p->len, resp->keep_unref, ref) < 0) {
                        if (ref)
                                resp->keep_unref(NULL, 0, ref);
                        evbuffer_add(out, p->p, p->len);
                }
                return;
        }
        const char *scratch = resp->scratch;
        bool in_response = (p->p >= scratch && p->p < scratch + sizeof(resp->scratch)) ||
                           (resp->owned.data && p->p >= resp->owned.data &&
                            p->p < resp->owned.data + resp->owned.len);
        if (sv && !in_response && p->len >= REFERENCE_MIN &&
            evbuffer_add_reference(out, p->p, p->len, served_unref_cb, served_ref(sv)) == 0)
                return;
        evbuffer_add(out, p->p, p->len);
}

static void send_response(Loop *l, struct evhttp_request *req, Response *resp, Served *sv)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        char num[32];
        if (resp->status != 304)
                evhttp_add_header(h, "Content-Type", resp->content_type);
        if (resp->content_encoding)
                evhttp_add_header(h, "Content-Encoding", resp->content_encoding);
        if (resp->etag)
                evhttp_add_header(h, "ETag", resp->etag);
        if (resp->last_modified)
                evhttp_add_header(h, "Last-Modified", resp->last_modified);
        if (resp->generation) {
                snprintf(num, sizeof(num), "%" PRIu64, resp->generation);
                evhttp_add_header(h, "X-Tally-Generation", num);
        }
        if (resp->vary)
                evhttp_add_header(h, "Vary", "Accept, Accept-Encoding");
        if (resp->allow)
                evhttp_add_header(h, "Allow", resp->allow);
        if (resp->retry_after)
                evhttp_add_header(h, "Retry-After", "1");
        if (resp->stale)
                evhttp_add_header(h, "Warning", "110 tallyd \"snapshot older than max_age\"");
        if (resp->close)
                evhttp_add_header(h, "Connection", "close");
        if (resp->csp)
                evhttp_add_header(h, "Content-Security-Policy", resp->csp);
        if (resp->route == ROUTE_METRICS || resp->route == ROUTE_HEALTHZ ||
            resp->route == ROUTE_READYZ || resp->route == ROUTE_SNAPSHOT)
                evhttp_add_header(h, "Cache-Control", "no-store");
        if (resp->no_body) {
                /* libevent 2.1 would send a body on HEAD: send none, but say its length */
                if (resp->status != 304) {
                        snprintf(num, sizeof(num), "%zu", response_body_length(resp));
                        evhttp_add_header(h, "Content-Length", num);
                }
        } else {
                struct evbuffer *out = evhttp_request_get_output_buffer(req);
                for (size_t i = 0; i < resp->n_pieces; i++)
                        add_piece(out, resp, &resp->pieces[i], sv);
        }
        evhttp_send_reply(req, resp->status, NULL, NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
        Loop *l = arg;
        uint64_t t0 = mono_nsec();
        Conn *conn = conn_of(req);
        if (conn) {
                /* answering is not waiting: the deadline restarts when this is sent */
                evtimer_del(conn->deadline);
                evhttp_request_set_on_complete_cb(req, on_response_done, conn);
        }
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
        const char *uri = evhttp_request_get_uri(req);
        const char *cl = evhttp_find_header(in, "Content-Length");
        Request r = {
            .method = cmd == EVHTTP_REQ_GET    ? METHOD_GET
                      : cmd == EVHTTP_REQ_HEAD ? METHOD_HEAD
                                               : METHOD_OTHER,
            .target = uri ? uri : "",
            .target_len = uri ? strlen(uri) : 0,
            .http11 = req->major > 1 || (req->major == 1 && req->minor >= 1),
            .has_host = evhttp_find_header(in, "Host") != NULL,
            .has_body = (cl && strspn(cl, "0") != strlen(cl)) ||
                        evhttp_find_header(in, "Transfer-Encoding") != NULL ||
                        evbuffer_get_length(evhttp_request_get_input_buffer(req)) > 0,
            .accept = evhttp_find_header(in, "Accept"),
            .accept_encoding = evhttp_find_header(in, "Accept-Encoding"),
            .if_none_match = evhttp_find_header(in, "If-None-Match"),
            .if_modified_since = evhttp_find_header(in, "If-Modified-Since"),
        };
        struct timeval now;
        event_base_gettimeofday_cached(l->base, &now);
        Served *sv = l->served;
        RespondContext ctx = {
            .served = sv,
            .now_usec = (uint64_t)now.tv_sec * USEC_PER_SEC + (uint64_t)now.tv_usec,
            .max_age_usec = l->o.max_age_usec,
            .render_metrics = l->o.render_metrics,
            .userdata = l->o.userdata,
            .status = l->o.status,
        };
        Response resp;
        respond(&ctx, &r, &resp);
        send_response(l, req, &resp, sv);
        response_done(&resp);
        metrics_count_request(&l->metrics, resp.status, mono_nsec() - t0);
}

static struct bufferevent *make_bufferevent(struct event_base *base, void *arg)
{
        Loop *l = arg;
        atomic_store_explicit(&l->metrics.connections,
                              atomic_load_explicit(&l->metrics.connections, memory_order_relaxed) +
                                  1,
                              memory_order_relaxed);
        /* Counted from here; at the limit this loop stops accepting at once (the listener
         * checks after each accept), so with one loop the limit is exact and with N loops
         * it can be passed by at most N - 1 racing accepts. */
        ConnLimit *lim = l->o.limit;
        if (atomic_fetch_add(&lim->open, 1) + 1 >= lim->max) {
                evconnlistener_disable(l->listener);
                static _Atomic uint64_t last_log;
                uint64_t now = now_monotonic_usec();
                if (now - last_log > 10 * USEC_PER_SEC) {
                        last_log = now;
                        log_warning("max_connections (%u) reached; new connections wait in the "
                                    "listen backlog",
                                    lim->max);
                }
        }
        /* one listener callback accepts until EAGAIN, so a burst can be long */
        if (l->n_pending == l->max_pending) {
                size_t n = MAX(l->max_pending * 2, (size_t)64);
                struct bufferevent **p = realloc(l->pending, n * sizeof(*p));
                if (p) {
                        l->pending = p;
                        l->max_pending = n;
                }
        }
        struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!bev || l->n_pending == l->max_pending) {
                /* out of memory: evhttp makes its own bufferevent; served, not tracked */
                if (bev)
                        bufferevent_free(bev);
                limit_release(l);
                return NULL;
        }
        bufferevent_set_max_single_write(bev, MAX_SINGLE_WRITE);
        /* held until adopted, so a connection evhttp drops at once cannot dangle */
        bufferevent_incref(bev);
        l->pending[l->n_pending++] = bev;
        event_active(l->adopt_ev, EV_TIMEOUT, 0);
        return bev;
}

/* evconnlistener passes its callback's argument (evhttp's, not ours) to the error
 * callback, so loops are found by their listener here. */
static Loop *listener_loops[64];
static pthread_mutex_t listener_lock = PTHREAD_MUTEX_INITIALIZER;

static void register_listener(Loop *l, bool on)
{
        pthread_mutex_lock(&listener_lock);
        for (size_t i = 0; i < ELEMENTSOF(listener_loops); i++)
                if (on ? listener_loops[i] == NULL : listener_loops[i] == l) {
                        listener_loops[i] = on ? l : NULL;
                        break;
                }
        pthread_mutex_unlock(&listener_lock);
}

static Loop *loop_of_listener(struct evconnlistener *listener)
{
        Loop *found = NULL;
        pthread_mutex_lock(&listener_lock);
        for (size_t i = 0; i < ELEMENTSOF(listener_loops) && !found; i++)
                if (listener_loops[i] && listener_loops[i]->listener == listener)
                        found = listener_loops[i];
        pthread_mutex_unlock(&listener_lock);
        return found;
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
        Loop *l = loop_of_listener(listener);
        if (!l)
                return;
        int err = EVUTIL_SOCKET_ERROR();
        /* Out of fds (the connection limit, see server.c): stop accepting for a moment
         * instead of spinning on a listening socket that stays readable. */
        evconnlistener_disable(listener);
        struct timeval tv = {0, (suseconds_t)ACCEPT_PAUSE_USEC};
        evtimer_add(l->resume_accept_ev, &tv);
        static _Atomic uint64_t last_log;
        uint64_t now = now_monotonic_usec();
        if (now - last_log > 10 * USEC_PER_SEC) {
                last_log = now;
                log_warning_errno(err, "accept() failed, pausing new connections: %m");
        }
}

static void on_resume_accept(evutil_socket_t fd, short what, void *arg)
{
        Loop *l = arg;
        if (atomic_load(&l->o.limit->open) < l->o.limit->max)
                evconnlistener_enable(l->listener);
}

void loop_resume_accept(Loop *l)
{
        event_active(l->resume_ev, EV_TIMEOUT, 0);
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

int loop_new(const LoopOptions *o, Loop **ret)
{
        Loop *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->o = *o;
        atomic_init(&l->heartbeat_usec, now_monotonic_usec());
        /* With a changelist, the read-disable/re-enable and similar flips evhttp does
         * within one loop iteration cancel out instead of each costing an epoll_ctl:
         * measured 4 -> 2 epoll_ctl per keep-alive request. */
        struct event_config *cfg = event_config_new();
        if (!cfg)
                goto fail;
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        l->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (!l->base)
                goto fail;
        /* priority 0 for adopting new connections, 1 (the default) for everything else */
        if (event_base_priority_init(l->base, 2) < 0)
                goto fail;
        pthread_once(&conn_table_once, conn_table_init);
        l->http = evhttp_new(l->base);
        l->swap_ev = event_new(l->base, -1, 0, on_swap, l);
        l->heartbeat_ev = event_new(l->base, -1, EV_PERSIST, on_heartbeat, l);
        l->resume_accept_ev = evtimer_new(l->base, on_resume_accept, l);
        l->resume_ev = event_new(l->base, -1, 0, on_resume_accept, l);
        l->adopt_ev = event_new(l->base, -1, 0, on_adopt, l);
        if (!l->resume_ev || !l->adopt_ev || event_priority_set(l->adopt_ev, 0) < 0)
                goto fail;
        l->listener =
            evconnlistener_new(l->base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, o->listen_fd);
        if (!l->http || !l->swap_ev || !l->heartbeat_ev || !l->resume_accept_ev || !l->listener)
                goto fail;
        evconnlistener_set_error_cb(l->listener, on_accept_error);
        /* every method reaches us, so the unsupported ones get a JSON 405 with Allow */
        evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                                EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                                EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
        evhttp_set_max_headers_size(l->http, o->max_header_bytes);
        evhttp_set_max_body_size(l->http, MAX_BODY);
        struct timeval tv = {(time_t)(o->timeout_usec / USEC_PER_SEC),
                             (suseconds_t)(o->timeout_usec % USEC_PER_SEC)};
        evhttp_set_timeout_tv(l->http, &tv);
        evhttp_set_default_content_type(l->http, "application/json; charset=utf-8");
        evhttp_set_gencb(l->http, on_request, l);
        evhttp_set_bevcb(l->http, make_bufferevent, l);
        if (!evhttp_bind_listener(l->http, l->listener))
                goto fail;
        l->listener_bound = true;
        register_listener(l, true);
        struct timeval hb = {(time_t)(HEARTBEAT_USEC / USEC_PER_SEC), 0};
        evtimer_add(l->heartbeat_ev, &hb);
        *ret = l;
        return 0;
fail:
        loop_free(l);
        return -ENOMEM;
}

Loop *loop_free(Loop *l)
{
        if (!l)
                return NULL;
        register_listener(l, false);
        if (l->http)
                evhttp_free(l->http); /* frees the bound listener and open connections */
        if (l->listener && !l->listener_bound)
                evconnlistener_free(l->listener);
        if (l->swap_ev)
                event_free(l->swap_ev);
        if (l->heartbeat_ev)
                event_free(l->heartbeat_ev);
        if (l->resume_accept_ev)
                event_free(l->resume_accept_ev);
        if (l->resume_ev)
                event_free(l->resume_ev);
        for (size_t i = 0; i < l->n_pending; i++)
                bufferevent_decref(l->pending[i]);
        free(l->pending);
        if (l->adopt_ev)
                event_free(l->adopt_ev);
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

int loop_run(Loop *l)
{
        return event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY) < 0 ? -EIO : 0;
}

void loop_stop(Loop *l)
{
        event_base_loopexit(l->base, NULL);
}
