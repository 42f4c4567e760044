#include "server.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include "listen.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "pinning.h"
#include "spawner.h"
#include "status_page.h"
#include "watch.h"

#define MAX_LOOPS   64
#define STATUS_USEC (2 * USEC_PER_SEC)
/* SIGTERM to exit: open connections get this long to finish (bounded by the watchdog). */
#define DRAIN_GRACE_USEC (1 * USEC_PER_SEC)
#define DRAIN_TICK_USEC  (10 * USEC_PER_MSEC)
/* fds tallyd needs beyond connections: loader (dir, file, listing), spawn, slack, and the
 * transport's pipes for zero-copy bodies (httpd.h) */
#define FD_RESERVE (64 + HTTPD_EXTRA_FDS)

typedef struct Server {
        const ServerOptions *o;
        const Config *config;
        int listen_fd;
        bool listen_owned;
        struct event_base *base; /* loop 0's, on the main thread */
        Loop *loops[MAX_LOOPS];
        pthread_t threads[MAX_LOOPS];
        unsigned n_loops, n_threads;

        pthread_mutex_t lock;
        Served *current; /* guarded by lock; each loop holds its own reference too */

        Loader *loader;
        Watch *watch;
        Spawner *spawner;
        StatusPage *status; /* GET / and /v1/history (status_page.c) */
        struct event *watch_ev, *poll_ev, *loaded_ev, *status_ev, *watchdog_ev;
        struct event *sighup_ev, *sigterm_ev, *sigint_ev;
        struct event *drain_ev; /* after SIGTERM: polls for the last connection */
        uint64_t drain_end_usec;
        uint64_t watchdog_usec;
        bool notify_status;
        ConnLimit limit;
        atomic_bool stopping; /* loops are being freed: no cross-loop wake-ups */
} Server;

static void resume_all(void *userdata)
{
        Server *s = userdata;
        if (atomic_load(&s->stopping))
                return;
        for (unsigned i = 0; i < s->n_loops; i++)
                loop_resume_accept(s->loops[i]);
}

static Served *fetch_current(void *userdata)
{
        Server *s = userdata;
        pthread_mutex_lock(&s->lock);
        Served *sv = served_ref(s->current);
        pthread_mutex_unlock(&s->lock);
        return sv;
}

static void render_metrics(void *userdata, Buf *out)
{
        Server *s = userdata;
        _cleanup_(served_unrefp) Served *sv = fetch_current(s);
        const LoopMetrics *lm[MAX_LOOPS];
        for (unsigned i = 0; i < s->n_loops; i++)
                lm[i] = loop_metrics(s->loops[i]);
        MetricsInput in = {
            .served = sv,
            .now_usec = now_realtime_usec(),
            .loader = loader_stats(s->loader),
            .pin = pinning_current(),
            .loops = lm,
            .n_loops = s->n_loops,
            .open_connections = atomic_load(&s->limit.open),
            .max_connections = s->limit.max,
        };
        /* the spawner lives on loop 0; its counters are plain words, a torn read is harmless */
        spawner_counts(s->spawner, &in.worker_runs_ok, &in.worker_runs_failed);
        metrics_render(out, &in);
}

static void update_status(Server *s)
{
        if (!s->notify_status)
                return;
        Served *sv = s->current; /* main thread: the only writer */
        if (!sv) {
                notify_status("no snapshot yet");
                return;
        }
        uint64_t now = now_realtime_usec();
        uint64_t age = snapshot_age_usec(sv->created_usec, now) / USEC_PER_SEC;
        char pin[64];
        notify_status("generation %" PRIu64 ", %" PRIu64 " rows, age %" PRIu64 " s%s",
                      sv->generation, sv->total_rows, age,
                      pinning_status(pin, sizeof(pin), pinning_current()));
}

static void log_loaded(const Served *sv)
{
        uint64_t ms = sv->prepare_usec / USEC_PER_MSEC;
        log_struct(LOG_INFO, 0, MSGID_SNAPSHOT_LOADED,
                   LOG_FIELDS(log_field("TALLY_GENERATION=%" PRIu64, sv->generation),
                              log_field("TALLY_ROWS=%" PRIu64, sv->total_rows),
                              log_field("TALLY_VIEWS=%zu", sv->n_views),
                              log_field("TALLY_DURATION_MS=%" PRIu64, ms)),
                   "Serving snapshot generation %" PRIu64 ": %zu views, %" PRIu64
                   " rows, prepared in %" PRIu64 " ms",
                   sv->generation, sv->n_views, sv->total_rows, ms);
}

