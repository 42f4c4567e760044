/* Noticing that the snapshot directory changed: inotify on the directory itself.
 *
 * A watch on the snapshot file would go blind after the first rename-replace, so the
 * directory is watched. Events are never interpreted one by one: draining the fd
 * collapses any number of them (an overflow included) into one "rescan" flag. If the
 * directory does not exist yet, or is removed, the watch is re-added on the next
 * watch_retry() (the caller's poll timer), so a late-created directory is picked up. */
#pragma once

#include "util.h"

typedef struct Watch Watch;

int watch_new(const char *dir, Watch **ret);
Watch *watch_free(Watch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(Watch *, watch_free);

/* The inotify fd to poll for reading. */
int watch_fd(const Watch *w);
enum {
        WATCH_QUIET = 0,   /* nothing happened */
        WATCH_CHANGED = 1, /* something in the directory changed: rescan */
};
/* Reads every pending event: WATCH_CHANGED if there was any, WATCH_QUIET if none, or a
 * negative errno if the inotify fd cannot be read. */
int watch_drain(Watch *w);
/* (Re)adds the directory watch if it is not in place; 0 when watching. */
int watch_retry(Watch *w);
bool watch_active(const Watch *w);
