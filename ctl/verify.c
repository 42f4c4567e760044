/* tallyctl verify: each file judged as tallyd judges it, one line per file. */
#include <inttypes.h>

#include "ctl.h"
#include "snapshot_read.h"

int ctl_verify(const Ctl *c, int argc, char **argv)
{
        int rc = CTL_EXIT_OK;
        for (int i = 0; i < argc; i++) {
                _cleanup_(snapshot_freep) Snapshot *s = NULL;
                char label[512], reason[256];
                if (ctl_load(c, argv[i], &s, label, sizeof(label), reason, sizeof(reason)) < 0) {
                        printf("%s: invalid: %s\n", label, reason);
                        rc = CTL_EXIT_DATAERR;
                        continue;
                }
                uint64_t rows = 0;
                for (size_t v = 0; v < s->n_views; v++)
                        rows += s->views[v].n_rows;
                printf("%s: valid: generation %" PRIu64 ", %zu view%s, %" PRIu64 " rows\n", label,
                       s->generation, s->n_views, s->n_views == 1 ? "" : "s", rows);
        }
        return rc;
}
