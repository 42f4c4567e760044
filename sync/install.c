#include "install.h"

#include <inttypes.h>

#include "snapshot_read.h"
#include "snapshot_write.h"

int install_snapshot(const char *dir, unsigned keep, uint64_t generation, const void *buf,
                     size_t len, uint64_t *verified_usec, char *reason, size_t rs)
{
        /* The very check tallyd's loader makes; the decoded copy is dropped at once, so at
         * most two copies of one snapshot are ever held. */
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        reason[0] = 0;
        int r = snapshot_read_buffer(buf, len, &s, reason, rs);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (!reason[0])
                        snprintf(reason, rs, "%s", strerror(-r));
                return INSTALL_REFUSED;
        }
        if (s->generation != generation) {
                snprintf(reason, rs,
                         "the manifest says generation %" PRIu64 " but the file says %" PRIu64,
                         generation, s->generation);
                return INSTALL_REFUSED;
        }
        s = snapshot_free(s);
        *verified_usec = now_realtime_usec();
        r = snapshot_install(dir, generation, buf, len, keep);
        if (r == SNAPSHOT_INSTALL_NOT_NEWER)
                return INSTALL_NOT_NEWER;
        if (r < 0)
                snprintf(reason, rs, "cannot write into %s: %s", dir, strerror(-r));
        return r < 0 ? r : INSTALL_OK;
}
