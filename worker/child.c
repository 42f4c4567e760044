/* Source programs: spawn, pipes, process-group stop; see child.h for the choices. */
#include "child.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define POLL_SLICE_MS 100 /* how often a blocked read looks at the stop flag */

struct Child {
        pid_t pid; /* also the process group id */
        int out_fd, err_fd, pidfd;
        ChildOptions o;
        bool reaped;
        int wstatus;
        int forced; /* CHILD_TIMED_OUT or CHILD_STOPPED once we stopped the group */

        char line[CHILD_STDERR_LINE_MAX + 32];
        size_t line_len;
        bool cutting; /* dropping the rest of a cut line */
        uint64_t window_start;
        unsigned window_lines;
        uint64_t suppressed;
};

static const char *const child_env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "TZ=UTC", NULL};

char **child_argv_free(char **argv)
{
        for (size_t i = 0; argv && argv[i]; i++)
                free(argv[i]);
        free(argv);
        return NULL;
}

int child_split_argv(const char *command, char ***ret_argv, const char **ret_error)
{
        size_t n = 0, len = strlen(command);
        _cleanup_free_ char **argv = calloc(CHILD_MAX_ARGS + 1, sizeof(char *));
        _cleanup_free_ char *word = malloc(len + 1);
        const char *err = NULL;
        int r = -EINVAL;
        if (!argv || !word)
                return -ENOMEM;
        const char *p = command;
        for (;;) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                size_t w = 0;
                while (*p && *p != ' ' && *p != '\t') {
                        if (*p == '\'') {
                                const char *q = strchr(p + 1, '\'');
                                if (!q) {
                                        err = "unterminated ' quote";
                                        goto fail;
                                }
                                memcpy(word + w, p + 1, (size_t)(q - p - 1));
                                w += (size_t)(q - p - 1);
                                p = q + 1;
                        } else if (*p == '"') {
                                for (p++; *p != '"'; p++) {
                                        if (!*p) {
                                                err = "unterminated \" quote";
                                                goto fail;
                                        }
                                        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                                p++;
                                        word[w++] = *p;
                                }
                                p++;
                        } else if (*p == '\\') {
                                if (!p[1]) {
                                        err = "trailing backslash";
                                        goto fail;
                                }
                                word[w++] = p[1];
                                p += 2;
                        } else
                                word[w++] = *p++;
                }
                if (n == CHILD_MAX_ARGS) {
                        err = "too many words";
                        r = -E2BIG;
                        goto fail;
                }
                argv[n] = strndup(word, w);
                if (!argv[n]) {
                        r = -ENOMEM;
                        goto fail;
                }
                n++;
        }
        if (n == 0) {
                err = "empty command";
                goto fail;
        }
        *ret_argv = TAKE_PTR(argv);
        return 0;
fail:
        for (size_t i = 0; i < n; i++)
                free(argv[i]);
        if (ret_error)
                *ret_error = err ? err : "out of memory";
        return r;
}

pid_t child_pid(const Child *c)
{
        return c->pid;
}

/* ---- stderr: lines, cut and rate-limited ---- */

static void emit(Child *c, const char *s, size_t n)
{
        if (c->o.on_stderr)
                c->o.on_stderr(c->o.userdata, s, n);
}

static void flush_suppressed(Child *c)
{
        if (c->suppressed == 0)
                return;
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "[%" PRIu64 " stderr lines suppressed]", c->suppressed);
        emit(c, msg, (size_t)n);
        c->suppressed = 0;
}

static void stderr_line(Child *c, const char *s, size_t n)
{
        uint64_t now = now_monotonic_usec();
        if (now - c->window_start >= USEC_PER_SEC) {
                flush_suppressed(c);
                c->window_start = now;
                c->window_lines = 0;
        }
        if (c->window_lines < CHILD_STDERR_LINES_PER_SEC) {
                c->window_lines++;
                emit(c, s, n);
        } else
                c->suppressed++;
}

