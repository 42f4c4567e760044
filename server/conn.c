#include "conn.h"

#include <event2/event_struct.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "bytescan.h"
#include "log.h"
#include "ratelimit.h"
#include "request.h"

/* The header block of one response; a Response whose headers do not fit gets a 500. */
#define HEAD_MAX 2048
/* After answering a request whose rest was not read (a body, an error), the unread
 * bytes are drained this long before closing, so the close does not reset the response
 * away (RFC 9112 9.6). */
#define LINGER_USEC     (1 * USEC_PER_SEC)
#define MAX_SPARE       64
#define WARN_EVERY_USEC (10 * USEC_PER_SEC)
/* Snapshot pieces this long go out without a copy: vmsplice()d into a pipe (the pipe
 * holds references to the pages, not their bytes) and splice()d into the socket, as
 * sendfile would. Safe because snapshot memory is never written after rendering and is
 * only ever unmapped, never reused: pages the kernel still holds outlive the mapping. */
#define ZEROCOPY_MIN (256 * 1024)
#define PIPE_BYTES   (1024 * 1024)
/* At most this much of one response per wake-up, so 50 clients of a multi-megabyte body
 * take turns instead of each filling its socket buffer (megabytes on loopback) at once. */
#define WRITE_SLICE (512 * 1024)
/* The send buffer stays autotuned, as nginx's and the body floor's do. A fixed 4 MiB
 * SO_SNDBUF for zero-copy bodies (here until 2026-12-01) showed 262-346 against 454-474 us
 * of tallyd's CPU per 4.8 MB view, but on loopback that was work moved, not saved: with
 * megabytes queued, the segments leave from the client's ACK processing, in the client's
 * context (on a real network, in softirq on this host, charged to no process). Quiet
 * bench/server, 3 rounds, the same tree with and without it: views/s at c50 uncapped
 * 502 with it, 606 without (nginx 500), the client's core saturated either way and its
 * CPU per view 1.99 against 1.65 ms; server plus client CPU per view 2.35 against 2.21
 * ms (docs/performance.md 4g). */
/* Body pieces up to this long are prefetched before they are written (prefetch_body). */
#define PREFETCH_MAX 4096

typedef enum ConnState {
        CONN_READING,
        CONN_WRITING, /* a response waits for the socket (EV_WRITE) */
        CONN_LINGERING,
} ConnState;

struct Conn {
        ConnServer *srv;
        Conn *prev, *next; /* in srv->first, or srv->spare (next only) */
        int fd;
        ConnState state;
        bool close_after; /* close once this response is written */
        bool linger;      /* ... after draining what the client still sends */
        bool count;       /* report the status through o->sent */
        int status;
        struct event io;
        struct event timer;
        uint64_t deadline_usec; /* monotonic; the timer re-arms itself until then */
        RequestScan scan;
        size_t len;      /* bytes in buf */
        size_t consumed; /* the head being answered */
        Response resp;
        Served *ref; /* on resp.hold while a write waits */
        struct iovec iov[1 + RESPONSE_MAX_PIECES];
        unsigned iov_i, iov_n;
        unsigned zerocopy; /* bit i: iov[i] goes through the pipe */
        int pipe[2];       /* while a response uses it, else -1 */
        size_t in_pipe;    /* bytes in the pipe, not yet in the socket */
        char head[HEAD_MAX];
        size_t cap;
        char buf[]; /* max_header_bytes */
};

static void on_io(evutil_socket_t fd, short what, void *arg);

/* read(2) and writev(2) without glibc's cancellation points: tallyd never cancels a
 * thread, and in a threaded process each call is bracketed by two atomic updates of the
 * thread's cancel state (__pthread_enable/disable_asynccancel: 1.5% of tallyd's CPU at
 * bench rows c50, perf). */
static ssize_t conn_read(int fd, void *p, size_t n)
{
        return syscall(SYS_read, fd, p, n);
}

static ssize_t conn_writev(int fd, const struct iovec *iov, int n)
{
        return syscall(SYS_writev, fd, iov, n);
}

/* Pipes open in the process, each two fds on top of the connections (server.c's reserve). */
static atomic_uint conn_pipes;

static const char *reason(int status)
{
        switch (status) {
        case 200: return "OK";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 416: return "Range Not Satisfiable";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
        }
}

