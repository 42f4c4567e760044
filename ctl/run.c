/* tallyctl run: one worker run now. Through systemd when tally-worker.service is loaded
 * (the run gets the unit's user, sandbox and limits, and a run already under way absorbs
 * the start), else tally-worker directly with the same --config. */
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <sys/wait.h>

#include "ctl.h"
#include "log.h"
#include "snapshot_dir.h"
#include "tally-config.h"

#define UNIT "tally-worker.service"

extern char **environ;

/* Runs argv; its stdout (bounded) into out when out is not NULL. The exit status, or -1
 * for a signal, or negative errno if it could not run. */
static int run_program(char *const argv[], char *out, size_t n)
{
        int pipefd[2] = {-1, -1};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (out) {
                if (pipe2(pipefd, O_CLOEXEC) < 0)
                        return -errno;
                posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
                posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        }
        pid_t pid;
        int r = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (out) {
                close(pipefd[1]);
                size_t len = 0;
                ssize_t k;
                while (r == 0 && len + 1 < n &&
                       ((k = read(pipefd[0], out + len, n - 1 - len)) > 0 ||
                        (k < 0 && errno == EINTR)))
                        if (k > 0)
                                len += (size_t)k;
                out[len] = 0;
                close(pipefd[0]);
        }
        if (r < 0)
                return r;
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool unit_loaded(void)
{
        if (access("/run/systemd/system", F_OK) < 0)
                return false; /* not booted with systemd */
        char out[64];
        char *argv[] = {"systemctl", "show", "-P", "LoadState", UNIT, NULL};
        return run_program(argv, out, sizeof(out)) == 0 && strcmp(out, "loaded\n") == 0;
}

/* By path: the worker may create the directory on its first run. */
static uint64_t newest(const char *dir)
{
        uint64_t g = 0;
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd >= 0)
                (void)snapshot_dir_newest(dirfd, &g);
        return g;
}

static const char *meaning(int status)
{
        switch (status) {
        case 1: return "unreadable input, write error or deadline";
        case 65: return "a source had more malformed rows than max_bad_ratio";
        case 78: return "bad configuration";
        default: return "see its log";
        }
}

int ctl_run(const Ctl *c, int argc, char **argv)
{
        uint64_t before = newest(c->config->snapshot_dir);
        int status;
        bool systemd = unit_loaded();
        if (systemd) {
                if (strcmp(c->config_path, TALLY_DEFAULT_CONFIG) != 0)
                        log_warning("Starting " UNIT ", which reads the configuration its "
                                    "ExecStart= names, not %s",
                                    c->config_path);
                printf("Starting " UNIT " and waiting for it...\n");
                fflush(stdout);
                char *args[] = {"systemctl", "start", "--wait", UNIT, NULL};
                status = run_program(args, NULL, 0);
                if (status < 0) {
                        log_error_errno(status == -1 ? EINTR : -status, "Cannot run systemctl: %m");
                        return CTL_EXIT_FAILURE;
                }
                char result[128] = "", code[32] = "";
                char *r1[] = {"systemctl", "show", "-P", "Result", UNIT, NULL};
                char *r2[] = {"systemctl", "show", "-P", "ExecMainStatus", UNIT, NULL};
                (void)run_program(r1, result, sizeof(result));
                (void)run_program(r2, code, sizeof(code));
                result[strcspn(result, "\n")] = 0;
                code[strcspn(code, "\n")] = 0;
                if (status != 0) {
                        int st = atoi(code);
                        log_error(UNIT " failed: result %s, exit status %s (%s); "
                                       "journalctl -u " UNIT " has the reason",
                                  result[0] ? result : "unknown", code[0] ? code : "unknown",
                                  meaning(st));
                        return CTL_EXIT_FAILURE;
                }
        } else {
                char *args[] = {(char *)c->worker_path, "--config", (char *)c->config_path, NULL};
                status = run_program(args, NULL, 0);
                if (status == -ENOENT || status == -EACCES) {
                        log_error_errno(-status, "Cannot run %s: %m", c->worker_path);
                        return CTL_EXIT_FAILURE;
                }
                if (status != 0) {
                        if (status < 0)
                                log_error("%s was killed by a signal", c->worker_path);
                        else
                                log_error("%s failed with exit status %d (%s)", c->worker_path,
                                          status, meaning(status));
                        return CTL_EXIT_FAILURE;
                }
        }
        uint64_t after = newest(c->config->snapshot_dir);
        if (after > before)
                printf("Worker run succeeded%s: generation %" PRIu64 " written\n",
                       systemd ? " (" UNIT ")" : "", after);
        else
                printf("Worker run succeeded%s, but no new snapshot appeared in %s (newest is "
                       "generation %" PRIu64 ")\n",
                       systemd ? " (" UNIT ")" : "", c->config->snapshot_dir, after);
        return CTL_EXIT_OK;
}