static void stderr_bytes(Child *c, const char *p, size_t n)
{
        while (n > 0) {
                const char *nl = memchr(p, '\n', n);
                size_t take = nl ? (size_t)(nl - p) : n;
                if (!c->cutting) {
                        size_t room = CHILD_STDERR_LINE_MAX - c->line_len;
                        memcpy(c->line + c->line_len, p, MIN(take, room));
                        c->line_len += MIN(take, room);
                        if (take > room) {
                                static const char mark[] = " [line cut]";
                                memcpy(c->line + c->line_len, mark, sizeof(mark) - 1);
                                stderr_line(c, c->line, c->line_len + sizeof(mark) - 1);
                                c->line_len = 0;
                                c->cutting = true;
                        } else if (nl) {
                                stderr_line(c, c->line, c->line_len);
                                c->line_len = 0;
                        }
                }
                if (nl)
                        c->cutting = false;
                take += nl ? 1 : 0;
                p += take;
                n -= take;
        }
}

static void stderr_eof(Child *c)
{
        if (c->line_len > 0 && !c->cutting)
                stderr_line(c, c->line, c->line_len);
        c->line_len = 0;
        flush_suppressed(c);
}

/* Reads what stderr has; closes it at EOF. */
static void stderr_read(Child *c)
{
        char buf[4096];
        ssize_t n = read(c->err_fd, buf, sizeof(buf));
        if (n > 0)
                stderr_bytes(c, buf, (size_t)n);
        else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                stderr_eof(c);
                close(c->err_fd);
                c->err_fd = -1;
        }
}

