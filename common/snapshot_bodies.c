#include "snapshot_bodies.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <xxhash.h>

#include "coop.h"
#include "mp_cursor.h"
#include "mp_members.h"

typedef struct Check {
        MpCursor *c;
        const uint8_t *base;
        uint64_t len;
        char *reason;
        size_t reason_size;
} Check;

/* "bodies: ", then "view V PART: ", "view V: " or "PART: " when there is a view or a
 * part, then the message. */
static int vbad(Check *k, const SnapshotView *v, const char *part, const char *fmt, va_list ap)
    _printf_(4, 0);
static int vbad(Check *k, const SnapshotView *v, const char *part, const char *fmt, va_list ap)
{
        if (!k->reason || !k->reason_size)
                return -EBADMSG;
        int n;
        if (v)
                n = snprintf(k->reason, k->reason_size, "bodies: view %s%s%s: ", v->name,
                             part ? " " : "", part ? part : "");
        else if (part)
                n = snprintf(k->reason, k->reason_size, "bodies: %s: ", part);
        else
                n = snprintf(k->reason, k->reason_size, "bodies: ");
        if (n > 0 && (size_t)n < k->reason_size)
                vsnprintf(k->reason + n, k->reason_size - (size_t)n, fmt, ap);
        return -EBADMSG;
}

static int bad(Check *k, const char *fmt, ...) _printf_(2, 3);
static int bad(Check *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = vbad(k, NULL, NULL, fmt, ap);
        va_end(ap);
        return r;
}

static int bad_in(Check *k, const SnapshotView *v, const char *part, const char *fmt, ...)
    _printf_(4, 5);
static int bad_in(Check *k, const SnapshotView *v, const char *part, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = vbad(k, v, part, fmt, ap);
        va_end(ap);
        return r;
}

static bool fits(const Check *k, uint64_t off, uint64_t len)
{
        return off <= k->len && len <= k->len - off;
}

static int read_range(Check *k, const char *what, bool optional, SnapshotRange *ret)
{
        *ret = (SnapshotRange){0, 0};
        if (optional && k->c->p < k->c->end && *k->c->p == 0xc0) {
                k->c->p++;
                return 0;
        }
        uint32_t n;
        if (mp_read_array(k->c, &n) < 0 || n != 2 || mp_read_u64(k->c, &ret->off) < 0 ||
            mp_read_u64(k->c, &ret->len) < 0)
                return bad(k, "%s: expected [offset, length]", what);
        if (!fits(k, ret->off, ret->len))
                return bad(k, "%s: [%" PRIu64 ", %" PRIu64 "] past the end of %" PRIu64 " bytes",
                           what, ret->off, ret->len, k->len);
        return 0;
}

static int read_uint(Check *k, const char *what, uint64_t *ret)
{
        if (mp_read_u64(k->c, ret) < 0)
                return bad(k, "%s: expected an unsigned integer", what);
        return 0;
}

/* n uint32 at off: inside the bodies and 4-aligned in memory, so tallyd reads them as
 * uint32_t in place. */
static int check_u32_array(Check *k, const char *what, uint64_t off, uint64_t n)
{
        if (n > UINT64_MAX / 4 || !fits(k, off, n * 4))
                return bad(k, "%s: %" PRIu64 " entries at %" PRIu64 " past the end", what, n, off);
        if (((uintptr_t)(k->base + off)) % 4 != 0)
                return bad(k, "%s: offset %" PRIu64 " not 4-byte aligned", what, off);
        return 0;
}

/* Every part of the directory is a map of named members (mp_members.h): each name at
 * most once and all of them required. members_next() returns 1 with the index in names
 * of the member whose value the caller reads next, 0 at the end, or a negative error;
 * messages name the part as vbad() does. */
typedef struct Members {
        MpMembers walk;
        Check *k;
        const SnapshotView *v;
        const char *part;
        unsigned last; /* the member returned last */
} Members;

