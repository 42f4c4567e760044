#include "rowindex.h"

#include <xxhash.h>

#include "coop.h"
#include "doc.h"

static void put_u32le(char *p, uint32_t v)
{
        p[0] = (char)v;
        p[1] = (char)(v >> 8);
        p[2] = (char)(v >> 16);
        p[3] = (char)(v >> 24);
}

static uint64_t key_hash(const char *p, size_t n)
{
        return XXH3_64bits(p, n);
}

/* Keys are the key cells' text, each as a 4-byte length and the bytes, so "a/b" + "c" and
 * "a" + "b/c" differ; requests spell the same bytes from their decoded path segments. */
int row_index_build(Arena *a, const SnapshotView *v, RowIndex *out)
{
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        out->n_rows = v->n_rows;
        out->n_keys = v->n_keys;
        out->key_off = arena_alloc(a, (v->n_rows + 1) * sizeof(uint32_t), _Alignof(uint32_t));
        /* load factor between 3/8 and 3/4: short probes, small table */
        size_t slots = 16;
        while (slots * 3 < v->n_rows * 4)
                slots *= 2;
        out->slots = arena_alloc0(a, slots * sizeof(uint32_t), _Alignof(uint32_t));
        if (!out->key_off || !out->slots)
                return -ENOMEM;
        out->mask = (uint32_t)(slots - 1);
        for (size_t r = 0; r < v->n_rows; r++) {
                const Value *row = snapshot_view_row(v, r);
                if (b.len > UINT32_MAX)
                        return -EFBIG;
                out->key_off[r] = (uint32_t)b.len;
                for (size_t k = 0; k < v->n_keys; k++) {
                        char t[64], len4[4];
                        const char *p = t;
                        size_t n;
                        if (row[k].type == VALUE_STR) {
                                p = row[k].s;
                                n = row[k].len;
                        } else
                                n = format_value_text(t, sizeof(t), &row[k]);
                        put_u32le(len4, (uint32_t)n);
                        buf_put(&b, len4, 4);
                        buf_put(&b, p, n);
                }
        }
        out->key_off[v->n_rows] = (uint32_t)b.len;
        if (!buf_ok(&b))
                return -ENOMEM;
        char *keys = arena_alloc(a, b.len, 1);
        if (!keys && b.len)
                return -ENOMEM;
        if (b.len)
                memcpy(keys, b.data, b.len);
        out->keys = keys;
        for (size_t row = 0; row < v->n_rows; row++) {
                const char *k = out->keys + out->key_off[row];
                size_t n = out->key_off[row + 1] - out->key_off[row];
                uint32_t i = (uint32_t)key_hash(k, n) & out->mask;
                bool dup = false;
                while (out->slots[i]) {
                        uint32_t o = out->slots[i] - 1;
                        if (out->key_off[o + 1] - out->key_off[o] == n &&
                            memcmp(out->keys + out->key_off[o], k, n) == 0) {
                                dup = true; /* first row with a key wins */
                                break;
                        }
                        i = (i + 1) & out->mask;
                }
                if (!dup)
                        out->slots[i] = (uint32_t)row + 1;
        }
        return row_index_probe(a, out);
}

int row_index_probe(Arena *a, RowIndex *ix)
{
        size_t n = (size_t)ix->mask + 1;
        RowProbe *probe = arena_alloc0(a, n * sizeof(*probe), _Alignof(RowProbe));
        if (!probe)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (i % 4096 == 0)
                        coop_point();
                if (ix->slots[i]) {
                        uint32_t o = ix->slots[i] - 1;
                        uint32_t off = ix->key_off[o], len = ix->key_off[o + 1] - off;
                        probe[i] =
                            (RowProbe){.row1 = ix->slots[i],
                                       .hash = (uint32_t)(key_hash(ix->keys + off, len) >> 32),
                                       .key_off = off,
                                       .key_len = len};
                }
        }
        ix->probe = probe;
        return 0;
}

ssize_t row_index_find(const RowIndex *v, const char *const *keys, const size_t *lens, size_t n)
{
        if (n != v->n_keys || v->n_rows == 0)
                return -ENOENT;
        char blob[16384];
        size_t len = 0;
        for (size_t k = 0; k < n; k++) {
                if (lens[k] > sizeof(blob) - 4 - len)
                        return -ENOENT;
                put_u32le(blob + len, (uint32_t)lens[k]);
                memcpy(blob + len + 4, keys[k], lens[k]);
                len += 4 + lens[k];
        }
        uint64_t h = key_hash(blob, len);
        uint32_t i = (uint32_t)h & v->mask;
        if (v->probe) {
                uint32_t t = (uint32_t)(h >> 32);
                for (const RowProbe *p; (p = &v->probe[i])->row1; i = (i + 1) & v->mask)
                        if (p->hash == t && p->key_len == len &&
                            memcmp(v->keys + p->key_off, blob, len) == 0)
                                return p->row1 - 1;
                return -ENOENT;
        }
        while (v->slots[i]) {
                uint32_t o = v->slots[i] - 1;
                if (v->key_off[o + 1] - v->key_off[o] == len &&
                    memcmp(v->keys + v->key_off[o], blob, len) == 0)
                        return o;
                i = (i + 1) & v->mask;
        }
        return -ENOENT;
}
