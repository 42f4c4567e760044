#include "served.h"

#include <libdeflate.h>
#include <sys/mman.h>
#include <time.h>
#include <xxhash.h>

#include "doc.h"
#include "timeparse.h"

/* Large bodies are compressed once per snapshot, in the background, with libdeflate:
 * whole-buffer compression at level 2 is about twice as fast as zlib's level 4 and a
 * little smaller on these bodies (4.8 MB of JSON: 25 ms, 829 kB against 47 ms, 879 kB),
 * which shortens every reload. */
#define GZIP_LEVEL 2

static atomic_uint live;

unsigned served_live(void)
{
        return live;
}

static int arena_piece(Arena *a, const Buf *b, size_t from, size_t to, Piece *ret)
{
        char *p = arena_alloc(a, to - from, 1);
        if (!p)
                return -ENOMEM;
        memcpy(p, b->data + from, to - from);
        *ret = (Piece){p, to - from};
        return 0;
}

/* Keeps a rendered mapped Buf as part of sv; *ret covers its data. */
static int adopt(Served *sv, Buf *b, Piece *ret)
{
        if (sv->n_maps == sv->max_maps)
                return -ENOBUFS;
        size_t len = b->len;
        void *p;
        size_t size;
        int r = buf_take_mapping(b, &p, &size);
        if (r < 0)
                return r;
        sv->maps[sv->n_maps++] = (ServedMapping){p, size};
        *ret = (Piece){p, len};
        return 0;
}

static int gzip_piece(Served *sv, Piece in, Piece *ret)
{
        *ret = (Piece){NULL, 0};
        if (in.len < SERVED_GZIP_MIN)
                return 0;
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(GZIP_LEVEL);
        if (!c)
                return -ENOMEM;
        size_t bound = libdeflate_gzip_compress_bound(c, in.len);
        _cleanup_(buf_donep) Buf out;
        buf_init_mapped(&out);
        if (!buf_reserve(&out, bound)) {
                libdeflate_free_compressor(c);
                return -ENOMEM;
        }
        out.len = libdeflate_gzip_compress(c, in.p, in.len, out.data, bound);
        libdeflate_free_compressor(c);
        if (out.len == 0)
                return -EIO; /* cannot happen with a bound-sized buffer */
        return adopt(sv, &out, ret);
}

/* The view document: {"view","generation","keys","columns","total_rows","offset","limit",
 * "rows"}, rendered whole with offset 0 and limit = all rows. */