static int members_begin(Members *m, Check *k, const SnapshotView *v, const char *part,
                         const char *const *names, unsigned n_names)
{
        *m = (Members){.k = k, .v = v, .part = part};
        if (mp_members_begin(&m->walk, k->c, names, n_names, SNAPSHOT_MAX_DEPTH) < 0)
                return bad_in(k, v, part, "expected a map");
        return 0;
}

static int members_next(Members *m, unsigned *ret)
{
        Check *k = m->k;
        MpMembers *w = &m->walk;
        /* a repeat is said once its value is read: the value's own fault comes first */
        if (w->repeat)
                return bad_in(k, m->v, m->part, "%s twice", w->names[m->last]);
        int r = mp_members_next(w, &m->last);
        if (r == -EBADMSG)
                return w->fault == MP_MEMBERS_KEY_NOT_STR
                           ? bad_in(k, m->v, m->part, "map key is not a string")
                           : bad(k, "malformed value");
        if (r > 0)
                *ret = m->last;
        if (r != 0 || mp_members_all_seen(w))
                return r;
        char list[256]; /* "a, b and c" */
        size_t len = 0;
        for (unsigned f = 0; f < w->n_names && len < sizeof(list); f++) {
                const char *sep = f == 0 ? "" : f + 1 == w->n_names ? " and " : ", ";
                int n = snprintf(list + len, sizeof(list) - len, "%s%s", sep, w->names[f]);
                if (n < 0)
                        break;
                len += (size_t)n;
        }
        return bad_in(k, m->v, m->part, "%s are required", list);
}

static int parse_doc(Check *k, const SnapshotView *v, const char *fmt, uint64_t sep,
                     SnapshotBodyDoc *d)
{
        static const char *const names[] = {"full", "head",       "head_cols",  "rows",
                                            "gzip", "row_prefix", "row_offsets"};
        Members m;
        unsigned f;
        int r = members_begin(&m, k, v, fmt, names, ELEMENTSOF(names));
        while (r >= 0 && (r = members_next(&m, &f)) > 0)
                switch (f) {
                case 0: r = read_range(k, "full", false, &d->full); break;
                case 1: r = read_uint(k, "head", &d->head_len); break;
                case 2: r = read_uint(k, "head_cols", &d->head_cols_len); break;
                case 3: r = read_uint(k, "rows", &d->rows); break;
                case 4: r = read_range(k, "gzip", true, &d->gzip); break;
                case 5: r = read_range(k, "row_prefix", false, &d->row_prefix); break;
                default: r = read_uint(k, "row_offsets", &d->row_offsets);
                }
        if (r < 0)
                return r;
        if (d->head_cols_len > d->head_len)
                return bad(k, "view %s %s: head_cols %" PRIu64 " past head %" PRIu64, v->name, fmt,
                           d->head_cols_len, d->head_len);
        if (d->head_len > d->full.len || d->rows < d->head_len || d->rows > d->full.len)
                return bad(k,
                           "view %s %s: head %" PRIu64 " / rows at %" PRIu64
                           " outside the document of %" PRIu64 " bytes",
                           v->name, fmt, d->head_len, d->rows, d->full.len);
        r = check_u32_array(k, "row_offsets", d->row_offsets, (uint64_t)v->n_rows + 1);
        if (r < 0)
                return r;
        /* every row is at least one byte plus the separator, inside the document */
        const uint8_t *o = k->base + d->row_offsets;
        uint64_t room = d->full.len - d->rows;
        if (v->n_rows > 0 && snapshot_le32(o) != 0)
                return bad(k, "view %s %s: row offsets do not start at 0", v->name, fmt);
        for (size_t row = 0; row < v->n_rows; row++) {
                if (row % 4096 == 0)
                        coop_point();
                uint64_t a = snapshot_le32(o + 4 * row), b = snapshot_le32(o + 4 * (row + 1));
                if (b < a + sep + 1)
                        return bad(k, "view %s %s: row offsets not increasing at row %zu", v->name,
                                   fmt, row);
        }
        if (snapshot_le32(o + 4 * v->n_rows) > room)
                return bad(k, "view %s %s: rows end past the document", v->name, fmt);
        return 0;
}

