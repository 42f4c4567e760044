#include "spawner.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "log.h"

extern char **environ;

#define KILL_GRACE_USEC (5 * USEC_PER_SEC)

struct Spawner {
        SpawnOptions o;
        char *worker_path;
        char *config_path;
        struct event *tick;    /* next run */
        struct event *timeout; /* SIGTERM, then SIGKILL */
        struct event *sigchld;
        pid_t pid;
        bool term_sent;
        uint64_t started_usec;
        uint64_t ok, failed;
};

static void start_run(Spawner *s)
{
        if (s->pid > 0) {
                log_warning("tally-worker (pid %d) still running; skipping this run", (int)s->pid);
                return;
        }
        char *argv[] = {s->worker_path, (char *)"--config", s->config_path, NULL};
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigaddset(&defaults, SIGHUP);
        sigaddset(&defaults, SIGTERM);
        sigaddset(&defaults, SIGINT);
        sigaddset(&defaults, SIGCHLD);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        int r = posix_spawn(&pid, s->worker_path, NULL, &attr, argv, environ);
        posix_spawnattr_destroy(&attr);
        if (r != 0) {
                s->failed++;
                log_struct(LOG_ERR, r, MSGID_WORKER_FAILED, LOG_NO_FIELDS, "Cannot start %s: %m",
                           s->worker_path);
                return;
        }
        s->pid = pid;
        s->term_sent = false;
        s->started_usec = now_monotonic_usec();
        log_info("Started tally-worker (pid %d)", (int)pid);
        if (s->o.timeout_usec) {
                struct timeval tv = timeval_from_usec(s->o.timeout_usec);
                evtimer_add(s->timeout, &tv);
        }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
        start_run(arg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
        Spawner *s = arg;
        if (s->pid <= 0)
                return;
        if (!s->term_sent) {
                log_warning("tally-worker (pid %d) exceeded its timeout; sending SIGTERM",
                            (int)s->pid);
                kill(s->pid, SIGTERM);
                s->term_sent = true;
                struct timeval tv = timeval_from_usec(KILL_GRACE_USEC);
                evtimer_add(s->timeout, &tv);
        } else {
                log_warning("tally-worker (pid %d) ignored SIGTERM; sending SIGKILL", (int)s->pid);
                kill(s->pid, SIGKILL);
        }
}

static void reap(Spawner *s, int status)
{
        uint64_t ms = (now_monotonic_usec() - s->started_usec) / USEC_PER_MSEC;
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (ok) {
                s->ok++;
                log_struct(LOG_INFO, 0, NULL,
                           LOG_FIELDS(log_field("TALLY_DURATION_MS=%llu", (unsigned long long)ms)),
                           "tally-worker (pid %d) finished in %llu ms", (int)s->pid,
                           (unsigned long long)ms);
        } else {
                s->failed++;
                if (WIFEXITED(status))
                        log_struct(
                            LOG_ERR, 0, MSGID_WORKER_FAILED,
                            LOG_FIELDS(log_field("TALLY_EXIT_STATUS=%d", WEXITSTATUS(status)),
                                       log_field("TALLY_DURATION_MS=%llu", (unsigned long long)ms)),
                            "tally-worker (pid %d) failed with exit status %d", (int)s->pid,
                            WEXITSTATUS(status));
                else
                        log_struct(
                            LOG_ERR, 0, MSGID_WORKER_FAILED,
                            LOG_FIELDS(log_field("TALLY_SIGNAL=%d", WTERMSIG(status)),
                                       log_field("TALLY_DURATION_MS=%llu", (unsigned long long)ms)),
                            "tally-worker (pid %d) was killed by signal %d (%s)", (int)s->pid,
                            WTERMSIG(status), strsignal(WTERMSIG(status)));
        }
        s->pid = 0;
        evtimer_del(s->timeout);
        if (s->o.done)
                s->o.done(s->o.userdata, ok);
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
        Spawner *s = arg;
        int status;
        if (s->pid <= 0)
                return;
        pid_t p = waitpid(s->pid, &status, WNOHANG);
        if (p == s->pid)
                reap(s, status);
}

int spawner_new(struct event_base *base, const SpawnOptions *o, Spawner **ret)
{
        _cleanup_(spawner_freep) Spawner *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->o = *o;
        s->worker_path = strdup(o->worker_path);
        s->config_path = strdup(o->config_path);
        s->tick = event_new(base, -1, EV_PERSIST, on_tick, s);
        s->timeout = evtimer_new(base, on_timeout, s);
        s->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, s);
        if (!s->worker_path || !s->config_path || !s->tick || !s->timeout || !s->sigchld ||
            evsignal_add(s->sigchld, NULL) < 0)
                return -ENOMEM;
        struct timeval tv = timeval_from_usec(MAX(o->interval_usec, USEC_PER_SEC));
        evtimer_add(s->tick, &tv);
        start_run(s);
        *ret = TAKE_PTR(s);
        return 0;
}

Spawner *spawner_free(Spawner *s)
{
        if (!s)
                return NULL;
        if (s->pid > 0) {
                kill(s->pid, SIGTERM);
                int status;
                (void)waitpid(s->pid, &status, 0);
        }
        if (s->tick)
                event_free(s->tick);
        if (s->timeout)
                event_free(s->timeout);
        if (s->sigchld)
                event_free(s->sigchld);
        free(s->worker_path);
        free(s->config_path);
        free(s);
        return NULL;
}

void spawner_counts(const Spawner *s, uint64_t *ok, uint64_t *failed)
{
        *ok = s ? s->ok : 0;
        *failed = s ? s->failed : 0;
}