static int render_view(Served *sv, const Snapshot *s, const SnapshotView *v, DocFormat fmt,
                       ViewBodies *out)
{
        Arena *a = sv->arena;
        _cleanup_(buf_donep) Buf b;
        buf_init_mapped(&b);
        /* a row takes about as much as in the file; start there, grow if needed */
        if (!buf_reserve(&b, (size_t)MIN(s->file_bytes * 2, (uint64_t)SIZE_MAX / 4)))
                return -ENOMEM;
        Doc d;
        doc_init(&d, &b, fmt);
        doc_map(&d, 8);
        doc_key(&d, "view");
        doc_cstr(&d, v->name);
        doc_key(&d, "generation");
        doc_uint(&d, s->generation);
        doc_key(&d, "keys");
        doc_array(&d, (uint32_t)v->n_keys);
        for (size_t i = 0; i < v->n_keys; i++)
                doc_cstr(&d, v->columns[i].name);
        doc_end(&d);
        doc_key(&d, "columns");
        doc_array(&d, (uint32_t)v->n_columns);
        for (size_t i = 0; i < v->n_columns; i++) {
                doc_map(&d, 2);
                doc_key(&d, "name");
                doc_cstr(&d, v->columns[i].name);
                doc_key(&d, "type");
                doc_cstr(&d, value_type_to_string(v->columns[i].type));
                doc_end(&d);
        }
        doc_end(&d);
        doc_key(&d, "total_rows");
        doc_uint(&d, v->n_rows);
        /* JSON's head carries the ',' that the next member writes */
        size_t head_len = b.len + (fmt == DOC_JSON);
        doc_key(&d, "offset");
        doc_uint(&d, 0);
        doc_key(&d, "limit");
        doc_uint(&d, v->n_rows);
        doc_key(&d, "rows");
        doc_array(&d, (uint32_t)v->n_rows);
        size_t rows_start = b.len;
        out->sep = fmt == DOC_JSON ? 1 : 0;
        out->off = arena_alloc(a, (v->n_rows + 1) * sizeof(uint32_t), _Alignof(uint32_t));
        if (!out->off)
                return -ENOMEM;
        for (size_t r = 0; r < v->n_rows; r++) {
                const Value *row = snapshot_view_row(v, r);
                size_t start = b.len + (fmt == DOC_JSON && r > 0);
                if (start - rows_start > UINT32_MAX)
                        return -EFBIG;
                out->off[r] = (uint32_t)(start - rows_start);
                /* JSON rows are objects (the API's shape); msgpack rows are arrays in
                 * "columns" order, which halves the body that every snapshot keeps */
                if (fmt == DOC_JSON) {
                        doc_map(&d, (uint32_t)v->n_columns);
                        for (size_t c = 0; c < v->n_columns; c++) {
                                doc_key(&d, v->columns[c].name);
                                doc_value(&d, &row[c]);
                        }
                } else {
                        doc_array(&d, (uint32_t)v->n_columns);
                        for (size_t c = 0; c < v->n_columns; c++)
                                doc_value(&d, &row[c]);
                }
                doc_end(&d);
                if (!buf_ok(&b))
                        return -ENOMEM;
        }
        if (b.len + out->sep - rows_start > UINT32_MAX)
                return -EFBIG;
        out->off[v->n_rows] = (uint32_t)(b.len + out->sep - rows_start);
        doc_end(&d);
        doc_end(&d);
        if (!buf_ok(&b))
                return -ENOMEM;
        int r = adopt(sv, &b, &out->full);
        if (r < 0)
                return r;
        out->head = (Piece){out->full.p, head_len};
        out->rows = out->full.p + rows_start;
        if (fmt == DOC_JSON) {
                r = gzip_piece(sv, out->full, &out->full_gz);
                if (r < 0)
                        return r;
        }

        /* The single-row document is this prefix, one row, and "}" in JSON. */
        _cleanup_(buf_donep) Buf pb = BUF_NULL;
        doc_init(&d, &pb, fmt);
        doc_map(&d, 3);
        doc_key(&d, "view");
        doc_cstr(&d, v->name);
        doc_key(&d, "generation");
        doc_uint(&d, s->generation);
        doc_key(&d, "row");
        if (!buf_ok(&pb))
                return -ENOMEM;
        return arena_piece(a, &pb, 0, pb.len, &out->row_prefix);
}

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
static int build_index(Arena *a, const SnapshotView *v, ServedView *out)
{
        _cleanup_(buf_donep) Buf b = BUF_NULL;
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
        Piece keys;
        int r = arena_piece(a, &b, 0, b.len, &keys);
        if (r < 0)
                return r;
        out->keys = keys.p;
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
        return 0;
}

ssize_t served_find_row(const ServedView *v, const char *const *keys, const size_t *lens, size_t n)
{
        if (n != v->n_keys || v->n_rows == 0)
                return -1;
        char blob[16384];
        size_t len = 0;
        for (size_t k = 0; k < n; k++) {
                if (lens[k] > sizeof(blob) - 4 - len)
                        return -1;
                put_u32le(blob + len, (uint32_t)lens[k]);
                memcpy(blob + len + 4, keys[k], lens[k]);
                len += 4 + lens[k];
        }
        uint32_t i = (uint32_t)key_hash(blob, len) & v->mask;
        while (v->slots[i]) {
                uint32_t o = v->slots[i] - 1;
                if (v->key_off[o + 1] - v->key_off[o] == len &&
                    memcmp(v->keys + v->key_off[o], blob, len) == 0)
                        return o;
                i = (i + 1) & v->mask;
        }
        return -1;
}

