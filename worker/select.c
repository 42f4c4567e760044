/* Views without aggregation; see select.h. */
#include "select.h"

#include <inttypes.h>

#include "key.h"

#define CHUNK_BYTES (1u << 20)

/* One kept row: its header, then key bytes, then value bytes. */
typedef struct SelRow {
        uint64_t seq; /* place in the shard's input (one shard when order matters) */
        int64_t ts;   /* the window column's time, INT64_MIN without a window */
        uint32_t key_len, val_len;
        char data[];
} SelRow;

typedef struct Chunk {
        struct Chunk *next;
        size_t used, cap;
        char data[];
} Chunk;

struct SelectRows {
        Chunk *chunks; /* newest first */
        SelRow **rows;
        size_t n, cap;
        uint64_t bytes; /* kept, as the snapshot will roughly hold them */
        bool too_large;
        uint64_t seq;
        int64_t cutoff;     /* rows older than this are out of the window */
        SelectRows *merged; /* sources merged in: freed with this one */
};

SelectRows *select_rows_free(SelectRows *sr)
{
        while (sr) {
                for (Chunk *c = sr->chunks, *next; c; c = next) {
                        next = c->next;
                        free(c);
                }
                free(sr->rows);
                SelectRows *m = sr->merged;
                free(sr);
                sr = m;
        }
        return NULL;
}

static size_t encode_columns(char *buf, const int *cols, size_t n, const Value *row)
{
        ViewConfig fake = {.group_by = (int *)cols, .n_group_by = n};
        return key_encode(buf, &fake, row);
}

/* The selected columns that are not part of the key, in select order. */
static size_t value_columns(const ViewConfig *v, int *out)
{
        size_t n = 0;
        for (size_t i = 0; i < v->n_select; i++) {
                bool key = false;
                for (size_t k = 0; k < v->n_group_by; k++)
                        key |= v->group_by[k] == v->select[i];
                if (!key)
                        out[n++] = v->select[i];
        }
        return n;
}

static void *alloc_in_chunk(SelectRows *sr, size_t len)
{
        len = (len + 7) & ~(size_t)7;
        Chunk *c = sr->chunks;
        if (!c || c->cap - c->used < len) {
                size_t cap = MAX((size_t)CHUNK_BYTES, len);
                c = malloc(sizeof(Chunk) + cap);
                if (!c)
                        return NULL;
                *c = (Chunk){.next = sr->chunks, .cap = cap};
                sr->chunks = c;
        }
        void *p = c->data + c->used;
        c->used += len;
        return p;
}

