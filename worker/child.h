/* A source program: runs argv with no shell, reads its stdout as it comes, hands its stderr
 * lines to the caller, and never leaves anything of it running.
 *
 * Why each choice:
 * - Its own process group (the child is the group's leader): a deadline or stop signals
 *   the whole group (SIGTERM, then SIGKILL after a grace), so a script's own children die
 *   with it. After the program exits, whatever is left in its group is stopped the same
 *   way. The calling process becomes a child subreaper (PR_SET_CHILD_SUBREAPER) so
 *   orphaned grandchildren are reparented to it and reaped here: no zombie outlives
 *   child_free. A descendant that leaves the group (setsid, setpgid) escapes this; under
 *   systemd the unit's cgroup still ends it.
 * - A minimal, documented environment, exactly: PATH=/usr/bin:/bin, LANG=C.UTF-8, TZ=UTC.
 *   No HOME (a program that needs one asks getpwuid), nothing of the worker's own
 *   environment (no credentials leak into a script). stdin is /dev/null; every other
 *   descriptor is closed. Signal mask and dispositions are reset to the defaults.
 * - stdout is pulled (child_read fills the caller's buffer), so a streaming CSV or NDJSON
 *   parser refills its window from it as from a file; stderr is read in the same poll()
 *   and passed on line by line, bounded: a line longer than CHILD_STDERR_LINE_MAX is cut
 *   and marked, and past CHILD_STDERR_LINES_PER_SEC lines in a second the rest of that
 *   second is counted, then reported as one "[N stderr lines suppressed]" line.
 * - A pidfd (Linux 5.3) waits for the exit with a deadline; without one, short naps.
 *
 * argv from a config string (child_split_argv): words separated by blanks (space, tab);
 * '…' quotes everything literally; "…" quotes with \" and \\ as the only escapes; a
 * backslash outside quotes takes the next character literally. Nothing else is special:
 * no variables, globs, pipes, redirections or ~. A program name without '/' is looked up
 * in PATH above (/usr/bin, then /bin). */
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "util.h"

#define CHILD_STDERR_LINE_MAX      1024
#define CHILD_STDERR_LINES_PER_SEC 20
#define CHILD_MAX_ARGS             256
#define CHILD_DEFAULT_GRACE_USEC   (5 * USEC_PER_SEC)

typedef struct ChildOptions {
        uint64_t deadline_usec;            /* CLOCK_MONOTONIC; 0: none */
        uint64_t grace_usec;               /* SIGTERM to SIGKILL; 0: CHILD_DEFAULT_GRACE_USEC */
        const volatile sig_atomic_t *stop; /* checked at least every 100 ms; may be NULL */
        /* One stderr line without its LF (cut or synthesized lines included); may be NULL */
        void (*on_stderr)(void *userdata, const char *line, size_t len);
        void *userdata;
} ChildOptions;

/* How the program ended. */
typedef enum ChildEnd {
        CHILD_EXITED = 1,    /* code: its exit status (0 is success) */
        CHILD_SIGNALED = 2,  /* code: the signal that killed it */
        CHILD_TIMED_OUT = 3, /* past the deadline; we stopped the group */
        CHILD_STOPPED = 4,   /* *stop was set; we stopped the group */
} ChildEnd;

typedef struct Child Child;

/* Splits a config string into a NULL-terminated argv (free with child_argv_free).
 * -EINVAL with *ret_error set (static) on an empty command, an unterminated quote or a
 * trailing backslash; -E2BIG past CHILD_MAX_ARGS words. */
int child_split_argv(const char *command, char ***ret_argv, const char **ret_error);
char **child_argv_free(char **argv);

/* Starts argv[0] (see above for the lookup). -ENOENT / -EACCES / … when it cannot be
 * executed: posix_spawn reports exec failures here, not as an exit status. */
int child_spawn(char *const argv[], const ChildOptions *o, Child **ret);

/* Reads up to len bytes of stdout, waiting as long as needed and forwarding stderr lines
 * meanwhile. Returns the byte count, 0 at the end of stdout, -ETIME past the deadline or
 * -ECANCELED on stop (the group has then been stopped; child_wait says so), or another
 * negative errno. */
ssize_t child_read(Child *c, void *buf, size_t len);

/* Waits for the program to exit (within the deadline), stops what is left of its group,
 * forwards the rest of stderr, and returns a ChildEnd with *ret_code. Reading stdout to
 * its end first is the caller's job: a program blocked writing a full pipe never exits
 * (it is then ended at the deadline). */
int child_wait(Child *c, int *ret_code);

/* Stops the group now (SIGTERM, grace, SIGKILL) and reaps it. */
void child_kill(Child *c);

/* Kills and reaps whatever still runs, closes the pipes. */
Child *child_free(Child *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Child *, child_free);

pid_t child_pid(const Child *c);
