/* tallyctl pin GEN / unpin: the pin file (common/pin.h) under the writers' lock, so a
 * worker's pruning either ran before (and the pin is refused: the file is gone) or sees
 * the pin. tallyd notices through its directory watch; when it is reachable we wait a
 * moment for it to confirm. */
#include <inttypes.h>
#include <sys/file.h>

#include "ctl.h"
#include "log.h"
#include "pin.h"
#include "snapshot_dir.h"
#include "snapshot_read.h"

#define CONFIRM_USEC (3 * USEC_PER_SEC)

/* Waits (bounded) for tallyd to serve want. */
static void confirm(const Ctl *c, uint64_t want, const char *what)
{
        uint64_t deadline = now_monotonic_usec() + CONFIRM_USEC, served = 0;
        int r;
        for (;;) {
                r = ctl_query_served(c, &served);
                if (r < 0) {
                        printf("tallyd is not reachable at %s; it will %s when it runs\n",
                               c->config->server.listen, what);
                        return;
                }
                if (r > 0 && served == want)
                        break;
                if (now_monotonic_usec() >= deadline) {
                        if (r > 0)
                                printf("tallyd still serves generation %" PRIu64 "; it will %s "
                                       "once it has loaded the snapshot\n",
                                       served, what);
                        else
                                printf("tallyd serves nothing yet; it will %s once it has "
                                       "loaded the snapshot\n",
                                       what);
                        return;
                }
                usleep(50 * 1000);
        }
        printf("tallyd serves generation %" PRIu64 "\n", served);
}

/* The snapshot directory with its lock held (as a writer holds it, so no worker prunes or
 * publishes meanwhile), or a logged error (-errno). */
static int locked_dirfd(const Ctl *c)
{
        int dirfd = ctl_dirfd(c);
        if (dirfd < 0)
                return dirfd;
        int r = snapshot_dir_lock(dirfd);
        if (r < 0)
                return log_error_errno(r, "Cannot lock %s: %m", c->config->snapshot_dir);
        return dirfd;
}

int ctl_pin(const Ctl *c, int argc, char **argv)
{
        uint64_t gen;
        if (parse_uint(argv[0], 1, UINT64_MAX - 1, &gen) < 0) {
                fprintf(stderr, "tallyctl: pin takes a generation number, not '%s'\n", argv[0]);
                return CTL_EXIT_USAGE;
        }
        int dirfd = locked_dirfd(c);
        if (dirfd < 0)
                return CTL_EXIT_FAILURE;
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char label[64], reason[256];
        if (ctl_load(c, argv[0], &s, label, sizeof(label), reason, sizeof(reason)) < 0) {
                log_error("Refusing to pin generation %" PRIu64 ": %s", gen, reason);
                return CTL_EXIT_FAILURE;
        }
        int r = pin_write(dirfd, gen);
        if (r < 0) {
                log_error_errno(r, "Cannot write %s/" PIN_FILE_NAME ": %m",
                                c->config->snapshot_dir);
                return CTL_EXIT_FAILURE;
        }
        (void)flock(dirfd, LOCK_UN); /* do not hold up a worker while tallyd reloads */
        printf("Pinned generation %" PRIu64 ": tallyd serves it until 'tallyctl unpin', and "
               "pruning keeps it\n",
               gen);
        confirm(c, gen, "serve it");
        return CTL_EXIT_OK;
}

static uint64_t newest_valid(const Ctl *c, int dirfd)
{
        _cleanup_free_ uint64_t *gens = NULL;
        size_t n = 0;
        if (snapshot_dir_list(dirfd, &gens, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_(snapshot_freep) Snapshot *s = NULL;
                char arg[24], label[64], reason[256];
                snprintf(arg, sizeof(arg), "%" PRIu64, gens[i]);
                if (ctl_load(c, arg, &s, label, sizeof(label), reason, sizeof(reason)) == 0)
                        return gens[i];
        }
        return 0;
}

int ctl_unpin(const Ctl *c, int argc, char **argv)
{
        int dirfd = locked_dirfd(c);
        if (dirfd < 0)
                return CTL_EXIT_FAILURE;
        uint64_t was = 0;
        bool known = pin_read(dirfd, &was) > 0;
        int r = pin_remove(dirfd);
        if (r < 0) {
                log_error_errno(r, "Cannot remove %s/" PIN_FILE_NAME ": %m",
                                c->config->snapshot_dir);
                return CTL_EXIT_FAILURE;
        }
        if (r == 0) {
                printf("Not pinned\n");
                return CTL_EXIT_OK;
        }
        if (known)
                printf("Unpinned generation %" PRIu64 ": tallyd serves the newest valid snapshot\n",
                       was);
        else
                printf("Removed an unusable pin file: tallyd serves the newest valid snapshot\n");
        (void)flock(dirfd, LOCK_UN);
        uint64_t newest = newest_valid(c, dirfd);
        if (newest)
                confirm(c, newest, "serve the newest");
        return CTL_EXIT_OK;
}