static int render_views_list(Arena *a, const Snapshot *s, DocFormat fmt, Piece *out)
{
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, fmt);
        doc_map(&d, 2);
        doc_key(&d, "generation");
        doc_uint(&d, s->generation);
        doc_key(&d, "views");
        doc_array(&d, (uint32_t)s->n_views);
        for (size_t i = 0; i < s->n_views; i++) {
                const SnapshotView *v = &s->views[i];
                doc_map(&d, 4);
                doc_key(&d, "name");
                doc_cstr(&d, v->name);
                doc_key(&d, "rows");
                doc_uint(&d, v->n_rows);
                doc_key(&d, "keys");
                doc_array(&d, (uint32_t)v->n_keys);
                for (size_t k = 0; k < v->n_keys; k++)
                        doc_cstr(&d, v->columns[k].name);
                doc_end(&d);
                doc_key(&d, "columns");
                doc_uint(&d, v->n_columns);
                doc_end(&d);
        }
        doc_end(&d);
        doc_end(&d);
        if (!buf_ok(&b))
                return -ENOMEM;
        return arena_piece(a, &b, 0, b.len, out);
}

/* /v1/snapshot minus age_seconds: a placeholder age splits it into head and tail. */
static int render_snapshot_info(Arena *a, const Snapshot *s, DocFormat fmt, Piece *head,
                                Piece *tail)
{
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        Doc d;
        char created[48];
        format_time_rfc3339(created, sizeof(created), s->created_usec);
        doc_init(&d, &b, fmt);
        doc_map(&d, 7);
        doc_key(&d, "generation");
        doc_uint(&d, s->generation);
        doc_key(&d, "created");
        doc_cstr(&d, created);
        doc_key(&d, "age_seconds");
        size_t head_len = b.len;
        doc_uint(&d, 0);
        size_t tail_start = b.len;
        doc_key(&d, "worker");
        doc_map(&d, s->stats.has_usage ? 7 : 4);
        doc_key(&d, "rows_read");
        doc_uint(&d, s->stats.rows_read);
        doc_key(&d, "rows_rejected");
        doc_uint(&d, s->stats.rows_rejected);
        doc_key(&d, "duration_ms");
        doc_uint(&d, s->stats.duration_ms);
        doc_key(&d, "host");
        doc_cstr(&d, s->stats.host ? s->stats.host : "");
        if (s->stats.has_usage) {
                doc_key(&d, "peak_rss_kib");
                doc_uint(&d, s->stats.peak_rss_kib);
                doc_key(&d, "cpu_ms");
                doc_uint(&d, s->stats.cpu_ms);
                doc_key(&d, "wall_ms");
                doc_uint(&d, s->stats.wall_ms);
        }
        doc_end(&d);
        doc_key(&d, "sources");
        doc_array(&d, (uint32_t)s->n_sources);
        for (size_t i = 0; i < s->n_sources; i++) {
                const SnapshotSource *src = &s->sources[i];
                doc_map(&d, 5);
                doc_key(&d, "name");
                doc_cstr(&d, src->name);
                doc_key(&d, "type");
                doc_cstr(&d, src->type ? src->type : "");
                doc_key(&d, "files");
                doc_uint(&d, src->files);
                doc_key(&d, "rows_read");
                doc_uint(&d, src->rows_read);
                doc_key(&d, "rows_rejected");
                doc_uint(&d, src->rows_rejected);
                doc_end(&d);
        }
        doc_end(&d);
        doc_key(&d, "file_bytes");
        doc_uint(&d, s->file_bytes);
        doc_key(&d, "views");
        doc_uint(&d, s->n_views);
        doc_end(&d);
        if (!buf_ok(&b))
                return -ENOMEM;
        int r = arena_piece(a, &b, 0, head_len, head);
        if (r < 0)
                return r;
        return arena_piece(a, &b, tail_start, b.len, tail);
}

static void format_http_date(char *buf, size_t n, int64_t usec)
{
        time_t t = (time_t)(usec / (int64_t)USEC_PER_SEC);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
                strcpy_checked(buf, n, "Thu, 01 Jan 1970 00:00:00 GMT");
}

static void (*_Atomic retire_hook)(Served *sv, void *userdata);
static void *_Atomic retire_userdata;

void served_set_retire_hook(void (*hook)(Served *sv, void *userdata), void *userdata)
{
        retire_userdata = userdata;
        retire_hook = hook;
}

void served_release(Served *sv)
{
        for (size_t i = 0; i < sv->n_maps; i++)
                munmap(sv->maps[i].p, sv->maps[i].size);
        arena_free(sv->arena); /* sv lives in its own arena */
}

