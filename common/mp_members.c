#include "mp_members.h"

#include <assert.h>

int mp_members_begin(MpMembers *m, MpCursor *c, const char *const *names, unsigned n_names,
                     unsigned max_depth)
{
        assert(n_names <= MP_MEMBERS_MAX_NAMES);
        *m = (MpMembers){.c = c, .names = names, .n_names = n_names, .max_depth = max_depth};
        return mp_read_map(c, &m->left) < 0 ? -EBADMSG : 0;
}

int mp_members_next(MpMembers *m, unsigned *ret)
{
        for (; m->left > 0; m->left--) {
                const char *key;
                uint32_t kl;
                if (mp_read_str(m->c, &key, &kl) < 0) {
                        m->fault = MP_MEMBERS_KEY_NOT_STR;
                        return -EBADMSG;
                }
                unsigned f = 0;
                while (f < m->n_names && !mp_str_eq(m->names[f], key, kl))
                        f++;
                if (f == m->n_names) {
                        if (mp_skip(m->c, m->max_depth) < 0) {
                                m->fault = MP_MEMBERS_BAD_VALUE;
                                return -EBADMSG;
                        }
                        continue;
                }
                m->repeat = m->seen & (UINT32_C(1) << f);
                m->seen |= UINT32_C(1) << f;
                m->left--;
                *ret = f;
                return 1;
        }
        return 0;
}
