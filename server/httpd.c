#include "httpd.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <pthread.h>

#include "conn.h"
#include "log.h"
#include "ratelimit.h"

/* Bodies at least this long that live in the snapshot go out by reference (zero copy, one
 * snapshot reference per piece); shorter ones are cheaper to copy than to track. */
#define REFERENCE_MIN 2048
/* Enough to see a GET body and refuse it in JSON; larger ones evhttp refuses itself. */
#define MAX_BODY          4096
#define ACCEPT_PAUSE_USEC (100 * USEC_PER_MSEC)
#define WARN_EVERY_USEC   (10 * USEC_PER_SEC)

struct Httpd {
        HttpdOptions o;
        struct event_base *base;
        struct evhttp *http;
        struct evconnlistener *listener;
        ConnTracker *conns;
        struct event *resume_accept_ev; /* after EMFILE: a short pause */
        struct event *resume_ev;        /* below max_connections again */
        bool listener_bound;            /* evhttp frees a bound listener itself */
};

/* evhttp refuses a value with CR/LF and fails when out of memory, alike: -EIO for both. */
static int add_header(struct evkeyvalq *h, const char *name, const char *value)
{
        return evhttp_add_header(h, name, value) < 0 ? -EIO : 0;
}

static int add_piece(struct evbuffer *out, const Response *resp, size_t i)
{
        const Piece *p = &resp->pieces[i];
        if (resp->hold && (resp->shared & (1u << i)) && p->len >= REFERENCE_MIN) {
                Served *ref = served_ref(resp->hold);
                if (evbuffer_add_reference(out, p->p, p->len, served_unref_cb, ref) == 0)
                        return 0;
                served_unref(ref);
        }
        return evbuffer_add(out, p->p, p->len) < 0 ? -EIO : 0;
}

/* Headers and body of resp into req's output; negative errno if any of it failed. */
static int write_response(struct evhttp_request *req, const Response *resp)
{
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        char num[32];
        int r = 0;
        if (resp->status != 304)
                r |= add_header(h, "Content-Type", resp->content_type);
        if (resp->content_encoding)
                r |= add_header(h, "Content-Encoding", resp->content_encoding);
        if (resp->etag)
                r |= add_header(h, "ETag", resp->etag);
        if (resp->last_modified)
                r |= add_header(h, "Last-Modified", resp->last_modified);
        if (resp->generation) {
                snprintf(num, sizeof(num), "%" PRIu64, resp->generation);
                r |= add_header(h, "X-Tally-Generation", num);
        }
        if (resp->vary)
                r |= add_header(h, "Vary", "Accept, Accept-Encoding");
        if (resp->allow)
                r |= add_header(h, "Allow", resp->allow);
        if (resp->retry_after)
                r |= add_header(h, "Retry-After", "1");
        if (resp->stale)
                r |= add_header(h, "Warning", "110 tallyd \"snapshot older than max_age\"");
        if (resp->close)
                r |= add_header(h, "Connection", "close");
        if (resp->no_store)
                r |= add_header(h, "Cache-Control", "no-store");
        if (resp->no_body) {
                /* libevent 2.1 would send a body on HEAD: send none, but say its length */
                if (resp->status != 304) {
                        snprintf(num, sizeof(num), "%zu", response_body_length(resp));
                        r |= add_header(h, "Content-Length", num);
                }
        } else {
                struct evbuffer *out = evhttp_request_get_output_buffer(req);
                for (size_t i = 0; i < resp->n_pieces && r == 0; i++)
                        r = add_piece(out, resp, i);
        }
        return r < 0 ? -EIO : 0;
}

/* Sends resp, or (if it could not be put together) evhttp's own 500 after dropping what
 * was added: a client never gets a response with a header or a piece missing. */
static int send_response(struct evhttp_request *req, const Response *resp)
{
        int r = write_response(req, resp);
        if (r == 0) {
                evhttp_send_reply(req, resp->status, NULL, NULL);
                return resp->status;
        }
        static _Atomic uint64_t last_warning;
        if (ratelimit_pass(&last_warning, WARN_EVERY_USEC))
                log_warning("evhttp refused a header or the body of a %d response; answering 500",
                            resp->status);
        evhttp_clear_headers(evhttp_request_get_output_headers(req));
        struct evbuffer *out = evhttp_request_get_output_buffer(req);
        evbuffer_drain(out, evbuffer_get_length(out));
        evhttp_send_error(req, 500, NULL);
        return 500;
}

static HttpMethod method_of(enum evhttp_cmd_type cmd)
{
        return cmd == EVHTTP_REQ_GET    ? METHOD_GET
               : cmd == EVHTTP_REQ_HEAD ? METHOD_HEAD
                                        : METHOD_OTHER;
}

