/* Walking a msgpack map of named members (an MpCursor over untrusted bytes).
 *
 * The snapshot's parts are maps whose keys name their members: a reader knows some names,
 * skips the keys it does not know (a newer writer's) and decides itself what a repeated
 * or a missing member means, since the v1 payload and the v2 directory decide it
 * differently. The walker does only the part they share: it reads each key, matches it
 * against a table of names, skips the value of an unknown one (depth-bounded) and leaves
 * the cursor on the value of a known one for the caller to read. It says nothing: a
 * failure returns -EBADMSG with its kind in fault, so each reader keeps its own words. */
#pragma once

#include "mp_cursor.h"

typedef enum MpMembersFault {
        MP_MEMBERS_OK,
        MP_MEMBERS_KEY_NOT_STR, /* a key is not a string */
        MP_MEMBERS_BAD_VALUE,   /* an unknown member's value is malformed or too deep */
} MpMembersFault;

#define MP_MEMBERS_MAX_NAMES 32

typedef struct MpMembers {
        MpCursor *c;
        const char *const *names;
        unsigned n_names;
        unsigned max_depth; /* for skipping unknown members' values */
        uint32_t left;      /* map entries not read yet */
        uint32_t seen;      /* bit f: names[f] was returned at least once */
        bool repeat;        /* the member just returned had been returned before */
        MpMembersFault fault;
} MpMembers;

/* Reads the map header at c: 0, or -EBADMSG when there is no map. At most
 * MP_MEMBERS_MAX_NAMES names; the table must outlive the walk. */
int mp_members_begin(MpMembers *m, MpCursor *c, const char *const *names, unsigned n_names,
                     unsigned max_depth);
/* The next known member: 1 with its index in names in *ret and the cursor on its value,
 * which the caller reads (or skips) before the next call; 0 when the map is done; or
 * -EBADMSG with fault set. */
int mp_members_next(MpMembers *m, unsigned *ret);

/* True when every name was returned at least once. */
static inline bool mp_members_all_seen(const MpMembers *m)
{
        return m->seen == (m->n_names == 32 ? UINT32_MAX : (UINT32_C(1) << m->n_names) - 1);
}
