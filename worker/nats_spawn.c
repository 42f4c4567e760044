#include "nats_spawn.h"

#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "log.h"
#include "nats_publish_exit.h"
#include "tally-config.h"

extern char **environ;

static volatile sig_atomic_t helper_pid;

void nats_spawn_request_stop(void)
{
        pid_t pid = helper_pid;
        if (pid > 0)
                (void)kill(pid, SIGTERM);
}

/* Beside our own binary first (a build tree, or a package that installs both together),
 * then the configured libexec path. */
static int helper_path(char *buf, size_t n)
{
        char self[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (k > 0) {
                self[k] = 0;
                char *slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        snprintf(buf, n, "%s/" NATS_PUBLISH_PROGRAM, self);
                        if (access(buf, X_OK) == 0)
                                return 0;
                }
        }
        snprintf(buf, n, "%s", TALLY_NATS_PUBLISH_PATH);
        return access(buf, X_OK) == 0 ? 0 : -errno;
}

int nats_spawn_publish(const Config *cfg, const char *config_path, uint64_t deadline_usec)
{
        if (!nats_config_enabled(&cfg->nats))
                return 0;
        char path[PATH_MAX + 32], deadline[32];
        if (helper_path(path, sizeof(path)) < 0) {
                log_error("%s: [nats] is set but %s is not installed (tally built without "
                          "libnats?); snapshot written locally only (exit %d)",
                          config_path, NATS_PUBLISH_PROGRAM, EXIT_NATS_UNPUBLISHED);
                return EXIT_NATS_UNPUBLISHED;
        }
        snprintf(deadline, sizeof(deadline), "%" PRIu64, deadline_usec);
        char *argv[] = {path,     "--config", (char *)config_path, "--deadline-monotonic-usec",
                        deadline, NULL};
        pid_t pid;
        int r = posix_spawn(&pid, path, NULL, NULL, argv, environ);
        if (r != 0) {
                log_error("cannot run %s: %s; snapshot written locally only (exit %d)", path,
                          strerror(r), EXIT_NATS_UNPUBLISHED);
                return EXIT_NATS_UNPUBLISHED;
        }
        helper_pid = pid;
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = -1;
                        break;
                }
        helper_pid = 0;
        if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NATS_UNPUBLISHED)
                return EXIT_NATS_UNPUBLISHED; /* the helper said why */
        log_error("%s ended %s %d; snapshot written locally only (exit %d)", path,
                  status != -1 && WIFSIGNALED(status) ? "by signal" : "with status",
                  status == -1          ? -1
                  : WIFSIGNALED(status) ? WTERMSIG(status)
                                        : WEXITSTATUS(status),
                  EXIT_NATS_UNPUBLISHED);
        return EXIT_NATS_UNPUBLISHED;
}
