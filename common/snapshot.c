#include "snapshot.h"

#include <inttypes.h>

#include "mp_cursor.h"

int snapshot_envelope_payload(const void *file, size_t len, uint64_t *ret_version,
                              const void **ret_payload, uint32_t *ret_len)
{
        MpCursor c;
        uint32_t n, name_len;
        const char *name;
        mp_cursor_init(&c, file, len);
        if (mp_read_array(&c, &n) < 0 || n != 4 || mp_read_str(&c, &name, &name_len) < 0 ||
            !mp_str_eq(SNAPSHOT_FORMAT_NAME, name, name_len) || mp_read_u64(&c, ret_version) < 0 ||
            mp_read_bin(&c, ret_payload, ret_len) < 0)
                return -EBADMSG;
        return 0;
}

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