static int parse_index(Check *k, const SnapshotView *v, SnapshotBodyIndex *ix)
{
        static const char *const names[] = {"slots", "keys", "key_offsets"};
        SnapshotRange slots = {0, 0}; /* [offset, count] */
        Members m;
        unsigned f;
        int r = members_begin(&m, k, v, "index", names, ELEMENTSOF(names));
        while (r >= 0 && (r = members_next(&m, &f)) > 0)
                switch (f) {
                case 0: {
                        uint32_t n;
                        r = mp_read_array(k->c, &n) < 0 || n != 2 ||
                                    mp_read_u64(k->c, &slots.off) < 0 ||
                                    mp_read_u64(k->c, &slots.len) < 0
                                ? bad_in(k, v, "index slots", "expected [offset, count]")
                                : 0;
                        break;
                }
                case 1: r = read_range(k, "index keys", false, &ix->keys); break;
                default: r = read_uint(k, "key_offsets", &ix->key_offsets);
                }
        if (r < 0)
                return r;
        ix->slots = slots.off;
        ix->n_slots = slots.len;
        if (ix->n_slots == 0 || ix->n_slots > SNAPSHOT_MAX_INDEX_SLOTS ||
            (ix->n_slots & (ix->n_slots - 1)) != 0 || ix->n_slots <= v->n_rows)
                return bad(k,
                           "view %s index: %" PRIu64 " slots for %zu rows (a power of two "
                           "above the rows is required)",
                           v->name, ix->n_slots, v->n_rows);
        r = check_u32_array(k, "index slots", ix->slots, ix->n_slots);
        if (r < 0)
                return r;
        r = check_u32_array(k, "key_offsets", ix->key_offsets, (uint64_t)v->n_rows + 1);
        if (r < 0)
                return r;
        const uint8_t *s = k->base + ix->slots;
        bool empty = false;
        for (uint64_t i = 0; i < ix->n_slots; i++) {
                uint32_t x = snapshot_le32(s + 4 * i);
                if (x > v->n_rows)
                        return bad(k,
                                   "view %s index: slot %" PRIu64 " names row %" PRIu32 " of %zu",
                                   v->name, i, x, v->n_rows);
                empty |= x == 0;
        }
        /* a lookup probes until an empty slot: without one a miss would never end */
        if (!empty)
                return bad(k, "view %s index: no empty slot", v->name);
        const uint8_t *o = k->base + ix->key_offsets;
        if (snapshot_le32(o) != 0)
                return bad(k, "view %s index: key offsets do not start at 0", v->name);
        for (size_t row = 0; row < v->n_rows; row++)
                if (snapshot_le32(o + 4 * (row + 1)) < snapshot_le32(o + 4 * row))
                        return bad(k, "view %s index: key offsets decrease at row %zu", v->name,
                                   row);
        if (snapshot_le32(o + 4 * v->n_rows) > ix->keys.len)
                return bad(k, "view %s index: keys end past their range", v->name);
        return 0;
}

static int parse_view(Check *k, const SnapshotView *v, SnapshotBodyView *out)
{
        static const char *const names[] = {"json", "msgpack", "csv", "index"};
        Members m;
        unsigned f;
        int r = members_begin(&m, k, v, NULL, names, ELEMENTSOF(names));
        while (r >= 0 && (r = members_next(&m, &f)) > 0)
                switch (f) {
                case 0: r = parse_doc(k, v, "json", 1, &out->json); break;
                case 1: r = parse_doc(k, v, "msgpack", 0, &out->mp); break;
                case 2: r = parse_doc(k, v, "csv", 0, &out->csv); break;
                default: r = parse_index(k, v, &out->index);
                }
        return r;
}

