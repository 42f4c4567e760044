#include "snapshot.h"

#include <inttypes.h>

const SnapshotView *snapshot_find_view(const Snapshot *s, const char *name)
{
        for (size_t i = 0; i < s->n_views; i++)
                if (strcmp(s->views[i].name, name) == 0)
                        return &s->views[i];
        return NULL;
}

void snapshot_name(char *buf, size_t n, uint64_t generation)
{
        snprintf(buf, n, SNAPSHOT_NAME_PREFIX "%020" PRIu64 SNAPSHOT_NAME_SUFFIX, generation);
}

bool snapshot_name_parse(const char *name, uint64_t *ret)
{
        const size_t plen = strlen(SNAPSHOT_NAME_PREFIX), slen = strlen(SNAPSHOT_NAME_SUFFIX);
        if (strlen(name) != plen + 20 + slen || strncmp(name, SNAPSHOT_NAME_PREFIX, plen) != 0 ||
            strcmp(name + plen + 20, SNAPSHOT_NAME_SUFFIX) != 0)
                return false;
        uint64_t g = 0;
        for (size_t i = plen; i < plen + 20; i++) {
                if (name[i] < '0' || name[i] > '9')
                        return false;
                unsigned d = (unsigned)(name[i] - '0');
                if (g > (UINT64_MAX - d) / 10)
                        return false;
                g = g * 10 + d;
        }
        if (g == 0)
                return false;
        *ret = g;
        return true;
}
