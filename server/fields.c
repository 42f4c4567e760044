#include "fields.h"

#include "csv.h"
#include "doc.h"

int fields_select(const ServedView *v, const char *list, size_t len, bool *keep, Segment *ret_bad)
{
        for (size_t c = 0; c < v->n_columns; c++)
                keep[c] = c < v->n_keys;
        size_t i = 0;
        while (i <= len) {
                size_t end = i;
                while (end < len && list[end] != ',')
                        end++;
                size_t c = 0;
                for (; c < v->n_columns; c++)
                        if (strlen(v->columns[c].name) == end - i &&
                            memcmp(v->columns[c].name, list + i, end - i) == 0)
                                break;
                if (c == v->n_columns) {
                        *ret_bad = (Segment){list + i, end - i};
                        return -ENOENT;
                }
                keep[c] = true;
                i = end + 1;
        }
        return 0;
}

/* Where the next JSON member of a pre-rendered row ends: at a ',' outside strings. */
static size_t json_member_end(const char *p, size_t i, size_t end)
{
        bool in_str = false;
        for (; i < end; i++) {
                if (in_str) {
                        if (p[i] == '\\')
                                i++;
                        else if (p[i] == '"')
                                in_str = false;
                } else if (p[i] == '"')
                        in_str = true;
                else if (p[i] == ',')
                        return i;
        }
        return end;
}

static void json_cut(Buf *out, Piece row, const bool *keep, size_t n_columns)
{
        buf_putc(out, '{');
        size_t i = 1, end = row.len - 1; /* inside the braces */
        bool first = true;
        for (size_t c = 0; c < n_columns && i <= end; c++) {
                size_t e = json_member_end(row.p, i, end);
                if (keep[c]) {
                        if (!first)
                                buf_putc(out, ',');
                        buf_put(out, row.p + i, e - i);
                        first = false;
                }
                i = e + 1;
        }
        buf_putc(out, '}');
}