/* Waits up to ms for stderr (and the exit, through the pidfd), forwarding stderr. */
static void pump(Child *c, int ms)
{
        struct pollfd p[2];
        nfds_t n = 0;
        if (c->err_fd >= 0)
                p[n++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
        if (c->pidfd >= 0 && !c->reaped)
                p[n++] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
        if (n == 0) { /* nothing to wait on: nap, the caller then polls waitpid */
                struct timespec ts = {0, (long)MIN(ms, 10) * 1000000L};
                nanosleep(&ts, NULL);
                return;
        }
        if (poll(p, n, ms) > 0 && c->err_fd >= 0 && p[0].fd == c->err_fd && p[0].revents)
                stderr_read(c);
}

/* ---- the group ---- */

static void reap(Child *c)
{
        int st;
        pid_t r;
        /* the leader and, as their subreaper, any orphans still in its group */
        while ((r = waitpid(-c->pid, &st, WNOHANG)) > 0)
                if (r == c->pid) {
                        c->reaped = true;
                        c->wstatus = st;
                }
        if (!c->reaped && waitpid(c->pid, &st, WNOHANG) == c->pid) {
                c->reaped = true;
                c->wstatus = st;
        }
}

static bool group_gone(Child *c)
{
        reap(c);
        return kill(-c->pid, 0) < 0 && errno == ESRCH;
}

/* SIGTERM the group, SIGKILL it after the grace, until nothing of it is left. */
static void stop_group(Child *c)
{
        if (group_gone(c))
                return;
        uint64_t grace = c->o.grace_usec ? c->o.grace_usec : CHILD_DEFAULT_GRACE_USEC;
        (void)kill(-c->pid, SIGTERM);
        (void)kill(-c->pid, SIGCONT); /* a stopped process cannot act on SIGTERM */
        uint64_t until = now_monotonic_usec() + grace;
        while (!group_gone(c) && now_monotonic_usec() < until)
                pump(c, 10);
        if (group_gone(c))
                return;
        (void)kill(-c->pid, SIGKILL);
        /* SIGKILL cannot be caught; the group is gone once the kernel tears it down */
        until = now_monotonic_usec() + 10 * USEC_PER_SEC;
        while (!group_gone(c) && now_monotonic_usec() < until)
                pump(c, 10);
}

void child_kill(Child *c)
{
        if (!c->forced)
                c->forced = CHILD_STOPPED;
        stop_group(c);
}

/* -ETIME or -ECANCELED (after stopping the group) when the run must end, else 0. */
static int check_end(Child *c, int *ret_ms)
{
        uint64_t now = now_monotonic_usec();
        if (c->o.stop && *c->o.stop) {
                c->forced = CHILD_STOPPED;
                stop_group(c);
                return -ECANCELED;
        }
        if (c->o.deadline_usec && now >= c->o.deadline_usec) {
                c->forced = CHILD_TIMED_OUT;
                stop_group(c);
                return -ETIME;
        }
        uint64_t ms = POLL_SLICE_MS;
        if (c->o.deadline_usec)
                ms = MIN(ms, (c->o.deadline_usec - now + 999) / 1000);
        *ret_ms = (int)ms;
        return 0;
}

ssize_t child_read(Child *c, void *buf, size_t len)
{
        for (;;) {
                if (c->out_fd < 0)
                        return 0;
                if (c->forced)
                        return c->forced == CHILD_TIMED_OUT ? -ETIME : -ECANCELED;
                int ms, r = check_end(c, &ms);
                if (r < 0)
                        return r;
                struct pollfd p[2] = {{.fd = c->out_fd, .events = POLLIN},
                                      {.fd = c->err_fd, .events = POLLIN}};
                r = poll(p, c->err_fd >= 0 ? 2 : 1, ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (c->err_fd >= 0 && p[1].revents)
                        stderr_read(c);
                if (p[0].revents) {
                        ssize_t n = read(c->out_fd, buf, len);
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n < 0)
                                return -errno;
                        if (n == 0) {
                                close(c->out_fd);
                                c->out_fd = -1;
                        }
                        return n;
                }
        }
}

int child_wait(Child *c, int *ret_code)
{
        char sink[4096];
        while (!c->reaped && !c->forced) {
                int ms;
                if (check_end(c, &ms) < 0)
                        break;
                /* stdout the caller left unread is dropped, so a writer cannot block */
                if (c->out_fd >= 0) {
                        struct pollfd p = {.fd = c->out_fd, .events = POLLIN};
                        if (poll(&p, 1, 0) > 0) {
                                ssize_t n = read(c->out_fd, sink, sizeof(sink));
                                if (n <= 0 && !(n < 0 && errno == EINTR)) {
                                        close(c->out_fd);
                                        c->out_fd = -1;
                                }
                                continue;
                        }
                }
                pump(c, ms);
                reap(c);
        }
        /* what the program left behind in its group goes with it */
        stop_group(c);
        /* the rest of stderr: its writers are gone, unless one escaped the group */
        uint64_t until = now_monotonic_usec() + USEC_PER_SEC;
        while (c->err_fd >= 0 && now_monotonic_usec() < until) {
                struct pollfd p = {.fd = c->err_fd, .events = POLLIN};
                if (poll(&p, 1, 100) > 0)
                        stderr_read(c);
        }
        if (c->err_fd >= 0)
                stderr_eof(c);

        if (c->forced) {
                *ret_code = 0;
                return c->forced;
        }
        if (WIFSIGNALED(c->wstatus)) {
                *ret_code = WTERMSIG(c->wstatus);
                return CHILD_SIGNALED;
        }
        *ret_code = WEXITSTATUS(c->wstatus);
        return CHILD_EXITED;
}

Child *child_free(Child *c)
{
        if (!c)
                return NULL;
        if (c->pid > 0 && !(c->reaped && group_gone(c))) {
                if (!c->forced)
                        c->forced = CHILD_STOPPED;
                stop_group(c);
        }
        if (c->out_fd >= 0)
                close(c->out_fd);
        if (c->err_fd >= 0)
                close(c->err_fd);
        if (c->pidfd >= 0)
                close(c->pidfd);
        free(c);
        return NULL;
}

/* ---- spawning ---- */

static int resolve(const char *name, char *path, size_t n)
{
        if (strchr(name, '/'))
                return strcpy_checked(path, n, name);
        static const char *const dirs[] = {"/usr/bin", "/bin"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (snprintf(path, n, "%s/%s", dirs[i], name) >= (int)n)
                        return -ENAMETOOLONG;
                if (access(path, X_OK) == 0)
                        return 0;
        }
        return -ENOENT;
}

int child_spawn(char *const argv[], const ChildOptions *o, Child **ret)
{
        if (!argv || !argv[0])
                return -EINVAL;
        char path[4096];
        int r = resolve(argv[0], path, sizeof(path));
        if (r < 0)
                return r;

        _cleanup_free_ Child *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->o = *o;
        c->out_fd = c->err_fd = c->pidfd = -1;
        c->window_start = now_monotonic_usec();

        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err, O_CLOEXEC) < 0) {
                r = -errno;
                close(out[0]);
                close(out[1]);
                return r;
        }
        /* orphans of the group come to us, so we can reap them (see child.h) */
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, err[1], 2);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        r = -posix_spawn(&pid, path, &fa, &attr, argv, (char *const *)child_env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(out[1]);
        close(err[1]);
        if (r < 0) {
                close(out[0]);
                close(err[0]);
                return r;
        }
        c->pid = pid;
        c->out_fd = out[0];
        c->err_fd = err[0];
        c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        *ret = TAKE_PTR(c);
        return 0;
}