static inline void served_releasep(Served **sv)
{
        if (*sv)
                served_release(*sv);
}

int served_new(const Snapshot *s, Served **ret)
{
        uint64_t t0 = now_monotonic_usec();
        Arena *a = NULL;
        int r = arena_new(&a);
        if (r < 0)
                return r;
        _cleanup_(served_releasep) Served *sv = arena_new0(a, Served, 1);
        if (!sv) {
                arena_free(a);
                return -ENOMEM;
        }
        sv->arena = a;
        sv->max_maps = 3 * s->n_views + 1;
        sv->maps = arena_new0(a, ServedMapping, sv->max_maps);
        if (!sv->maps)
                return -ENOMEM;
        sv->generation = s->generation;
        sv->created_usec = s->created_usec;
        sv->file_bytes = s->file_bytes;
        sv->stats = s->stats; /* the status page's run record; host copied below */
        sv->stats.host = arena_strndup(a, s->stats.host ? s->stats.host : "",
                                       s->stats.host ? strlen(s->stats.host) : 0);
        format_http_date(sv->last_modified, sizeof(sv->last_modified), s->created_usec);
        snprintf(sv->etag_views, sizeof(sv->etag_views), "W/\"%llu\"",
                 (unsigned long long)s->generation);
        sv->views = arena_new0(a, ServedView, s->n_views);
        if (!sv->views && s->n_views)
                return -ENOMEM;
        sv->n_views = s->n_views;
        for (size_t i = 0; i < s->n_views; i++) {
                const SnapshotView *v = &s->views[i];
                ServedView *out = &sv->views[i];
                out->name = arena_strndup(a, v->name, strlen(v->name));
                if (!out->name)
                        return -ENOMEM;
                out->name_len = strlen(v->name);
                out->n_rows = v->n_rows;
                out->n_keys = v->n_keys;
                sv->total_rows += v->n_rows;
                snprintf(out->etag, sizeof(out->etag), "W/\"%llu-%zu\"",
                         (unsigned long long)s->generation, i);
                r = render_view(sv, s, v, DOC_JSON, &out->json);
                if (r < 0)
                        return r;
                r = render_view(sv, s, v, DOC_MSGPACK, &out->mp);
                if (r < 0)
                        return r;
                r = build_index(a, v, out);
                if (r < 0)
                        return r;
        }
        r = render_views_list(a, s, DOC_JSON, &sv->views_json);
        if (r < 0)
                return r;
        r = gzip_piece(sv, sv->views_json, &sv->views_json_gz);
        if (r < 0)
                return r;
        r = render_views_list(a, s, DOC_MSGPACK, &sv->views_mp);
        if (r < 0)
                return r;
        r = render_snapshot_info(a, s, DOC_JSON, &sv->snap_json_head, &sv->snap_json_tail);
        if (r < 0)
                return r;
        r = render_snapshot_info(a, s, DOC_MSGPACK, &sv->snap_mp_head, &sv->snap_mp_tail);
        if (r < 0)
                return r;
        atomic_init(&sv->refs, 1);
        sv->prepare_usec = now_monotonic_usec() - t0;
        live++;
        *ret = TAKE_PTR(sv);
        return 0;
}

Served *served_ref(Served *sv)
{
        if (sv)
                atomic_fetch_add_explicit(&sv->refs, 1, memory_order_relaxed);
        return sv;
}

void served_unref(Served *sv)
{
        if (!sv)
                return;
        if (atomic_fetch_sub_explicit(&sv->refs, 1, memory_order_acq_rel) != 1)
                return;
        live--;
        void (*hook)(Served *, void *) = retire_hook;
        if (hook)
                hook(sv, retire_userdata);
        else
                served_release(sv);
}

void served_unref_cb(const void *data, size_t len, void *sv)
{
        served_unref(sv);
}

const ServedView *served_find_view(const Served *sv, const char *name, size_t len)
{
        for (size_t i = 0; i < sv->n_views; i++)
                if (sv->views[i].name_len == len && memcmp(sv->views[i].name, name, len) == 0)
                        return &sv->views[i];
        return NULL;
}