static void on_request(struct evhttp_request *req, void *arg)
{
        Httpd *h = arg;
        conn_tracker_answering(h->conns, req);
        struct evkeyvalq *in = evhttp_request_get_input_headers(req);
        const char *uri = evhttp_request_get_uri(req);
        const char *cl = evhttp_find_header(in, "Content-Length");
        Request r = {
            .method = method_of(evhttp_request_get_command(req)),
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
        _cleanup_(response_donep) Response resp = RESPONSE_NULL;
        h->o.handle(h->o.userdata, &r, &resp);
        int status = send_response(req, &resp);
        if (h->o.sent)
                h->o.sent(h->o.userdata, status);
}

static struct bufferevent *make_bufferevent(struct event_base *base, void *arg)
{
        Httpd *h = arg;
        atomic_store_explicit(h->o.accepted,
                              atomic_load_explicit(h->o.accepted, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        bool at_limit;
        struct bufferevent *bev = conn_tracker_accept(h->conns, &at_limit);
        if (at_limit) {
                evconnlistener_disable(h->listener);
                static _Atomic uint64_t last_warning;
                if (ratelimit_pass(&last_warning, WARN_EVERY_USEC))
                        log_warning("max_connections (%u) reached; new connections wait in the "
                                    "listen backlog",
                                    h->o.limit->max);
        }
        return bev;
}

/* evconnlistener passes its callback's argument (evhttp's, not ours) to the error
 * callback, so transports are found by their listener here. */
static Httpd *listener_owners[64];
static pthread_mutex_t listener_lock = PTHREAD_MUTEX_INITIALIZER;

static int register_listener(Httpd *h, bool on)
{
        int r = on ? -EMFILE : 0;
        pthread_mutex_lock(&listener_lock);
        for (size_t i = 0; i < ELEMENTSOF(listener_owners); i++)
                if (on ? listener_owners[i] == NULL : listener_owners[i] == h) {
                        listener_owners[i] = on ? h : NULL;
                        r = 0;
                        break;
                }
        pthread_mutex_unlock(&listener_lock);
        return r;
}

static Httpd *owner_of_listener(struct evconnlistener *listener)
{
        Httpd *found = NULL;
        pthread_mutex_lock(&listener_lock);
        for (size_t i = 0; i < ELEMENTSOF(listener_owners) && !found; i++)
                if (listener_owners[i] && listener_owners[i]->listener == listener)
                        found = listener_owners[i];
        pthread_mutex_unlock(&listener_lock);
        return found;
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
        Httpd *h = owner_of_listener(listener);
        if (!h)
                return;
        int err = EVUTIL_SOCKET_ERROR();
        /* Out of fds (the connection limit, see server.c): stop accepting for a moment
         * instead of spinning on a listening socket that stays readable. */
        evconnlistener_disable(listener);
        struct timeval tv = timeval_from_usec(ACCEPT_PAUSE_USEC);
        evtimer_add(h->resume_accept_ev, &tv);
        static _Atomic uint64_t last_warning;
        if (ratelimit_pass(&last_warning, WARN_EVERY_USEC))
                log_warning_errno(err, "accept() failed, pausing new connections: %m");
}

static void on_resume_accept(evutil_socket_t fd, short what, void *arg)
{
        Httpd *h = arg;
        if (atomic_load(&h->o.limit->open) < h->o.limit->max)
                evconnlistener_enable(h->listener);
}

void httpd_resume_accept(Httpd *h)
{
        event_active(h->resume_ev, EV_TIMEOUT, 0);
}

int httpd_new(struct event_base *base, const HttpdOptions *o, Httpd **ret)
{
        _cleanup_(httpd_freep) Httpd *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->o = *o;
        h->base = base;
        ConnTrackerOptions co = {
            .limit = o->limit,
            .timeout_usec = o->timeout_usec,
            .below_limit = o->below_limit,
            .userdata = o->userdata,
        };
        int r = conn_tracker_new(base, &co, &h->conns);
        if (r < 0)
                return r;
        h->resume_accept_ev = evtimer_new(base, on_resume_accept, h);
        h->resume_ev = event_new(base, -1, 0, on_resume_accept, h);
        h->http = evhttp_new(base);
        h->listener = evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_EXEC, 0, o->listen_fd);
        if (!h->resume_accept_ev || !h->resume_ev || !h->http || !h->listener)
                return -ENOMEM;
        evconnlistener_set_error_cb(h->listener, on_accept_error);
        /* every method reaches us, so the unsupported ones get a JSON 405 with Allow */
        evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                                EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                                EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
        evhttp_set_max_headers_size(h->http, o->max_header_bytes);
        evhttp_set_max_body_size(h->http, MAX_BODY);
        struct timeval tv = timeval_from_usec(o->timeout_usec);
        evhttp_set_timeout_tv(h->http, &tv);
        evhttp_set_default_content_type(h->http, "application/json; charset=utf-8");
        evhttp_set_gencb(h->http, on_request, h);
        evhttp_set_bevcb(h->http, make_bufferevent, h);
        if (!evhttp_bind_listener(h->http, h->listener))
                return -ENOMEM;
        h->listener_bound = true;
        r = register_listener(h, true);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

Httpd *httpd_free(Httpd *h)
{
        if (!h)
                return NULL;
        (void)register_listener(h, false);
        if (h->http)
                evhttp_free(h->http); /* frees the bound listener and open connections */
        if (h->listener && !h->listener_bound)
                evconnlistener_free(h->listener);
        conn_tracker_free(h->conns);
        if (h->resume_accept_ev)
                event_free(h->resume_accept_ev);
        if (h->resume_ev)
                event_free(h->resume_ev);
        free(h);
        return NULL;
}
