#include "prerender.h"

#include <sys/mman.h>

#include "render.h"
#include "snapshot_bodies.h"
#include "snapshot_read.h"

/* ---- worker: a Served laid out as bodies ---- */

static SnapshotRange put(Buf *b, const void *p, size_t len)
{
        SnapshotRange r = {b->len, len};
        buf_put(b, p, len);
        return r;
}

static SnapshotRange put_piece(Buf *b, Piece p)
{
        return p.p ? put(b, p.p, p.len) : (SnapshotRange){0, 0};
}

/* n uint32 little-endian at a 4-aligned offset; the offset. */
static uint64_t put_u32s(Buf *b, const uint32_t *v, size_t n)
{
        static const char zero[4];
        buf_put(b, zero, (4 - b->len % 4) % 4);
        uint64_t off = b->len;
        if (!buf_reserve(b, n * 4))
                return off;
        for (size_t i = 0; i < n; i++) {
                uint8_t *p = (uint8_t *)b->data + b->len + 4 * i;
                p[0] = (uint8_t)v[i];
                p[1] = (uint8_t)(v[i] >> 8);
                p[2] = (uint8_t)(v[i] >> 16);
                p[3] = (uint8_t)(v[i] >> 24);
        }
        b->len += n * 4;
        return off;
}

static void put_doc(Buf *b, const ViewBodies *vb, size_t n_rows, SnapshotBodyDoc *d)
{
        d->full = put_piece(b, vb->full);
        d->head_len = vb->head.len;
        d->head_cols_len = vb->head_cols.len;
        d->rows = (uint64_t)(vb->rows - vb->full.p);
        d->gzip = put_piece(b, vb->full_gz);
        d->row_prefix = put_piece(b, vb->row_prefix);
        d->row_offsets = put_u32s(b, vb->off, n_rows + 1);
}

int prerender_transform(const void *v1, size_t len, void **ret, size_t *ret_len)
{
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        int r = snapshot_read_buffer(v1, len, &s, NULL, 0);
        if (r < 0)
                return r == -ENOMEM ? r : -EINVAL; /* our own writer's output: a bug */
        _cleanup_(served_unrefp) Served *sv = NULL;
        r = served_new(s, &sv);
        if (r < 0)
                return r;
        _cleanup_free_ SnapshotBodyView *views = calloc(MAX(s->n_views, (size_t)1), sizeof(*views));
        if (!views)
                return -ENOMEM;
        _cleanup_(buf_donep) Buf b;
        buf_init_mapped(&b);
        SnapshotBodies dir = {.n_views = s->n_views, .views = views};
        for (size_t i = 0; i < sv->n_views; i++) {
                const ServedView *v = &sv->views[i];
                put_doc(&b, &v->json, v->n_rows, &views[i].json);
                put_doc(&b, &v->mp, v->n_rows, &views[i].mp);
                put_doc(&b, &v->csv, v->n_rows, &views[i].csv);
                SnapshotBodyIndex *ix = &views[i].index;
                ix->n_slots = (uint64_t)v->index.mask + 1;
                ix->slots = put_u32s(&b, v->index.slots, ix->n_slots);
                ix->keys = put(&b, v->index.keys, v->index.key_off[v->n_rows]);
                ix->key_offsets = put_u32s(&b, v->index.key_off, v->n_rows + 1);
        }
        dir.views_json = put_piece(&b, sv->views_json);
        dir.views_json_gzip = put_piece(&b, sv->views_json_gz);
        dir.views_mp = put_piece(&b, sv->views_mp);
        if (!buf_ok(&b))
                return -ENOMEM;
        return snapshot_bodies_encode(v1, len, &dir, b.data, b.len, ret, ret_len);
}

/* ---- tallyd: a Served over the file image ---- */

static Piece at(const SnapshotBodies *b, SnapshotRange r)
{
        return r.len ? (Piece){(const char *)b->base + r.off, r.len} : (Piece){NULL, 0};
}

static void adopt_doc(const SnapshotBodies *b, const SnapshotBodyDoc *d, unsigned sep,
                      ViewBodies *out)
{
        out->full = at(b, d->full);
        if (!out->full.p)
                out->full.p = (const char *)b->base + d->full.off;
        out->head = (Piece){out->full.p, d->head_len};
        out->head_cols = (Piece){out->full.p, d->head_cols_len};
        out->full_gz = at(b, d->gzip);
        out->row_prefix = at(b, d->row_prefix);
        out->rows = out->full.p + d->rows;
        /* validated: inside the bodies and 4-aligned (little-endian hosts only, see below) */
        out->off = (uint32_t *)(uintptr_t)(b->base + d->row_offsets);
        out->sep = sep;
}

int prerender_adopt(Served *sv, const Snapshot *s, void *image, size_t image_size)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
        return -EPROTONOSUPPORT; /* the arrays are little-endian; the caller renders instead */
#endif
        const SnapshotBodies *b = s->bodies;
        if (!b || b->n_views != sv->n_views)
                return -EINVAL;
        for (size_t i = 0; i < sv->n_views; i++) {
                const SnapshotBodyView *bv = &b->views[i];
                ServedView *v = &sv->views[i];
                adopt_doc(b, &bv->json, 1, &v->json);
                adopt_doc(b, &bv->mp, 0, &v->mp);
                adopt_doc(b, &bv->csv, 0, &v->csv);
                v->index = (RowIndex){
                    .n_rows = v->n_rows,
                    .n_keys = v->n_keys,
                    .slots = (uint32_t *)(uintptr_t)(b->base + bv->index.slots),
                    .mask = (uint32_t)(bv->index.n_slots - 1),
                    .keys = (const char *)b->base + bv->index.keys.off,
                    .key_off = (uint32_t *)(uintptr_t)(b->base + bv->index.key_offsets),
                };
                int r = row_index_probe(sv->arena, &v->index);
                if (r < 0)
                        return r;
        }
        sv->views_json = at(b, b->views_json);
        sv->views_json_gz = at(b, b->views_json_gzip);
        sv->views_mp = at(b, b->views_mp);
        render_validators(sv, s);
        int r = render_info(sv, s);
        if (r < 0)
                return r;
        /* Keep the pages from the bodies on: the rows before them are never read again. */
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        size_t trim = (size_t)((const uint8_t *)b->base - (const uint8_t *)image) & ~(pg - 1);
        Buf keep = {.data = (char *)image + trim,
                    .len = image_size - trim,
                    .cap = image_size - trim,
                    .mapped = true};
        Piece kept;
        r = served_keep_mapping(sv, &keep, &kept);
        if (r < 0)
                return r;
        if (trim)
                munmap(image, trim);
        /* served bytes are never written: a stray write faults instead of serving it */
        (void)mprotect((void *)kept.p, kept.len, PROT_READ);
        return 0;
}