static int parse_views_list(Check *k, SnapshotBodies *b)
{
        static const char *const names[] = {"json", "json_gzip", "msgpack"};
        Members m;
        unsigned f;
        int r = members_begin(&m, k, NULL, "views_list", names, ELEMENTSOF(names));
        while (r >= 0 && (r = members_next(&m, &f)) > 0)
                switch (f) {
                case 0: r = read_range(k, "views_list json", false, &b->views_json); break;
                case 1: r = read_range(k, "views_list json_gzip", true, &b->views_json_gzip); break;
                default: r = read_range(k, "views_list msgpack", false, &b->views_mp);
                }
        return r;
}

static int cmp_range(const void *a, const void *b)
{
        const SnapshotRange *x = a, *y = b;
        return x->off < y->off ? -1 : x->off > y->off;
}

/* Every piece has bytes of its own: the writer never shares them, so a file whose pieces
 * overlap is not one it wrote. */
static int check_disjoint(Check *k, const Snapshot *s, const SnapshotBodies *b)
{
        size_t n = 0;
        _cleanup_free_ SnapshotRange *r = calloc(b->n_views * 15 + 3, sizeof(*r));
        if (!r)
                return -ENOMEM;
#define ADD(o, l)                                           \
        do {                                                \
                if ((l) > 0)                                \
                        r[n++] = (SnapshotRange){(o), (l)}; \
        } while (0)
        for (size_t i = 0; i < b->n_views; i++) {
                const SnapshotBodyView *v = &b->views[i];
                uint64_t offsets = ((uint64_t)s->views[i].n_rows + 1) * 4;
                const SnapshotBodyDoc *d[3] = {&v->json, &v->mp, &v->csv};
                for (int j = 0; j < 3; j++) {
                        ADD(d[j]->full.off, d[j]->full.len);
                        ADD(d[j]->gzip.off, d[j]->gzip.len);
                        ADD(d[j]->row_prefix.off, d[j]->row_prefix.len);
                        ADD(d[j]->row_offsets, offsets);
                }
                ADD(v->index.slots, v->index.n_slots * 4);
                ADD(v->index.keys.off, v->index.keys.len);
                ADD(v->index.key_offsets, offsets);
        }
        ADD(b->views_json.off, b->views_json.len);
        ADD(b->views_json_gzip.off, b->views_json_gzip.len);
        ADD(b->views_mp.off, b->views_mp.len);
#undef ADD
        qsort(r, n, sizeof(*r), cmp_range);
        for (size_t i = 1; i < n; i++)
                if (r[i - 1].off + r[i - 1].len > r[i].off) /* each fits: no overflow */
                        return bad(k, "pieces at %" PRIu64 " and %" PRIu64 " overlap", r[i - 1].off,
                                   r[i].off);
        return 0;
}