/* The one pointer swap, on the main loop. Other loops pick it up on their own thread. */
static void install(Server *s, Served *sv)
{
        pthread_mutex_lock(&s->lock);
        Served *old = s->current;
        s->current = sv;
        pthread_mutex_unlock(&s->lock);
        log_loaded(sv);
        loop_set_served(s->loops[0], sv);
        for (unsigned i = 1; i < s->n_loops; i++)
                loop_request_swap(s->loops[i]);
        served_unref(old);
        update_status(s);
        status_page_snapshot(s->status, sv);
}

static void on_loaded(evutil_socket_t fd, short what, void *arg)
{
        Server *s = arg;
        Served *sv = loader_take(s->loader);
        if (sv)
                install(s, sv);
}

static void loader_ready(void *userdata)
{
        Server *s = userdata;
        event_active(s->loaded_ev, 0, 0); /* thread-safe: evthread_use_pthreads() */
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
        Server *s = arg;
        int r = watch_drain(s->watch);
        if (r < 0)
                log_warning_errno(r, "Cannot read inotify events, rescanning: %m");
        if (r != WATCH_QUIET)
                loader_request_scan(s->loader);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
        Server *s = arg;
        /* a directory created after start gets its watch here */
        if (!watch_active(s->watch) && watch_retry(s->watch) == 0)
                log_info("Watching %s", s->config->snapshot_dir);
        loader_request_scan(s->loader);
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
        update_status(arg);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
        Server *s = arg;
        /* ping only if every loop ticked recently: a wedged worker loop must be noticed */
        uint64_t now = now_monotonic_usec();
        for (unsigned i = 1; i < s->n_loops; i++)
                if (now - loop_heartbeat(s->loops[i]) > s->watchdog_usec)
                        return;
        notify_watchdog();
}

static void on_sighup(evutil_socket_t fd, short what, void *arg)
{
        Server *s = arg;
        log_info("SIGHUP: rescanning %s", s->config->snapshot_dir);
        loader_request_scan(s->loader);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
        Server *s = arg;
        if (atomic_load(&s->limit.open) == 0 || now_monotonic_usec() >= s->drain_end_usec)
                event_base_loopexit(s->base, NULL);
}

/* Graceful stop: the loops stop accepting (the listening socket stays open, so with
 * socket activation new connections wait in its backlog for the next tallyd) and drain
 * their connections; tallyd exits when none is left or the grace is over. A second
 * signal exits at once. */
static void on_stop(evutil_socket_t fd, short what, void *arg)
{
        Server *s = arg;
        if (s->drain_ev) {
                log_info("Signal %d while draining: stopping now", (int)fd);
                event_base_loopexit(s->base, NULL);
                return;
        }
        uint64_t grace = DRAIN_GRACE_USEC;
        if (s->watchdog_usec)
                grace = MIN(grace, s->watchdog_usec / 2);
        log_info("Stopping on signal %d: draining %u connection(s) for up to %llu ms", (int)fd,
                 atomic_load(&s->limit.open), (unsigned long long)(grace / USEC_PER_MSEC));
        notify_stopping();
        s->drain_ev = event_new(s->base, -1, EV_PERSIST, on_drain_tick, s);
        if (!s->drain_ev) {
                event_base_loopexit(s->base, NULL);
                return;
        }
        /* the connections' own timers close what is left at the grace's end; this is a
         * backstop a little later */
        s->drain_end_usec = now_monotonic_usec() + grace + DRAIN_TICK_USEC * 5;
        for (unsigned i = 0; i < s->n_loops; i++)
                loop_drain(s->loops[i], grace);
        struct timeval tv = timeval_from_usec(DRAIN_TICK_USEC);
        event_add(s->drain_ev, &tv);
}

static void on_worker_done(void *userdata, bool ok)
{
        Server *s = userdata;
        if (ok)
                loader_request_scan(s->loader); /* inotify sees it too; this covers NFS */
}

static void on_worker_exited(void *userdata, int wait_status, uint64_t duration_ms,
                             const struct rusage *ru)
{
        Server *s = userdata;
        status_page_worker_exited(s->status, wait_status, duration_ms, ru);
}

static void *loop_thread(void *arg)
{
        (void)loop_run(arg);
        return NULL;
}

/* Connections are counted and held to max_connections by the loops (httpd.c, conn.c); the fd
 * limit only has to leave room for them and for the loader, so a full house of clients
 * can never starve snapshot loading of fds. */