/* The header block under construction; overflow or a bad value is sticky. */
typedef struct Head {
        char *p, *end;
        bool bad;
} Head;

static void put(Head *w, const char *s, size_t n)
{
        if ((size_t)(w->end - w->p) < n) {
                w->bad = true;
                return;
        }
        memcpy(w->p, s, n);
        w->p += n;
}

#define PUT_LITERAL(w, s) put(w, s, sizeof(s) - 1)

static void put_uint(Head *w, uint64_t v)
{
        char tmp[24], *e = tmp + sizeof(tmp), *q = e;
        do
                *--q = (char)('0' + v % 10);
        while (v /= 10);
        put(w, q, (size_t)(e - q));
}

/* Whether v[0..n) holds a control byte other than HT, or DEL. */
static bool has_control(const char *v, size_t n)
{
        if (!bytescan_maybe(v, n, 0x20))
                return false;
        for (size_t i = 0; i < n; i++) { /* HT, a short value, or one that does have one */
                unsigned char c = (unsigned char)v[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return true;
        }
        return false;
}

/* "Name: value\r\n"; a value with CR, LF or another control byte fails the response
 * (header injection), as does one that does not fit. */
static void put_field(Head *w, const char *name, size_t nlen, const char *value)
{
        size_t vlen = strlen(value);
        if (has_control(value, vlen))
                w->bad = true;
        put(w, name, nlen);
        put(w, value, vlen);
        PUT_LITERAL(w, "\r\n");
}

#define PUT_FIELD(w, name, value) put_field(w, name ": ", sizeof(name ": ") - 1, value)

static void refresh_date(ConnServer *s)
{
        /* The coarse clock (the last tick, a vDSO read without rdtsc) is exact enough for
         * a one-second header; event_base_gettimeofday_cached() takes the base's lock and
         * cost 100 instructions per response (callgrind, bench rows at c50). */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        if (ts.tv_sec == s->date_sec)
                return;
        s->date_sec = ts.tv_sec;
        struct tm tm;
        time_t t = ts.tv_sec;
        gmtime_r(&t, &tm);
        s->date_len = strftime(s->date_line, sizeof(s->date_line),
                               "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

static void put_status_line(Head *w, bool http10, int status)
{
        if (http10)
                PUT_LITERAL(w, "HTTP/1.0 ");
        else
                PUT_LITERAL(w, "HTTP/1.1 ");
        put_uint(w, (uint64_t)status);
        PUT_LITERAL(w, " ");
        put(w, reason(status), strlen(reason(status)));
        PUT_LITERAL(w, "\r\n");
}

/* The Date line as of the caller's refresh_date(). */
static void put_date(Conn *c, Head *w)
{
        put(w, c->srv->date_line, c->srv->date_len);
}

/* What follows the Date line: the length, the connection, the empty line. */
static void put_tail(Conn *c, Head *w, bool http10, bool keep_alive, bool length, size_t n)
{
        if (length) {
                PUT_LITERAL(w, "Content-Length: ");
                put_uint(w, n);
                PUT_LITERAL(w, "\r\n");
        }
        if (c->close_after)
                PUT_LITERAL(w, "Connection: close\r\n");
        else if (http10 && keep_alive)
                PUT_LITERAL(w, "Connection: keep-alive\r\n");
        PUT_LITERAL(w, "\r\n");
}

/* The status line and the response's own fields. */
static void put_fields(Head *w, const Response *r, bool http10)
{
        put_status_line(w, http10, r->status);
        if (r->status != 304 && r->content_type)
                PUT_FIELD(w, "Content-Type", r->content_type);
        if (r->content_encoding)
                PUT_FIELD(w, "Content-Encoding", r->content_encoding);
        if (r->etag)
                PUT_FIELD(w, "ETag", r->etag);
        if (r->last_modified)
                PUT_FIELD(w, "Last-Modified", r->last_modified);
        if (r->generation) {
                PUT_LITERAL(w, "X-Tally-Generation: ");
                put_uint(w, r->generation);
                PUT_LITERAL(w, "\r\n");
        }
        if (r->vary)
                PUT_LITERAL(w, "Vary: Accept, Accept-Encoding\r\n");
        if (r->allow)
                PUT_FIELD(w, "Allow", r->allow);
        if (r->retry_after)
                PUT_LITERAL(w, "Retry-After: 1\r\n");
        if (r->stale)
                PUT_LITERAL(w, "Warning: 110 tallyd \"snapshot older than max_age\"\r\n");
        if (r->no_store)
                PUT_LITERAL(w, "Cache-Control: no-store\r\n");
        if (r->csp)
                PUT_FIELD(w, "Content-Security-Policy", r->csp);
}

/* The key of r's header block through the Date line, or false if it is not cached: only
 * snapshot responses are, whose strings are all literals or lie in the snapshot
 * (respond.c), so the snapshot's id (never reused) vouches for the bytes behind the
 * pointers. */
static bool head_key(const Response *r, bool http10, int64_t date_sec, ConnHeadKey *k)
{
        if (!r->hold || r->keep || r->allow || r->csp || r->retry_after)
                return false;
        memset(k, 0, sizeof(*k)); /* the padding too: keys compare with memcmp */
        k->served_id = r->hold->id;
        k->date_sec = date_sec;
        k->generation = r->generation;
        k->content_type = r->content_type;
        k->content_encoding = r->content_encoding;
        k->etag = r->etag;
        k->last_modified = r->last_modified;
        k->status = r->status;
        k->http10 = http10;
        k->vary = r->vary;
        k->stale = r->stale;
        k->no_store = r->no_store;
        return true;
}

/* The header block for c->resp into c->head; false if it could not be built. Snapshot
 * responses copy the block through the Date line from the last one when it was made of
 * the same inputs: the fields' checks and copies were 900 of a single-row request's 4,300
 * user-space instructions (callgrind, bench rows at c50). */
static bool build_head(Conn *c, const RequestHead *h)
{
        const Response *r = &c->resp;
        ConnServer *s = c->srv;
        Head w = {c->head, c->head + sizeof(c->head), false};
        refresh_date(s);
        ConnHeadKey k;
        bool cacheable = head_key(r, h->http10, s->date_sec, &k);
        if (cacheable && s->head_len && memcmp(&k, &s->head_key, sizeof(k)) == 0)
                put(&w, s->head_bytes, s->head_len);
        else {
                put_fields(&w, r, h->http10);
                put_date(c, &w);
                size_t n = (size_t)(w.p - c->head);
                if (cacheable && !w.bad && n <= sizeof(s->head_bytes)) {
                        memcpy(s->head_bytes, c->head, n);
                        s->head_len = n;
                        s->head_key = k;
                }
        }
        put_tail(c, &w, h->http10, h->keep_alive, r->status != 304, response_body_length(r));
        if (w.bad)
                return false;
        c->iov[0] = (struct iovec){c->head, (size_t)(w.p - c->head)};
        c->iov_n = 1;
        c->zerocopy = 0;
        if (!r->no_body)
                for (size_t i = 0; i < r->n_pieces; i++) {
                        if (!r->pieces[i].len)
                                continue;
                        /* only snapshot memory is never rewritten; keep's (the status
                         * page's) buffers are, so they are copied by writev */
                        if (r->hold && !r->keep && (r->shared & (1u << i)) &&
                            r->pieces[i].len >= ZEROCOPY_MIN)
                                c->zerocopy |= 1u << c->iov_n;
                        c->iov[c->iov_n++] =
                            (struct iovec){(void *)r->pieces[i].p, r->pieces[i].len};
                }
        return true;
}

/* A fixed JSON answer (refusals, or a Response that could not be written). */
static void build_fixed(Conn *c, bool http10, int status, const char *body)
{
        Head w = {c->head, c->head + sizeof(c->head), false};
        size_t n = strlen(body);
        put_status_line(&w, http10, status);
        PUT_LITERAL(&w, "Content-Type: application/json; charset=utf-8\r\n");
        refresh_date(c->srv);
        put_date(c, &w);
        put_tail(c, &w, http10, false, true, n);
        c->iov[0] = (struct iovec){c->head, (size_t)(w.p - c->head)};
        c->iov[1] = (struct iovec){(void *)body, n};
        c->iov_n = 2;
        c->zerocopy = 0;
        c->status = status;
}

/* Gives the connection's pipe back: to the transport's spares when it is empty (the
 * response went out whole), else closed with whatever it still holds. */
static void close_pipe(Conn *c)
{
        if (c->pipe[0] < 0)
                return;
        ConnServer *s = c->srv;
        if (c->in_pipe == 0 && s->n_spare_pipes < CONN_SPARE_PIPES) {
                s->spare_pipes[s->n_spare_pipes][0] = c->pipe[0];
                s->spare_pipes[s->n_spare_pipes][1] = c->pipe[1];
                s->n_spare_pipes++;
        } else {
                close(c->pipe[0]);
                close(c->pipe[1]);
                atomic_fetch_sub(&conn_pipes, 1);
        }
        c->pipe[0] = c->pipe[1] = -1;
        c->in_pipe = 0;
}

static void conn_close(Conn *c)
{
        ConnServer *s = c->srv;
        close_pipe(c);
        event_del(&c->io);
        event_del(&c->timer);
        close(c->fd);
        response_done(&c->resp);
        served_unref(c->ref);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->first = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (s->n_spare < MAX_SPARE) {
                c->next = s->spare;
                s->spare = c;
                s->n_spare++;
        } else
                free(c);
        s->release(s->owner);
}

static void set_events(Conn *c, short what)
{
        event_del(&c->io);
        event_assign(&c->io, c->srv->base, c->fd, what | EV_PERSIST, on_io, c);
        event_add(&c->io, NULL);
}

static void arm_timer(Conn *c, uint64_t usec)
{
        struct timeval tv = timeval_from_usec(usec);
        evtimer_add(&c->timer, &tv);
}

/* The monotonic clock at its last tick: deadlines are seconds, so a few ms early is
 * nothing, and it spares a TSC read per response (the precise vDSO clock was 1.6% of
 * tallyd's CPU at bench rows c50, three reads per request). */
static uint64_t coarse_monotonic_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* now + usec, but never past the end of a drain. */
static uint64_t deadline_in(const Conn *c, uint64_t usec)
{
        uint64_t d = coarse_monotonic_usec() + usec, end = c->srv->drain_end_usec;
        return end && end < d ? end : d;
}

static void start_lingering(Conn *c)
{
        c->state = CONN_LINGERING;
        (void)shutdown(c->fd, SHUT_WR);
        c->deadline_usec = deadline_in(c, MIN(LINGER_USEC, c->srv->o->timeout_usec));
        uint64_t now = now_monotonic_usec();
        arm_timer(c, c->deadline_usec > now ? c->deadline_usec - now : 0);
}

static bool process(Conn *c);

/* The response is on the wire: release it, then the next request or the close. */
static bool finish_response(Conn *c)
{
        close_pipe(c);
        response_done(&c->resp);
        served_unref(c->ref);
        c->ref = NULL;
        if (c->state == CONN_WRITING)
                set_events(c, EV_READ);
        c->state = CONN_READING;
        if (c->close_after) {
                if (c->linger || c->len > c->consumed) {
                        start_lingering(c);
                        return true;
                }
                conn_close(c);
                return false;
        }
        memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
        c->len -= c->consumed;
        c->consumed = 0;
        c->deadline_usec = deadline_in(c, c->srv->o->timeout_usec);
        return true;
}

/* A pipe for the zero-copy pieces; false (they are written instead) if none can be had. */
static bool open_pipe(Conn *c)
{
        if (c->pipe[0] >= 0)
                return true;
        ConnServer *s = c->srv;
        if (s->n_spare_pipes) {
                s->n_spare_pipes--;
                c->pipe[0] = s->spare_pipes[s->n_spare_pipes][0];
                c->pipe[1] = s->spare_pipes[s->n_spare_pipes][1];
                return true;
        }
        if (atomic_fetch_add(&conn_pipes, 1) >= CONN_MAX_PIPES ||
            pipe2(c->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
                atomic_fetch_sub(&conn_pipes, 1);
                c->pipe[0] = c->pipe[1] = -1;
                return false;
        }
        (void)fcntl(c->pipe[1], F_SETPIPE_SZ, PIPE_BYTES); /* else the default 64 KiB */
        return true;
}

static int errno_or_wait(void)
{
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
}

static void advance(Conn *c, size_t n)
{
        while (c->iov_i < c->iov_n && n >= c->iov[c->iov_i].iov_len)
                n -= c->iov[c->iov_i++].iov_len;
        if (n) {
                c->iov[c->iov_i].iov_base = (char *)c->iov[c->iov_i].iov_base + n;
                c->iov[c->iov_i].iov_len -= n;
        }
}

/* Writes what is left of the response: 1 all written, 0 waiting, negative errno. */
static int write_some(Conn *c)
{
        size_t budget = WRITE_SLICE;
        while (c->iov_i < c->iov_n || c->in_pipe) {
                ssize_t n;
                if (budget == 0)
                        return 0; /* the rest on the next EV_WRITE: level-triggered, at once */
                if (c->in_pipe) {
                        unsigned more = c->iov_i < c->iov_n ? SPLICE_F_MORE : 0;
                        n = splice(c->pipe[0], NULL, c->fd, NULL, c->in_pipe,
                                   SPLICE_F_NONBLOCK | SPLICE_F_MOVE | more);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return errno_or_wait();
                        }
                        c->in_pipe -= (size_t)n;
                        budget -= MIN(budget, (size_t)n);
                        continue;
                }
                if ((c->zerocopy & (1u << c->iov_i)) && open_pipe(c)) {
                        n = vmsplice(c->pipe[1], &c->iov[c->iov_i], 1, SPLICE_F_NONBLOCK);
                        if (n > 0) {
                                c->in_pipe = (size_t)n;
                                advance(c, (size_t)n);
                                continue;
                        }
                        if (n < 0 && errno == EINTR)
                                continue;
                        /* the pages cannot be mapped: write them */
                }
                c->zerocopy &= ~(1u << c->iov_i);
                unsigned end = c->iov_i + 1;
                while (end < c->iov_n && !(c->zerocopy & (1u << end)))
                        end++;
                if (end < c->iov_n) {
                        /* a zero-copy piece follows: MSG_MORE holds this batch (a head,
                         * say) for it instead of pushing it as a segment of its own,
                         * which TCP_NODELAY would, as sendfile with TCP_CORK does */
                        struct msghdr m = {.msg_iov = c->iov + c->iov_i,
                                           .msg_iovlen = end - c->iov_i};
                        n = sendmsg(c->fd, &m, MSG_MORE | MSG_NOSIGNAL);
                } else
                        n = conn_writev(c->fd, c->iov + c->iov_i, (int)(end - c->iov_i));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno_or_wait();
                }
                advance(c, (size_t)n);
                budget -= MIN(budget, (size_t)n);
        }
        return 1;
}

/* Sends the prepared iovec; false if the connection is gone. */
static bool send_prepared(Conn *c)
{
        c->iov_i = 0;
        int r = write_some(c);
        if (c->count && c->srv->o->sent)
                c->srv->o->sent(c->srv->o->userdata, c->status);
        if (r < 0) {
                conn_close(c);
                return false;
        }
        if (r == 1)
                return finish_response(c);
        /* The rest waits for the socket: the bytes must outlive the loop's snapshot
         * reference, which a swap can drop meanwhile. */
        if (c->resp.hold && c->resp.shared)
                c->ref = served_ref(c->resp.hold);
        c->state = CONN_WRITING;
        c->deadline_usec = deadline_in(c, c->srv->o->timeout_usec);
        set_events(c, EV_WRITE);
        return true;
}

/* Asks for the cache lines of the small body pieces now, so their misses (a random row
 * of the snapshot is rarely cached) overlap while the head is built and the syscall
 * entered, instead of stalling writev's copy one line after the other: _copy_from_iter
 * was 4.3% of tallyd's samples at bench rows c50 against 1.1% for the floor, which
 * writes one hot buffer (perf). */
static void prefetch_body(const Response *r)
{
        for (size_t i = 0; i < r->n_pieces; i++)
                if (r->pieces[i].len <= PREFETCH_MAX)
                        for (size_t k = 0; k < r->pieces[i].len; k += 64)
                                __builtin_prefetch(r->pieces[i].p + k);
}

static bool answer(Conn *c, const RequestHead *h)
{
        const HttpdOptions *o = c->srv->o;
        c->consumed = h->length;
        o->handle(o->userdata, &h->req, &c->resp);
        prefetch_body(&c->resp);
        c->close_after = !h->keep_alive || c->resp.close || c->srv->drain_end_usec;
        c->linger = c->resp.close;
        c->count = true;
        c->status = c->resp.status;
        if (!build_head(c, h)) {
                static _Atomic uint64_t last_warning;
                if (ratelimit_pass(&last_warning, WARN_EVERY_USEC))
                        log_warning("A header of a %d response cannot be sent; answering 500",
                                    c->resp.status);
                response_done(&c->resp);
                build_fixed(c, h->http10, 500,
                            "{\"error\":\"response could not be sent\",\"status\":500}");
        }
        return send_prepared(c);
}

/* Answers every complete request in the buffer; false if the connection is gone. */
static bool process(Conn *c)
{
        /* an empty buffer (the last request answered) needs no parse: 50 instructions per
         * request at bench rows c50, where every read holds one request (callgrind) */
        while (c->state == CONN_READING && c->len) {
                RequestHead h;
                RequestOutcome o = request_parse(&c->scan, c->buf, c->len, c->cap, &h);
                if (o == REQUEST_INCOMPLETE)
                        return true;
                if (o == REQUEST_REFUSED) {
                        c->consumed = c->len;
                        c->close_after = c->linger = true;
                        c->count = false;
                        build_fixed(c, false, h.status, h.error);
                        return send_prepared(c);
                }
                if (!answer(c, &h))
                        return false;
        }
        return true;
}

static void on_readable(Conn *c)
{
        if (c->state == CONN_LINGERING) {
                char sink[4096];
                ssize_t n = conn_read(c->fd, sink, sizeof(sink));
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                        conn_close(c);
                return;
        }
        ssize_t n = conn_read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                conn_close(c); /* the client went away; a request in part is dropped */
                return;
        }
        c->len += (size_t)n;
        process(c);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
        Conn *c = arg;
        if (c->state != CONN_WRITING) {
                on_readable(c);
                return;
        }
        int r = write_some(c);
        if (r < 0) {
                conn_close(c);
                return;
        }
        c->deadline_usec = deadline_in(c, c->srv->o->timeout_usec);
        if (r == 1 && finish_response(c))
                process(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
        Conn *c = arg;
        uint64_t now = now_monotonic_usec();
        if (now < c->deadline_usec) {
                arm_timer(c, c->deadline_usec - now); /* the deadline moved on meanwhile */
                return;
        }
        log_debug("Closing a connection that sent no complete request within the timeout");
        conn_close(c);
}

int conn_open(ConnServer *s, int fd)
{
        size_t cap = s->o->max_header_bytes;
        Conn *c = s->spare;
        if (c && c->cap == cap) {
                s->spare = c->next;
                s->n_spare--;
        } else {
                c = malloc(sizeof(*c) + cap);
                if (!c) {
                        close(fd);
                        s->release(s->owner);
                        return -ENOMEM;
                }
        }
        memset(c, 0, offsetof(Conn, head));
        c->pipe[0] = c->pipe[1] = -1;
        c->srv = s;
        c->fd = fd;
        c->cap = cap;
        c->resp = RESPONSE_NULL;
        event_assign(&c->io, s->base, fd, EV_READ | EV_PERSIST, on_io, c);
        evtimer_assign(&c->timer, s->base, on_timer, c);
        c->next = s->first;
        if (s->first)
                s->first->prev = c;
        s->first = c;
        c->deadline_usec = now_monotonic_usec() + s->o->timeout_usec;
        event_add(&c->io, NULL);
        arm_timer(c, s->o->timeout_usec);
        return 0;
}

void conn_drain_all(ConnServer *s, uint64_t grace_usec)
{
        if (s->drain_end_usec)
                return;
        s->drain_end_usec = now_monotonic_usec() + grace_usec;
        for (Conn *c = s->first; c; c = c->next) {
                if (c->deadline_usec > s->drain_end_usec)
                        c->deadline_usec = s->drain_end_usec;
                arm_timer(c, grace_usec);
        }
}

void conn_close_all(ConnServer *s)
{
        while (s->first)
                conn_close(s->first);
        while (s->spare) {
                Conn *c = s->spare;
                s->spare = c->next;
                free(c);
        }
        s->n_spare = 0;
        while (s->n_spare_pipes) {
                s->n_spare_pipes--;
                close(s->spare_pipes[s->n_spare_pipes][0]);
                close(s->spare_pipes[s->n_spare_pipes][1]);
                atomic_fetch_sub(&conn_pipes, 1);
        }
}
