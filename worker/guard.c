/* Publish guards; see guard.h. */
#include "guard.h"

#include <fcntl.h>
#include <math.h>

#include "snapshot_dir.h"
#include "snapshot_read.h"

static bool any_shrink_guard(const Config *cfg)
{
        for (size_t i = 0; i < cfg->n_views; i++)
                if (cfg->views[i].guard_shrink)
                        return true;
        return false;
}

/* The newest snapshot, or NULL (none, or unreadable: *unreadable and reason say so). */
static int load_previous(const Config *cfg, Snapshot **ret, bool *unreadable, char *reason,
                         size_t reason_size)
{
        *ret = NULL;
        _cleanup_close_ int dfd = open(cfg->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        uint64_t gen = 0;
        int r = snapshot_dir_newest(dfd, &gen);
        if (r < 0 || gen == 0)
                return r < 0 ? r : 0;
        char name[64];
        snapshot_name(name, sizeof(name), gen);
        uint64_t max = cfg->max_snapshot_bytes ? cfg->max_snapshot_bytes : SNAPSHOT_MAX_FILE_BYTES;
        r = snapshot_read_file(dfd, name, max, ret, reason, reason_size);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *unreadable = true;
                *ret = NULL;
        }
        return 0;
}

int guard_check(const Config *cfg, const uint64_t *rows, GuardBreak *out, bool *ret_unreadable,
                char *reason, size_t reason_size)
{
        *ret_unreadable = false;
        _cleanup_(snapshot_freep) Snapshot *prev = NULL;
        if (any_shrink_guard(cfg)) {
                int r = load_previous(cfg, &prev, ret_unreadable, reason, reason_size);
                if (r < 0)
                        return r;
        }
        int n = 0;
        for (size_t i = 0; i < cfg->n_views; i++) {
                const ViewConfig *v = &cfg->views[i];
                if (rows[i] < v->min_rows)
                        out[n++] = (GuardBreak){.view = i,
                                                .guard = "min_rows",
                                                .rows = rows[i],
                                                .reference = v->min_rows};
                if (!v->guard_shrink || !prev)
                        continue;
                const SnapshotView *pv = snapshot_find_view(prev, v->name);
                if (!pv || pv->n_rows == 0)
                        continue;
                /* shrunk by more than max_shrink: rows < previous * (1 - max_shrink) */
                double floor_rows = (double)pv->n_rows * (1.0 - v->max_shrink);
                if ((double)rows[i] < floor_rows - 1e-9)
                        out[n++] = (GuardBreak){.view = i,
                                                .guard = "max_shrink",
                                                .rows = rows[i],
                                                .reference = pv->n_rows,
                                                .previous_generation = prev->generation};
        }
        return n;
}