static size_t be(const unsigned char *p, size_t n)
{
        size_t v = 0;
        for (size_t i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

/* Bytes of the msgpack scalar at p[0..n) as doc.c writes cells; n if it does not fit. */
static size_t mp_skip(const unsigned char *p, size_t n)
{
        if (n == 0)
                return 0;
        unsigned char t = p[0];
        size_t len;
        if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
                len = 1;
        else if (t >= 0xa0 && t <= 0xbf)
                len = 1 + (t & 31u);
        else if (t == 0xcc || t == 0xd0)
                len = 2;
        else if (t == 0xcd || t == 0xd1)
                len = 3;
        else if (t == 0xce || t == 0xd2 || t == 0xca)
                len = 5;
        else if (t == 0xcf || t == 0xd3 || t == 0xcb)
                len = 9;
        else if (t == 0xd9 && n >= 2)
                len = 2 + p[1];
        else if (t == 0xda && n >= 3)
                len = 3 + be(p + 1, 2);
        else if (t == 0xdb && n >= 5)
                len = 5 + be(p + 1, 4);
        else
                return n;
        return MIN(len, n);
}

static void mp_array_header(Buf *out, size_t n)
{
        if (n <= 15)
                buf_putc(out, (char)(0x90 | n));
        else {
                unsigned char h[3] = {0xdc, (unsigned char)(n >> 8), (unsigned char)n};
                buf_put(out, h, 3);
        }
}

static void mp_cut(Buf *out, Piece row, const bool *keep, size_t n_columns, size_t n_kept)
{
        const unsigned char *p = (const unsigned char *)row.p;
        size_t i = p[0] >= 0x90 && p[0] <= 0x9f ? 1 : p[0] == 0xdc ? 3 : 5;
        mp_array_header(out, n_kept);
        for (size_t c = 0; c < n_columns && i < row.len; c++) {
                size_t l = mp_skip(p + i, row.len - i);
                if (keep[c])
                        buf_put(out, p + i, l);
                i += l;
        }
}

/* A CSV record of this server's (CRLF-terminated) with only the kept fields. */
static void csv_cut(Buf *out, Piece row, const bool *keep, size_t n_columns)
{
        size_t i = 0, end = row.len >= 2 ? row.len - 2 : 0;
        bool first = true;
        for (size_t c = 0; c < n_columns && i <= end; c++) {
                size_t e = i;
                bool q = false;
                while (e < end && (q || row.p[e] != ',')) {
                        if (row.p[e] == '"')
                                q = !q;
                        e++;
                }
                if (keep[c]) {
                        if (!first)
                                buf_putc(out, ',');
                        buf_put(out, row.p + i, e - i);
                        first = false;
                }
                i = e + 1;
        }
        buf_put(out, "\r\n", 2);
}

static void csv_header(Buf *out, const ServedView *v, const bool *keep)
{
        bool first = true;
        for (size_t c = 0; c < v->n_columns; c++) {
                if (!keep[c])
                        continue;
                if (!first)
                        buf_putc(out, ',');
                csv_field(out, v->columns[c].name, strlen(v->columns[c].name));
                first = false;
        }
        buf_put(out, "\r\n", 2);
}

static size_t count_kept(const ServedView *v, const bool *keep)
{
        size_t n = 0;
        for (size_t c = 0; c < v->n_columns; c++)
                n += keep[c];
        return n;
}

static void cut_row(Buf *out, const ServedView *v, Representation rep, const bool *keep,
                    size_t n_kept, size_t row)
{
        if (rep == REP_CSV)
                csv_cut(out, served_row(&v->csv, row), keep, v->n_columns);
        else if (rep == REP_MSGPACK)
                mp_cut(out, served_row(&v->mp, row), keep, v->n_columns, n_kept);
        else
                json_cut(out, served_row(&v->json, row), keep, v->n_columns);
}

void fields_page(Buf *out, const Served *sv, const ServedView *v, Representation rep,
                 const bool *keep, uint64_t total, uint64_t offset, uint64_t limit, size_t first,
                 size_t n)
{
        size_t n_kept = count_kept(v, keep);
        if (rep == REP_CSV) {
                csv_header(out, v, keep);
                for (size_t r = first; r < first + n; r++)
                        cut_row(out, v, rep, keep, n_kept, r);
                return;
        }
        Doc d;
        doc_init(&d, out, rep == REP_MSGPACK ? DOC_MSGPACK : DOC_JSON);
        doc_map(&d, 8);
        doc_key(&d, "view");
        doc_str(&d, v->name, v->name_len);
        doc_key(&d, "generation");
        doc_uint(&d, sv->generation);
        doc_key(&d, "keys");
        doc_array(&d, (uint32_t)v->n_keys);
        for (size_t c = 0; c < v->n_keys; c++)
                doc_cstr(&d, v->columns[c].name);
        doc_end(&d);
        doc_key(&d, "columns");
        doc_array(&d, (uint32_t)n_kept);
        for (size_t c = 0; c < v->n_columns; c++) {
                if (!keep[c])
                        continue;
                doc_map(&d, 2);
                doc_key(&d, "name");
                doc_cstr(&d, v->columns[c].name);
                doc_key(&d, "type");
                doc_cstr(&d, value_type_to_string(v->columns[c].type));
                doc_end(&d);
        }
        doc_end(&d);
        doc_key(&d, "total_rows");
        doc_uint(&d, total);
        doc_key(&d, "offset");
        doc_uint(&d, offset);
        doc_key(&d, "limit");
        doc_uint(&d, limit);
        doc_key(&d, "rows");
        doc_array(&d, (uint32_t)n);
        for (size_t r = first; r < first + n; r++) {
                if (rep == REP_JSON && r > first)
                        buf_putc(out, ',');
                cut_row(out, v, rep, keep, n_kept, r);
        }
        doc_end(&d);
        doc_end(&d);
}

void fields_row(Buf *out, const ServedView *v, Representation rep, const bool *keep, size_t row)
{
        size_t n_kept = count_kept(v, keep);
        if (rep == REP_CSV)
                csv_header(out, v, keep);
        else {
                const ViewBodies *b = rep == REP_MSGPACK ? &v->mp : &v->json;
                buf_put(out, b->row_prefix.p, b->row_prefix.len);
        }
        cut_row(out, v, rep, keep, n_kept, row);
        if (rep == REP_JSON)
                buf_putc(out, '}');
}