static void ensure_fd_limit(unsigned max_connections, unsigned loops)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        rlim_t open_now = 0;
        for (int fd = 0; fd < 4096; fd++)
                if (fcntl(fd, F_GETFD) >= 0)
                        open_now++;
        rlim_t want = open_now + max_connections + loops + FD_RESERVE;
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= want)
                return;
        if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) {
                log_warning("max_connections = %u needs %llu fds, hard limit is %llu; "
                            "using the hard limit",
                            max_connections, (unsigned long long)want,
                            (unsigned long long)rl.rlim_max);
                want = rl.rlim_max;
        }
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warning_errno(errno, "Cannot raise the fd limit for max_connections: %m");
}

static int setup_listen(Server *s)
{
        int n = notify_listen_fds();
        if (n > 0) {
                if (n > 1)
                        log_warning("%d sockets passed; serving on the first", n);
                s->listen_fd = 3; /* SD_LISTEN_FDS_START */
                s->listen_owned = true;
                int r = listen_adopt(s->listen_fd);
                if (r < 0)
                        return log_error_errno(r, "Cannot use the passed socket: %m");
                log_info("Serving on the socket passed by systemd");
                return 0;
        }
        const char *address = s->config->server.listen;
        int r = listen_open(address, &s->listen_fd);
        if (r == -EINVAL)
                return log_error_errno(r, "listen = %s: expected host:port", address);
        if (r < 0)
                return log_error_errno(r, "Cannot listen on %s: %m", address);
        s->listen_owned = true;
        return 0;
}

static void teardown(Server *s)
{
        atomic_store(&s->stopping, true);
        for (unsigned i = 1; i < s->n_loops; i++)
                loop_stop(s->loops[i]);
        for (unsigned i = 0; i < s->n_threads; i++)
                pthread_join(s->threads[i], NULL);
        spawner_free(s->spawner);
        /* its timer is on loop 0's base: free it before the loops; bodies still in
         * flight keep their own references */
        status_page_free(s->status);
        struct event *evs[] = {s->watch_ev,   s->poll_ev,     s->loaded_ev,
                               s->status_ev,  s->watchdog_ev, s->sighup_ev,
                               s->sigterm_ev, s->sigint_ev,   s->drain_ev};
        for (size_t i = 0; i < ELEMENTSOF(evs); i++)
                if (evs[i])
                        event_free(evs[i]);
        for (unsigned i = 0; i < s->n_loops; i++)
                loop_free(s->loops[i]);
        watch_free(s->watch);
        served_unref(s->current);
        /* loops are gone: no more references anywhere; release what is queued */
        loader_free(s->loader);
        served_set_retire_hook(NULL, NULL);
        if (s->listen_owned)
                close(s->listen_fd);
        pthread_mutex_destroy(&s->lock);
}

