#include "render.h"

#include <time.h>

#include "doc.h"
#include "gzip.h"
#include "snapshot_describe.h"

/* Large bodies are compressed once per snapshot, in the background (gzip.h). */
static int gzip_piece(Served *sv, Piece in, Piece *ret)
{
        *ret = (Piece){NULL, 0};
        if (in.len < SERVED_GZIP_MIN)
                return 0;
        _cleanup_(buf_donep) Buf out;
        buf_init_mapped(&out);
        int r = gzip_buf(in.p, in.len, &out);
        if (r < 0)
                return r;
        return served_keep_mapping(sv, &out, ret);
}

/* "view" and "generation": how every per-view document starts. */
static void view_and_generation(Doc *d, const Snapshot *s, const SnapshotView *v)
{
        doc_key(d, "view");
        doc_cstr(d, v->name);
        doc_key(d, "generation");
        doc_uint(d, s->generation);
}

/* The view document: {"view","generation","keys","columns","total_rows","offset","limit",
 * "rows"}, rendered whole with offset 0 and limit = all rows. */
static int render_view(Served *sv, const Snapshot *s, const SnapshotView *v, DocFormat fmt,
                       ViewBodies *out)
{
        _cleanup_(buf_donep) Buf b;
        buf_init_mapped(&b);
        /* a row takes about as much as in the file; start there, grow if needed */
        if (!buf_reserve(&b, (size_t)MIN(s->file_bytes * 2, (uint64_t)SIZE_MAX / 4)))
                return -ENOMEM;
        Doc d;
        doc_init(&d, &b, fmt);
        doc_map(&d, 8);
        view_and_generation(&d, s, v);
        describe_keys(&d, v);
        describe_columns(&d, v);
        doc_key(&d, "total_rows");
        size_t head_cols_len = b.len;
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
        out->off = served_alloc_mem(sv, (v->n_rows + 1) * sizeof(uint32_t), _Alignof(uint32_t));
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
        int r = served_keep_mapping(sv, &b, &out->full);
        if (r < 0)
                return r;
        out->head = (Piece){out->full.p, head_len};
        out->head_cols = (Piece){out->full.p, head_cols_len};
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
        view_and_generation(&d, s, v);
        doc_key(&d, "row");
        if (!buf_ok(&pb))
                return -ENOMEM;
        return served_copy(sv, pb.data, pb.len, &out->row_prefix);
}

static int render_views_list(Served *sv, const Snapshot *s, DocFormat fmt, Piece *out)
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
                describe_keys(&d, v);
                doc_key(&d, "columns");
                doc_uint(&d, v->n_columns);
                doc_end(&d);
        }
        doc_end(&d);
        doc_end(&d);
        if (!buf_ok(&b))
                return -ENOMEM;
        return served_copy(sv, b.data, b.len, out);
}

/* /v1/snapshot minus age_seconds: a placeholder age splits it into head and tail. */
static int render_snapshot_info(Served *sv, const Snapshot *s, DocFormat fmt, Piece *head,
                                Piece *tail)
{
        _cleanup_(buf_donep) Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, fmt);
        doc_map(&d, 7 + 2); /* + pinned, pinned_generation (pinning_doc) */
        describe_generation_created(&d, s);
        doc_key(&d, "age_seconds");
        size_t head_len = b.len;
        doc_uint(&d, 0);
        size_t tail_start = b.len;
        describe_worker(&d, s, true);
        describe_sources(&d, s);
        doc_key(&d, "file_bytes");
        doc_uint(&d, s->file_bytes);
        doc_key(&d, "views");
        doc_uint(&d, s->n_views);
        doc_end(&d);
        if (!buf_ok(&b))
                return -ENOMEM;
        int r = served_copy(sv, b.data, head_len, head);
        if (r < 0)
                return r;
        return served_copy(sv, b.data + tail_start, b.len - tail_start, tail);
}

static void format_http_date(char *buf, size_t n, int64_t usec)
{
        time_t t = (time_t)(usec / (int64_t)USEC_PER_SEC);
        struct tm tm;
        if (!gmtime_r(&t, &tm) || strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
                strcpy_checked(buf, n, "Thu, 01 Jan 1970 00:00:00 GMT");
}

void render_validators(Served *sv, const Snapshot *s)
{
        format_http_date(sv->last_modified, sizeof(sv->last_modified), s->created_usec);
        snprintf(sv->etag_views, sizeof(sv->etag_views), "W/\"%llu\"",
                 (unsigned long long)s->generation);
        for (size_t i = 0; i < s->n_views; i++)
                snprintf(sv->views[i].etag, sizeof(sv->views[i].etag), "W/\"%llu-%zu\"",
                         (unsigned long long)s->generation, i);
}

int render_info(Served *sv, const Snapshot *s)
{
        int r = render_snapshot_info(sv, s, DOC_JSON, &sv->snap_json_head, &sv->snap_json_tail);
        if (r < 0)
                return r;
        return render_snapshot_info(sv, s, DOC_MSGPACK, &sv->snap_mp_head, &sv->snap_mp_tail);
}

int render_snapshot(Served *sv, const Snapshot *s)
{
        render_validators(sv, s);
        int r = render_views_list(sv, s, DOC_JSON, &sv->views_json);
        if (r < 0)
                return r;
        r = gzip_piece(sv, sv->views_json, &sv->views_json_gz);
        if (r < 0)
                return r;
        r = render_views_list(sv, s, DOC_MSGPACK, &sv->views_mp);
        if (r < 0)
                return r;
        return render_info(sv, s);
}

int render_view_format(Served *sv, const Snapshot *s, size_t view, DocFormat fmt, ViewBodies *out)
{
        return render_view(sv, s, &s->views[view], fmt, out);
}

int render_gzip(Served *sv, Piece in, Piece *ret)
{
        return gzip_piece(sv, in, ret);
}
