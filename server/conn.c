#include "conn.h"

#include <event2/bufferevent.h>
#include <pthread.h>

#include "log.h"

/* libevent's 16 KiB default per write halves large-body throughput. */
#define MAX_SINGLE_WRITE (4 * 1024 * 1024)

struct ConnTracker {
        ConnTrackerOptions o;
        struct event_base *base;
        struct event *adopt_ev;       /* priority 0: runs before any I/O callback */
        struct bufferevent **pending; /* accepted, not yet adopted (see on_adopt) */
        size_t n_pending, max_pending;
};

typedef struct Conn {
        ConnTracker *tracker;
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

static void conn_table_set(int fd, Conn *c)
{
        if (conn_by_fd && fd >= 0 && fd < CONN_TABLE_SIZE)
                conn_by_fd[fd] = c;
}

static void limit_release(ConnTracker *t)
{
        ConnLimit *lim = t->o.limit;
        unsigned before = atomic_fetch_sub(&lim->open, 1);
        if (before == lim->max && t->o.below_limit)
                t->o.below_limit(t->o.userdata);
}

static void arm_deadline(Conn *c)
{
        struct timeval tv = timeval_from_usec(c->tracker->o.timeout_usec);
        evtimer_add(c->deadline, &tv);
}

static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
        Conn *c = arg;
        conn_table_set(c->fd, NULL);
        event_free(c->deadline);
        limit_release(c->tracker);
        free(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
        Conn *c = arg;
        log_debug("Closing a connection that sent no complete request within the timeout");
        /* frees c through on_conn_close */
        evhttp_connection_free(c->evcon);
}

static void on_response_done(struct evhttp_request *req, void *arg)
{
        arm_deadline(arg);
}

static int conn_new(ConnTracker *t, struct bufferevent *bev, Conn **ret)
{
        void *evcon = NULL;
        bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
        if (!evcon)
                return -ENOTCONN; /* evhttp dropped it already */
        _cleanup_free_ Conn *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->tracker = t;
        c->evcon = evcon;
        c->fd = (int)bufferevent_getfd(bev);
        c->deadline = evtimer_new(t->base, on_deadline, c);
        if (!c->deadline)
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

static void on_adopt(evutil_socket_t fd, short what, void *arg)
{
        ConnTracker *t = arg;
        for (size_t i = 0; i < t->n_pending; i++) {
                struct bufferevent *bev = t->pending[i];
                Conn *c = NULL;
                int r = conn_new(t, bev, &c);
                if (r < 0) {
                        /* not tracked, so never released by on_conn_close: count it closed */
                        void *evcon = NULL;
                        bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
                        if (evcon)
                                evhttp_connection_free(evcon);
                        limit_release(t);
                } else {
                        arm_deadline(c);
                        conn_table_set(c->fd, c);
                        evhttp_connection_set_closecb(c->evcon, on_conn_close, c);
                }
                bufferevent_decref(bev);
        }
        t->n_pending = 0;
}

struct bufferevent *conn_tracker_accept(ConnTracker *t, bool *ret_at_limit)
{
        /* Counted from here; at the limit the caller stops accepting at once (the listener
         * checks after each accept), so with one loop the limit is exact and with N loops
         * it can be passed by at most N - 1 racing accepts. */
        ConnLimit *lim = t->o.limit;
        *ret_at_limit = atomic_fetch_add(&lim->open, 1) + 1 >= lim->max;
        /* one listener callback accepts until EAGAIN, so a burst can be long */
        if (t->n_pending == t->max_pending) {
                size_t n = MAX(t->max_pending * 2, (size_t)64);
                struct bufferevent **p = realloc(t->pending, n * sizeof(*p));
                if (p) {
                        t->pending = p;
                        t->max_pending = n;
                }
        }
        struct bufferevent *bev = bufferevent_socket_new(t->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!bev || t->n_pending == t->max_pending) {
                /* out of memory: evhttp makes its own bufferevent; served, not tracked */
                if (bev)
                        bufferevent_free(bev);
                limit_release(t);
                return NULL;
        }
        bufferevent_set_max_single_write(bev, MAX_SINGLE_WRITE);
        /* held until adopted, so a connection evhttp drops at once cannot dangle */
        bufferevent_incref(bev);
        t->pending[t->n_pending++] = bev;
        event_active(t->adopt_ev, EV_TIMEOUT, 0);
        return bev;
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

void conn_tracker_answering(ConnTracker *t, struct evhttp_request *req)
{
        Conn *c = conn_of(req);
        if (!c)
                return;
        /* answering is not waiting: the deadline restarts when this is sent */
        evtimer_del(c->deadline);
        evhttp_request_set_on_complete_cb(req, on_response_done, c);
}

int conn_tracker_new(struct event_base *base, const ConnTrackerOptions *o, ConnTracker **ret)
{
        pthread_once(&conn_table_once, conn_table_init);
        if (!conn_by_fd)
                return -ENOMEM;
        _cleanup_(conn_tracker_freep) ConnTracker *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->o = *o;
        t->base = base;
        t->adopt_ev = event_new(base, -1, 0, on_adopt, t);
        if (!t->adopt_ev || event_priority_set(t->adopt_ev, 0) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(t);
        return 0;
}

ConnTracker *conn_tracker_free(ConnTracker *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_pending; i++)
                bufferevent_decref(t->pending[i]);
        free(t->pending);
        if (t->adopt_ev)
                event_free(t->adopt_ev);
        free(t);
        return NULL;
}