int server_run(const ServerOptions *o)
{
        const Config *c = o->config;
        Server s = {.o = o, .config = c, .listen_fd = -1};
        pthread_mutex_init(&s.lock, NULL);
        int r;

        /* Snapshots live in their own mappings; keep malloc from holding freed memory:
         * a fixed mmap threshold (no dynamic growth after big frees), few arenas. */
        mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        mallopt(M_TRIM_THRESHOLD, 256 * 1024);
        mallopt(M_ARENA_MAX, 2);
        signal(SIGPIPE, SIG_IGN);
        if (evthread_use_pthreads() < 0)
                return log_error_errno(ENOSYS, "libevent without pthreads support");

        r = setup_listen(&s);
        if (r < 0)
                goto out;

        r = status_page_new(&(StatusOptions){.max_age_usec = c->server.max_age_usec}, &s.status);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the status page (is $TALLYD_HISTORY_INTERVAL a "
                                   "duration of at least 1ms?): %m");
                goto out;
        }
        s.n_loops = MAX(1u, MIN(c->server.workers, (unsigned)MAX_LOOPS));
        s.limit.max = MAX(c->server.max_connections, 1u);
        LoopOptions lo = {
            .listen_fd = s.listen_fd,
            .limit = &s.limit,
            .resume_all = resume_all,
            .max_header_bytes = c->server.max_header_bytes,
            .timeout_usec = c->server.timeout_usec,
            .max_age_usec = c->server.max_age_usec,
            .fetch = fetch_current,
            .render_metrics = render_metrics,
            .userdata = &s,
            .status = s.status,
        };
        for (unsigned i = 0; i < s.n_loops; i++) {
                r = loop_new(&lo, &s.loops[i]);
                if (r < 0) {
                        log_error_errno(r, "Cannot set up event loop %u: %m", i);
                        goto out;
                }
        }
        s.base = loop_base(s.loops[0]);
        r = status_page_start(s.status, s.base);
        if (r < 0)
                goto out;

        /* Watch before the first scan: a snapshot renamed in between is not missed. */
        r = watch_new(c->snapshot_dir, &s.watch);
        if (r < 0) {
                log_error_errno(r, "Cannot set up inotify: %m");
                goto out;
        }
        if (!watch_active(s.watch))
                log_warning("Snapshot directory %s cannot be watched yet; polling every %" PRIu64
                            " s",
                            c->snapshot_dir, c->server.poll_interval_usec / USEC_PER_SEC);
        r = loader_new(c->snapshot_dir, c->max_snapshot_bytes, &s.loader);
        if (r < 0)
                goto out;
        Served *first = NULL;
        if (loader_scan_now(s.loader, &first) > 0)
                install(&s, first);
        else
                log_notice("No valid snapshot in %s yet; data endpoints answer 503",
                           c->snapshot_dir);

        s.watch_ev = event_new(s.base, watch_fd(s.watch), EV_READ | EV_PERSIST, on_watch, &s);
        s.poll_ev = event_new(s.base, -1, EV_PERSIST, on_poll, &s);
        s.loaded_ev = event_new(s.base, -1, 0, on_loaded, &s);
        s.status_ev = event_new(s.base, -1, EV_PERSIST, on_status, &s);
        s.sighup_ev = evsignal_new(s.base, SIGHUP, on_sighup, &s);
        s.sigterm_ev = evsignal_new(s.base, SIGTERM, on_stop, &s);
        s.sigint_ev = evsignal_new(s.base, SIGINT, on_stop, &s);
        if (!s.watch_ev || !s.poll_ev || !s.loaded_ev || !s.status_ev || !s.sighup_ev ||
            !s.sigterm_ev || !s.sigint_ev) {
                r = log_error_errno(ENOMEM, "Cannot set up events: %m");
                goto out;
        }
        event_add(s.watch_ev, NULL);
        struct timeval tv =
            timeval_from_usec(MAX(c->server.poll_interval_usec, 100 * USEC_PER_MSEC));
        event_add(s.poll_ev, &tv);
        evsignal_add(s.sighup_ev, NULL);
        evsignal_add(s.sigterm_ev, NULL);
        evsignal_add(s.sigint_ev, NULL);
        s.notify_status = getenv("NOTIFY_SOCKET") != NULL;
        if (s.notify_status) {
                tv = timeval_from_usec(STATUS_USEC);
                event_add(s.status_ev, &tv);
        }
        s.watchdog_usec = notify_watchdog_usec();
        if (s.watchdog_usec) {
                s.watchdog_ev = event_new(s.base, -1, EV_PERSIST, on_watchdog, &s);
                if (!s.watchdog_ev) {
                        r = -ENOMEM;
                        goto out;
                }
                tv = timeval_from_usec(s.watchdog_usec / 2);
                event_add(s.watchdog_ev, &tv);
                notify_watchdog();
        }

        r = loader_start(s.loader, loader_ready, &s);
        if (r < 0) {
                log_error_errno(r, "Cannot start the loader thread: %m");
                goto out;
        }
        served_set_retire_hook(loader_retire, s.loader);
        /* Signals are handled on the main loop only; the other threads never see them. */
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGHUP);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGCHLD);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        for (unsigned i = 1; i < s.n_loops; i++) {
                r = -pthread_create(&s.threads[s.n_threads], NULL, loop_thread, s.loops[i]);
                if (r < 0)
                        break;
                s.n_threads++;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
                log_error_errno(r, "Cannot start event loop threads: %m");
                goto out;
        }
        ensure_fd_limit(c->server.max_connections, s.n_loops);

        if (o->spawn_worker) {
                SpawnOptions so = {
                    .worker_path = o->worker_path,
                    .config_path = o->config_path,
                    .interval_usec = o->spawn_interval_usec,
                    .timeout_usec = c->worker.max_runtime_usec
                                        ? MIN(c->worker.max_runtime_usec, o->spawn_interval_usec)
                                        : o->spawn_interval_usec,
                    .done = on_worker_done,
                    .exited = on_worker_exited,
                    .userdata = &s,
                };
                r = spawner_new(s.base, &so, &s.spawner);
                if (r < 0) {
                        log_error_errno(r, "Cannot set up the worker spawner: %m");
                        goto out;
                }
        }

        log_struct(LOG_INFO, 0, MSGID_SERVER_STARTED,
                   LOG_FIELDS(log_field("TALLY_LISTEN=%s", c->server.listen),
                              log_field("TALLY_WORKERS=%u", s.n_loops)),
                   "tallyd listening on %s with %u event loop%s, snapshots from %s",
                   c->server.listen, s.n_loops, s.n_loops == 1 ? "" : "s", c->snapshot_dir);
        update_status(&s);
        notify_ready();

        r = loop_run(s.loops[0]);
out:
        teardown(&s);
        return r;
}
