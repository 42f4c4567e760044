#include "watch.h"

#include <sys/inotify.h>

#include "log.h"

#define WATCH_MASK                                                                               \
        (IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | \
         IN_MOVE_SELF | IN_ONLYDIR)

struct Watch {
        int fd;
        int wd;
        char *dir;
};

int watch_new(const char *dir, Watch **ret)
{
        _cleanup_(watch_freep) Watch *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = -1;
        w->wd = -1;
        w->dir = strdup(dir);
        if (!w->dir)
                return -ENOMEM;
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0)
                return -errno;
        (void)watch_retry(w);
        *ret = TAKE_PTR(w);
        return 0;
}

Watch *watch_free(Watch *w)
{
        if (!w)
                return NULL;
        if (w->fd >= 0)
                close(w->fd);
        free(w->dir);
        free(w);
        return NULL;
}

int watch_fd(const Watch *w)
{
        return w->fd;
}

bool watch_active(const Watch *w)
{
        return w->wd >= 0;
}

int watch_retry(Watch *w)
{
        if (w->wd >= 0)
                return 0;
        int wd = inotify_add_watch(w->fd, w->dir, WATCH_MASK);
        if (wd < 0)
                return log_debug_errno(errno, "Cannot watch %s: %m", w->dir);
        w->wd = wd;
        return 0;
}

int watch_drain(Watch *w)
{
        /* Large enough for a burst; the loop drains until EAGAIN anyway. */
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        int outcome = WATCH_QUIET;
        for (;;) {
                ssize_t n = read(w->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                outcome = WATCH_CHANGED;
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        /* the directory went away: the watch is gone, re-add it later */
                        if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
                                if (ev->wd == w->wd && (ev->mask & IN_IGNORED))
                                        w->wd = -1;
                                else if (ev->wd == w->wd) {
                                        inotify_rm_watch(w->fd, w->wd);
                                        w->wd = -1;
                                }
                        }
                        p += sizeof(*ev) + ev->len;
                }
        }
        return outcome;
}