int snapshot_bodies_parse(MpCursor *c, const Snapshot *s, const void *base, size_t len,
                          SnapshotBodies **ret, char *reason, size_t reason_size)
{
        Check k = {.c = c, .base = base, .len = len, .reason = reason, .reason_size = reason_size};
        SnapshotBodies *b = arena_new0(s->arena, SnapshotBodies, 1);
        if (!b)
                return -ENOMEM;
        b->base = base;
        b->len = len;
        static const char *const names[] = {"views", "views_list"};
        MpMembers m;
        unsigned f;
        if (mp_members_begin(&m, c, names, ELEMENTSOF(names), SNAPSHOT_MAX_DEPTH) < 0)
                return bad(&k, "serve: expected a map");
        int r;
        while ((r = mp_members_next(&m, &f)) > 0) {
                if (m.repeat) /* skipped as an unknown member is */
                        r = mp_skip(c, SNAPSHOT_MAX_DEPTH) < 0 ? bad(&k, "malformed value") : 0;
                else if (f == 0) {
                        uint32_t n;
                        if (mp_read_array(c, &n) < 0 || n != s->n_views)
                                return bad(&k, "serve: expected one entry per view (%zu)",
                                           s->n_views);
                        b->views = arena_new0(s->arena, SnapshotBodyView, n);
                        if (!b->views && n)
                                return -ENOMEM;
                        b->n_views = n;
                        for (uint32_t j = 0; j < n && r >= 0; j++)
                                r = parse_view(&k, &s->views[j], &b->views[j]);
                } else
                        r = parse_views_list(&k, b);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return bad(&k, "%s",
                           m.fault == MP_MEMBERS_KEY_NOT_STR ? "serve: map key is not a string"
                                                             : "malformed value");
        if (!mp_members_all_seen(&m))
                return bad(&k, "serve: views and views_list are required");
        r = check_disjoint(&k, s, b);
        if (r < 0)
                return r;
        *ret = b;
        return 0;
}

/* ---- writer ---- */

/* Every pack result is kept: msgpack-c reports a failed allocation only there. */
static int pack_key(msgpack_packer *pk, const char *k)
{
        return msgpack_pack_str_with_body(pk, k, strlen(k));
}

static int pack_range(msgpack_packer *pk, const char *k, SnapshotRange r, bool optional)
{
        int e = pack_key(pk, k);
        if (optional && r.len == 0)
                return e | msgpack_pack_nil(pk);
        e |= msgpack_pack_array(pk, 2);
        e |= msgpack_pack_uint64(pk, r.off);
        return e | msgpack_pack_uint64(pk, r.len);
}

static int pack_doc(msgpack_packer *pk, const char *k, const SnapshotBodyDoc *d)
{
        int e = pack_key(pk, k);
        e |= msgpack_pack_map(pk, 7);
        e |= pack_range(pk, "full", d->full, false);
        e |= pack_key(pk, "head");
        e |= msgpack_pack_uint64(pk, d->head_len);
        e |= pack_key(pk, "head_cols");
        e |= msgpack_pack_uint64(pk, d->head_cols_len);
        e |= pack_key(pk, "rows");
        e |= msgpack_pack_uint64(pk, d->rows);
        e |= pack_range(pk, "gzip", d->gzip, true);
        e |= pack_range(pk, "row_prefix", d->row_prefix, false);
        e |= pack_key(pk, "row_offsets");
        return e | msgpack_pack_uint64(pk, d->row_offsets);
}

static int pack_directory(msgpack_packer *pk, const SnapshotBodies *dir)
{
        int e = msgpack_pack_map(pk, 2);
        e |= pack_key(pk, "views");
        e |= msgpack_pack_array(pk, dir->n_views);
        for (size_t i = 0; i < dir->n_views; i++) {
                const SnapshotBodyView *v = &dir->views[i];
                e |= msgpack_pack_map(pk, 4);
                e |= pack_doc(pk, "json", &v->json);
                e |= pack_doc(pk, "msgpack", &v->mp);
                e |= pack_doc(pk, "csv", &v->csv);
                e |= pack_key(pk, "index");
                e |= msgpack_pack_map(pk, 3);
                e |= pack_key(pk, "slots");
                e |= msgpack_pack_array(pk, 2);
                e |= msgpack_pack_uint64(pk, v->index.slots);
                e |= msgpack_pack_uint64(pk, v->index.n_slots);
                e |= pack_range(pk, "keys", v->index.keys, false);
                e |= pack_key(pk, "key_offsets");
                e |= msgpack_pack_uint64(pk, v->index.key_offsets);
        }
        e |= pack_key(pk, "views_list");
        e |= msgpack_pack_map(pk, 3);
        e |= pack_range(pk, "json", dir->views_json, false);
        e |= pack_range(pk, "json_gzip", dir->views_json_gzip, true);
        return e | pack_range(pk, "msgpack", dir->views_mp, false);
}

static void put_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

/* The envelope head of a v2 file: fixarray(4), fixstr "tally.snapshot", 2, bin32. */
#define V2_HEAD_BYTES (1 + 1 + sizeof(SNAPSHOT_FORMAT_NAME) - 1 + 1 + 5)

int snapshot_bodies_encode(const void *v1, size_t v1_len, const SnapshotBodies *dir,
                           const void *bodies, size_t bodies_len, void **ret, size_t *ret_len)
{
        /* the v1 payload and its map header */
        uint32_t payload_len, members;
        const void *payload;
        uint64_t version;
        if (snapshot_envelope_payload(v1, v1_len, &version, &payload, &payload_len) < 0 ||
            version != SNAPSHOT_FORMAT_VERSION)
                return -EINVAL;
        MpCursor pc;
        mp_cursor_init(&pc, payload, payload_len);
        if (mp_read_map(&pc, &members) < 0 || members > UINT32_MAX - 3)
                return -EINVAL;
        size_t members_len = mp_left(&pc);

        msgpack_sbuffer head;
        msgpack_sbuffer_init(&head);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &head, msgpack_sbuffer_write);
        int e = msgpack_pack_map(&pk, members + 3);
        e |= msgpack_sbuffer_write(&head, (const char *)pc.p, members_len);
        e |= pack_key(&pk, "serve");
        e |= pack_directory(&pk, dir);
        e |= pack_key(&pk, "pad");
        if (e != 0 || !head.data) {
                msgpack_sbuffer_destroy(&head);
                return -ENOMEM;
        }
        /* then: bin32 header, pad zeros, "bodies" (fixstr 6), bin32 header, bodies */
        size_t before = V2_HEAD_BYTES + head.size + 5;
        size_t after_pad = 1 + 6 + 5;
        size_t pad = (SNAPSHOT_BODIES_ALIGN - (before + after_pad) % SNAPSHOT_BODIES_ALIGN) %
                     SNAPSHOT_BODIES_ALIGN;
        size_t plen = head.size + 5 + pad + after_pad + bodies_len;
        if (plen > UINT32_MAX || bodies_len > UINT32_MAX) {
                msgpack_sbuffer_destroy(&head);
                return -EFBIG;
        }
        size_t total = V2_HEAD_BYTES + plen + 9;
        uint8_t *f = malloc(total);
        if (!f) {
                msgpack_sbuffer_destroy(&head);
                return -ENOMEM;
        }
        uint8_t *p = f;
        *p++ = 0x94;
        *p++ = (uint8_t)(0xa0 | (sizeof(SNAPSHOT_FORMAT_NAME) - 1));
        memcpy(p, SNAPSHOT_FORMAT_NAME, sizeof(SNAPSHOT_FORMAT_NAME) - 1);
        p += sizeof(SNAPSHOT_FORMAT_NAME) - 1;
        *p++ = SNAPSHOT_FORMAT_VERSION_BODIES;
        *p++ = 0xc6;
        put_be32(p, (uint32_t)plen);
        p += 4;
        uint8_t *pl = p;
        memcpy(p, head.data, head.size);
        p += head.size;
        msgpack_sbuffer_destroy(&head);
        *p++ = 0xc6;
        put_be32(p, (uint32_t)pad);
        p += 4;
        memset(p, 0, pad);
        p += pad;
        *p++ = 0xa6;
        memcpy(p, "bodies", 6);
        p += 6;
        *p++ = 0xc6;
        put_be32(p, (uint32_t)bodies_len);
        p += 4;
        if (bodies_len)
                memcpy(p, bodies, bodies_len);
        p += bodies_len;
        uint64_t sum = XXH3_64bits(pl, plen);
        *p++ = 0xcf;
        for (int i = 0; i < 8; i++)
                *p++ = (uint8_t)(sum >> (56 - 8 * i));
        *ret = f;
        *ret_len = total;
        return 0;
}