static int push(SelectRows *sr, SelRow *row)
{
        if (sr->n == sr->cap) {
                size_t cap = sr->cap ? sr->cap * 2 : 1024;
                SelRow **p = realloc(sr->rows, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                sr->rows = p;
                sr->cap = cap;
        }
        sr->rows[sr->n++] = row;
        return 0;
}

static int64_t window_start(int64_t t, uint64_t window)
{
        int64_t r;
        if (window > (uint64_t)INT64_MAX || __builtin_sub_overflow(t, (int64_t)window, &r))
                return INT64_MIN;
        return r;
}

int select_add_rows(Shard *s, ViewShard *vs, const Value *rows, size_t n, size_t nc)
{
        const ViewPlan *vp = vs->plan;
        const ViewConfig *v = vp->cfg;
        if (!vs->select) {
                if (!(vs->select = calloc(1, sizeof(SelectRows))))
                        return -ENOMEM;
                vs->select->cutoff = INT64_MIN;
        }
        SelectRows *sr = vs->select;
        int vcols[CONFIG_MAX_COLUMNS];
        size_t nv = value_columns(v, vcols);
        for (size_t i = 0; i < n; i++) {
                const Value *row = rows + i * nc;
                uint64_t seq = sr->seq++;
                if (sr->too_large || !where_match(v->where, v->n_where, row))
                        continue;
                int64_t ts = INT64_MIN;
                if (v->window_column >= 0) {
                        const Value *t = &row[v->window_column];
                        if (t->type == VALUE_NIL)
                                continue;
                        ts = t->i;
                        if (vp->window_now && ts < vp->now_cutoff)
                                continue;
                        if (vp->deferred &&
                            ts < window_start(s->newest[v->window_column], v->window_usec))
                                continue;
                }
                /* the key buffer holds any row's encoding (KEY_MAX_BYTES) */
                size_t kl = encode_columns(s->keybuf, v->group_by, v->n_group_by, row);
                size_t vl = encode_columns(s->keybuf + kl, vcols, nv, row);
                if (sr->bytes + kl + vl > vp->max_bytes) {
                        sr->too_large = true;
                        continue;
                }
                SelRow *r = alloc_in_chunk(sr, sizeof(SelRow) + kl + vl);
                if (!r)
                        return -ENOMEM;
                *r = (SelRow){
                    .seq = seq, .ts = ts, .key_len = (uint32_t)kl, .val_len = (uint32_t)vl};
                memcpy(r->data, s->keybuf, kl + vl);
                int q = push(sr, r);
                if (q < 0)
                        return q;
                sr->bytes += kl + vl;
        }
        return 0;
}

int select_merge(ViewShard *dst, ViewShard *src)
{
        SelectRows *s = src->select;
        if (!s)
                return 0;
        if (!dst->select) {
                dst->select = TAKE_PTR(src->select);
                return 0;
        }
        SelectRows *d = dst->select;
        for (size_t i = 0; i < s->n; i++) {
                int r = push(d, s->rows[i]);
                if (r < 0)
                        return r;
        }
        d->bytes += s->bytes;
        d->too_large |= s->too_large || d->bytes > dst->plan->max_bytes;
        /* the rows live in s's chunks: keep them with d */
        free(s->rows);
        s->rows = NULL;
        s->n = s->cap = 0;
        s->merged = d->merged;
        d->merged = TAKE_PTR(src->select);
        return 0;
}

void select_apply_cutoff(ViewShard *vs, const int64_t *newest)
{
        const ViewConfig *v = vs->plan->cfg;
        if (vs->select && vs->plan->deferred)
                vs->select->cutoff = window_start(newest[v->window_column], v->window_usec);
}

static int cmp_key(const void *a, const void *b)
{
        const SelRow *x = *(const SelRow *const *)a, *y = *(const SelRow *const *)b;
        int c = key_cmp(x->data, x->key_len, y->data, y->key_len);
        return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_seq(const void *a, const void *b)
{
        const SelRow *x = *(const SelRow *const *)a, *y = *(const SelRow *const *)b;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "region=eu, day=2026-01-01T00:00:00Z" for the message about a duplicate key. */
static void format_key(const ViewConfig *v, const SourceConfig *src, const SelRow *r, char *buf,
                       size_t n)
{
        Value k[CONFIG_MAX_COLUMNS];
        key_decode(r->data, v->n_group_by, k);
        size_t w = 0;
        buf[0] = 0;
        for (size_t i = 0; i < v->n_group_by && w + 1 < n; i++) {
                const char *name = src->columns[v->group_by[i]].name;
                int len;
                switch (k[i].type) {
                case VALUE_STR:
                        len = snprintf(buf + w, n - w, "%s%s=%.*s", i ? ", " : "", name,
                                       (int)MIN(k[i].len, 200u), k[i].s);
                        break;
                case VALUE_NUM:
                        len = snprintf(buf + w, n - w, "%s%s=%.17g", i ? ", " : "", name, k[i].d);
                        break;
                case VALUE_NIL:
                        len = snprintf(buf + w, n - w, "%s%s=(missing)", i ? ", " : "", name);
                        break;
                default:
                        len =
                            snprintf(buf + w, n - w, "%s%s=%" PRId64, i ? ", " : "", name, k[i].i);
                        break;
                }
                if (len < 0)
                        break;
                w += MIN((size_t)len, n - w - 1);
        }
}

int select_out_write(SnapshotWriter *w, ShardSet *set, size_t vi, size_t *ret_rows, char *why,
                     size_t why_size)
{
        ViewShard *vs = &set->shards[0].views[vi];
        const ViewPlan *vp = vs->plan;
        const ViewConfig *v = vp->cfg;
        const SourceConfig *src = set->plan->cfg;
        SelectRows empty = {.cutoff = INT64_MIN};
        SelectRows *sr = vs->select ? vs->select : &empty;
        if (sr->too_large) {
                snprintf(why, why_size,
                         "view %s: the selected rows exceed max_snapshot_bytes (%" PRIu64
                         " bytes); narrow it with where or window, or raise max_snapshot_bytes",
                         v->name, vp->max_bytes);
                return SELECT_TOO_LARGE;
        }
        /* out of the window, decided now that the newest time is known */
        size_t n = 0;
        for (size_t i = 0; i < sr->n; i++)
                if (sr->rows[i]->ts >= sr->cutoff)
                        sr->rows[n++] = sr->rows[i];
        sr->n = n;
        if (n > 1)
                qsort(sr->rows, n, sizeof(SelRow *), v->n_group_by ? cmp_key : cmp_seq);
        for (size_t i = 1; i < n && v->n_group_by; i++)
                if (key_cmp(sr->rows[i - 1]->data, sr->rows[i - 1]->key_len, sr->rows[i]->data,
                            sr->rows[i]->key_len) == 0) {
                        char key[512];
                        format_key(v, src, sr->rows[i], key, sizeof(key));
                        snprintf(why, why_size,
                                 "view %s: two rows share the group_by key (%s); a select view "
                                 "holds one row per key",
                                 v->name, key);
                        return SELECT_DUPLICATE_KEY;
                }

        int vcols[CONFIG_MAX_COLUMNS];
        size_t nv = value_columns(v, vcols);
        SnapshotColumn cols[SNAPSHOT_MAX_COLUMNS];
        size_t nc = 0;
        if (v->n_group_by + nv > SNAPSHOT_MAX_COLUMNS)
                return -E2BIG;
        for (size_t i = 0; i < v->n_group_by; i++)
                cols[nc++] = (SnapshotColumn){src->columns[v->group_by[i]].name,
                                              src->columns[v->group_by[i]].type};
        for (size_t i = 0; i < nv; i++)
                cols[nc++] =
                    (SnapshotColumn){src->columns[vcols[i]].name, src->columns[vcols[i]].type};
        int r = snapshot_writer_begin_view(w, v->name, v->n_group_by, nc, cols, n);
        Value vals[CONFIG_MAX_COLUMNS];
        for (size_t i = 0; i < n && r >= 0; i++) {
                const SelRow *row = sr->rows[i];
                key_decode(row->data, v->n_group_by, vals);
                key_decode(row->data + row->key_len, nv, vals + v->n_group_by);
                for (size_t c = 0; c < nc && r >= 0; c++)
                        r = snapshot_writer_put_value(w, &vals[c]);
        }
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        if (r < 0)
                return r;
        *ret_rows = n;
        return 0;
}
