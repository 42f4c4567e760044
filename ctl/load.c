/* GEN|FILE to a validated Snapshot, through the reader tallyd uses. */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>

#include "ctl.h"
#include "log.h"
#include "snapshot_read.h"

int ctl_dirfd(const Ctl *c)
{
        if (c->dirfd >= 0)
                return c->dirfd;
        return log_error_errno(c->dir_errno, "Cannot open snapshot directory %s: %m",
                               c->config->snapshot_dir);
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

int ctl_load(const Ctl *c, const char *arg, Snapshot **ret, char *label, size_t label_size,
             char *reason, size_t reason_size)
{
        char gen_name[SNAPSHOT_NAME_MAX];
        const char *file;
        _cleanup_free_ char *dcopy = NULL, *bcopy = NULL;
        _cleanup_close_ int own_dirfd = -1;
        int dirfd;
        uint64_t gen = 0;
        bool named;

        if (all_digits(arg)) {
                snprintf(label, label_size, "generation %s", arg);
                if (parse_uint(arg, 1, UINT64_MAX, &gen) < 0) {
                        snprintf(reason, reason_size, "not a generation number");
                        return -EINVAL;
                }
                if (c->dirfd < 0) {
                        snprintf(reason, reason_size, "cannot open %s: %s", c->config->snapshot_dir,
                                 strerror(c->dir_errno));
                        return -c->dir_errno;
                }
                snapshot_name(gen_name, sizeof(gen_name), gen);
                dirfd = c->dirfd;
                file = gen_name;
                named = true;
        } else {
                snprintf(label, label_size, "%s", arg);
                dcopy = strdup(arg);
                bcopy = strdup(arg);
                if (!dcopy || !bcopy)
                        return -ENOMEM;
                file = basename(bcopy);
                if (arg[strlen(arg) - 1] == '/' || strcmp(file, ".") == 0 ||
                    strcmp(file, "..") == 0) {
                        snprintf(reason, reason_size, "not a regular file");
                        return -EISDIR;
                }
                own_dirfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (own_dirfd < 0) {
                        int e = errno;
                        snprintf(reason, reason_size, "cannot open its directory: %s", strerror(e));
                        return -e;
                }
                dirfd = own_dirfd;
                named = snapshot_name_parse(file, &gen);
        }

        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        reason[0] = 0;
        int r = snapshot_read_file(dirfd, file, c->max_bytes, &s, reason, reason_size);
        if (r < 0) {
                if (!reason[0])
                        snprintf(reason, reason_size, "%s", strerror(-r));
                return r;
        }
        /* the same check as tallyd's loader: a renamed file must not pass for another */
        if (named && s->generation != gen) {
                snprintf(reason, reason_size,
                         "file name says generation %" PRIu64 " but the file says %" PRIu64, gen,
                         s->generation);
                return -EBADMSG;
        }
        *ret = TAKE_PTR(s);
        return 0;
}
