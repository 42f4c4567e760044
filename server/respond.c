#include "respond.h"

#include <assert.h>
#include <stdarg.h>

#include "doc.h"
#include "fields.h"
#include "negotiate.h"
#include "pinning.h"

#define CT_JSON    "application/json; charset=utf-8"
#define CT_MSGPACK "application/msgpack"
#define CT_CSV     "text/csv; charset=utf-8; header=present"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

static void add_piece(Response *resp, const char *p, size_t len)
{
        /* every response shape below has at most RESPONSE_MAX_PIECES pieces */
        assert(resp->n_pieces < RESPONSE_MAX_PIECES);
        if (len == 0)
                return;
        resp->pieces[resp->n_pieces++] = (Piece){p, len};
}

/* A slice of the snapshot: the transport may send it without copying. */
static void add_shared(Response *resp, const Served *sv, Piece p)
{
        if (p.len == 0)
                return;
        resp->shared |= 1u << resp->n_pieces;
        resp->hold = (Served *)sv;
        add_piece(resp, p.p, p.len);
}

static void static_json(Response *resp, int status, const char *body)
{
        resp->status = status;
        resp->content_type = CT_JSON;
        add_piece(resp, body, strlen(body));
}

/* Drops the body and what described it, for an error document instead (a HEAD stays
 * a HEAD). */
static void drop_body(Response *resp)
{
        buf_done(&resp->owned);
        resp->content_encoding = NULL;
        resp->etag = NULL;
        resp->last_modified = NULL;
        resp->vary = false;
        resp->n_pieces = 0;
        resp->shared = 0;
        resp->hold = NULL;
}

/* Even the error document could not be built: a fixed body, never a cut one. */
static void out_of_memory(Response *resp)
{
        drop_body(resp);
        static_json(resp, 500, "{\"error\":\"out of memory\",\"status\":500}");
}

/* Ends the response's dynamic piece: written whole into resp->owned, or 500. */
static bool add_owned(Response *resp)
{
        if (!buf_ok(&resp->owned)) {
                out_of_memory(resp);
                return false;
        }
        add_piece(resp, resp->owned.data, resp->owned.len);
        return true;
}

static void fail_with(Response *resp, int status, const char *fmt, ...) _printf_(3, 4);
static void fail_with(Response *resp, int status, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_(buf_donep) Buf msg = BUF_NULL;
        buf_vprintf(&msg, fmt, ap);
        va_end(ap);
        buf_putc(&msg, 0);
        drop_body(resp);
        resp->status = status;
        resp->content_type = CT_JSON;
        if (!buf_ok(&msg)) {
                out_of_memory(resp);
                return;
        }
        /* the message may quote client bytes: escape through the JSON writer */
        Doc d;
        doc_init(&d, &resp->owned, DOC_JSON);
        doc_map(&d, 2);
        doc_key(&d, "error");
        doc_cstr(&d, msg.data);
        doc_key(&d, "status");
        doc_uint(&d, (uint64_t)status);
        doc_end(&d);
        add_owned(resp);
}

/* 400 for a request parameter (or path key), named in the message and as "parameter". */
static void fail_param(Response *resp, const char *param, const char *fmt, ...) _printf_(3, 4);
static void fail_param(Response *resp, const char *param, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_(buf_donep) Buf msg = BUF_NULL;
        buf_printf(&msg, "%s: ", param);
        buf_vprintf(&msg, fmt, ap);
        va_end(ap);
        buf_putc(&msg, 0);
        drop_body(resp);
        resp->status = 400;
        resp->content_type = CT_JSON;
        if (!buf_ok(&msg)) {
                out_of_memory(resp);
                return;
        }
        Doc d;
        doc_init(&d, &resp->owned, DOC_JSON);
        doc_map(&d, 3);
        doc_key(&d, "error");
        doc_cstr(&d, msg.data);
        doc_key(&d, "status");
        doc_uint(&d, 400);
        doc_key(&d, "parameter");
        doc_cstr(&d, param);
        doc_end(&d);
        add_owned(resp);
}

static uint64_t age_usec(const RespondContext *ctx)
{
        return snapshot_age_usec(ctx->served->created_usec, ctx->now_usec);
}

static void data_headers(const RespondContext *ctx, Response *resp, const char *etag, bool msgpack)
{
        const Served *sv = ctx->served;
        resp->status = 200;
        resp->content_type = msgpack ? CT_MSGPACK : CT_JSON;
        resp->generation = sv->generation;
        resp->last_modified = sv->last_modified;
        resp->etag = etag;
        resp->vary = true;
        resp->stale = age_usec(ctx) > ctx->max_age_usec;
}

/* A pre-rendered document, gzip'd when the client takes it and a compressed copy exists. */
static void whole(const Request *req, Response *resp, const Served *sv, Piece plain, Piece gz)
{
        if (gz.p && accept_encoding_gzip(req->accept_encoding)) {
                resp->content_encoding = "gzip";
                add_shared(resp, sv, gz);
        } else
                add_shared(resp, sv, plain);
}

static const ViewBodies *bodies_of(const ServedView *v, Representation rep)
{
        return rep == REP_MSGPACK ? &v->mp : rep == REP_CSV ? &v->csv : &v->json;
}

/* What a view document holds: rows [first, first+n) of the view match the path's prefix
 * and the range (all rows for a plain view), and offset/limit page through them. */
typedef struct Selection {
        size_t first, n;
        bool all;         /* the whole view, not a prefix or a range */
        const bool *keep; /* ?fields=, or NULL */
} Selection;

/* The view document for a selection: for the whole view, the pre-rendered body (gzip'd
 * when taken); otherwise the fixed head, the counts (here), one contiguous slice of the
 * pre-rendered rows, and the close, sent as they are (no gzip: pre-compressed bodies do
 * not slice). With ?fields= the document is cut per request (fields.c). */
static void rows_page(const Request *req, Response *resp, const Served *sv, const ServedView *v,
                      const Route *r, Representation rep, const Selection *sel)
{
        const ViewBodies *b = bodies_of(v, rep);
        uint64_t skip = MIN(r->offset, (uint64_t)sel->n);
        uint64_t limit = r->has_limit ? r->limit : sel->n;
        size_t first = sel->first + (size_t)skip;
        size_t n = (size_t)MIN(limit, (uint64_t)sel->n - skip);
        if (sel->keep) {
                if (n > 4096)
                        buf_init_mapped(&resp->owned); /* megabytes: its own mapping */
                fields_page(&resp->owned, sv, v, rep, sel->keep, sel->n, r->offset, limit, first,
                            n);
                add_owned(resp);
                return;
        }
        if (sel->all && r->offset == 0 && (!r->has_limit || r->limit == v->n_rows)) {
                whole(req, resp, sv, b->full, rep == REP_MSGPACK ? (Piece){NULL, 0} : b->full_gz);
                return;
        }
        if (rep == REP_CSV) {
                add_shared(resp, sv, b->head);
                add_shared(resp, sv, served_rows(b, first, n));
                return;
        }
        bool msgpack = rep == REP_MSGPACK;
        /* head through "total_rows": (fixed) + the counts and the rows' opening (here) */
        Doc d;
        doc_resume_map(&d, &resp->owned, msgpack ? DOC_MSGPACK : DOC_JSON);
        d.after_key = true; /* the head ends with the "total_rows" key */
        d.first[1] = false;
        doc_uint(&d, sel->n);
        doc_key(&d, "offset");
        doc_uint(&d, r->offset);
        doc_key(&d, "limit");
        doc_uint(&d, limit);
        doc_key(&d, "rows");
        if (msgpack)
                doc_array(&d, (uint32_t)n);
        else
                buf_putc(&resp->owned, '['); /* the rows follow as their own piece */
        add_shared(resp, sv, b->head_cols);
        if (!add_owned(resp))
                return;
        add_shared(resp, sv, served_rows(b, first, n));
        if (!msgpack)
                add_piece(resp, "]}", 2);
}

/* The rows of v a prefix and range request names, or a 4xx/5xx already filled in. */
static bool select_rows(Response *resp, const ServedView *v, const Route *r, Selection *sel)
{
        bool range = r->has_from || r->has_to;
        const char *range_param = r->has_from ? "from" : "to";
        size_t m = r->kind == ROUTE_ROW ? r->n_keys : 0;
        if (m == 0 && !range) {
                *sel = (Selection){.first = 0, .n = v->n_rows, .all = true, .keep = sel->keep};
                return true;
        }
        Value prefix[ROUTE_MAX_KEYS];
        for (size_t i = 0; i < m; i++)
                if (slice_parse_key(v->columns[i].type, r->keys[i].p, r->keys[i].len, &prefix[i]) <
                    0) {
                        char what[64];
                        snprintf(what, sizeof(what), "key %zu", i + 1);
                        fail_param(resp, what, "\"%.*s\" is not a value of column %s (%s)",
                                   (int)MIN(r->keys[i].len, RESPOND_MAX_QUOTED), r->keys[i].p,
                                   v->columns[i].name, value_type_to_string(v->columns[i].type));
                        return false;
                }
        if (range && (m >= v->n_keys || v->columns[m].type != VALUE_TIME)) {
                if (m >= v->n_keys)
                        fail_param(resp, range_param,
                                   "view %s has no key column after the %zu keys in the path",
                                   v->name, m);
                else
                        fail_param(resp, range_param,
                                   "ranges apply to the key column right after the path's keys, "
                                   "here %s, which is not a time",
                                   v->columns[m].name);
                return false;
        }
        SliceQuery q = {.prefix = prefix,
                        .n_prefix = m,
                        .has_from = r->has_from,
                        .has_to = r->has_to,
                        .from = r->from,
                        .to = r->to};
        int k = slice_find(&v->slices, &q, &sel->first, &sel->n);
        if (k == -EMEDIUMTYPE) {
                fail_with(resp, 500,
                          "rows of view %s are not in key order: no prefix or range lookups",
                          v->name);
                return false;
        }
        if (k < 0) { /* the checks above rule this out */
                fail_with(resp, 500, "cannot slice view %s: %s", v->name, strerror(-k));
                return false;
        }
        sel->all = false;
        return true;
}

static void snapshot_info(const RespondContext *ctx, Response *resp, bool msgpack)
{
        const Served *sv = ctx->served;
        Doc d;
        doc_init(&d, &resp->owned, msgpack ? DOC_MSGPACK : DOC_JSON);
        doc_uint(&d, age_usec(ctx) / USEC_PER_SEC);
        pinning_doc(&d, ctx->pin);
        add_shared(resp, sv, msgpack ? sv->snap_mp_head : sv->snap_json_head);
        if (!add_owned(resp))
                return;
        add_shared(resp, sv, msgpack ? sv->snap_mp_tail : sv->snap_json_tail);
}

static void readyz(const RespondContext *ctx, Response *resp)
{
        const Served *sv = ctx->served;
        if (!sv) {
                static_json(resp, 503,
                            "{\"status\":\"not ready\",\"reason\":\"no snapshot loaded\"}");
                resp->retry_after = true;
                return;
        }
        uint64_t age = age_usec(ctx);
        bool stale = age > ctx->max_age_usec;
        buf_printf(&resp->owned,
                   "{\"status\":\"%s\",%s\"generation\":%llu,\"age_seconds\":%llu,"
                   "\"max_age_seconds\":%llu}",
                   stale ? "not ready" : "ready",
                   stale ? "\"reason\":\"snapshot older than max_age\"," : "",
                   (unsigned long long)sv->generation, (unsigned long long)(age / USEC_PER_SEC),
                   (unsigned long long)(ctx->max_age_usec / USEC_PER_SEC));
        resp->status = stale ? 503 : 200;
        resp->content_type = CT_JSON;
        resp->generation = sv->generation;
        resp->stale = stale;
        add_owned(resp);
}

void respond(const RespondContext *ctx, const Request *req, Response *resp)
{
        response_done(resp);
        *resp = (Response){.status = 500, .content_type = CT_JSON, .route = ROUTE_NOT_FOUND};
        if (req->method == METHOD_OTHER) {
                fail_with(resp, 405, "method not allowed");
                resp->allow = "GET, HEAD";
                return;
        }
        if (req->http11 && !req->has_host) {
                fail_with(resp, 400, "HTTP/1.1 request without Host");
                resp->close = true;
                return;
        }
        if (req->has_body) {
                fail_with(resp, 413, "a %s request takes no body",
                          req->method == METHOD_HEAD ? "HEAD" : "GET");
                resp->close = true; /* the body was not read: the stream is out of sync */
                return;
        }
        Route r;
        char scratch[ROUTE_MAX_TARGET];
        int k = route_parse(req->target, req->target_len, scratch, sizeof(scratch), &r);
        if (k == ROUTE_TOO_LONG) {
                fail_with(resp, 414, "request target longer than %d bytes", ROUTE_MAX_TARGET);
                return;
        }
        if (k == ROUTE_BAD_PARAM) {
                fail_param(resp, r.bad_param, "%s", r.bad_reason);
                return;
        }
        if (k != ROUTE_PARSED) {
                fail_with(resp, 400, "malformed request target or query");
                return;
        }
        resp->route = r.kind;
        resp->no_body = req->method == METHOD_HEAD;
        resp->no_store = r.kind == ROUTE_METRICS || r.kind == ROUTE_HEALTHZ ||
                         r.kind == ROUTE_READYZ || r.kind == ROUTE_SNAPSHOT;
        Representation rep = r.format == ROUTE_FORMAT_JSON      ? REP_JSON
                             : r.format == ROUTE_FORMAT_MSGPACK ? REP_MSGPACK
                             : r.format == ROUTE_FORMAT_CSV     ? REP_CSV
                                                            : accept_representation(req->accept);
        /* CSV is for view documents and rows; every other document answers JSON */
        if (rep == REP_CSV && r.kind != ROUTE_VIEW && r.kind != ROUTE_ROW)
                rep = REP_JSON;
        bool msgpack = rep == REP_MSGPACK;
        Served *sv = ctx->served;

        switch (r.kind) {
        case ROUTE_HEALTHZ: static_json(resp, 200, "{\"status\":\"ok\"}"); return;
        case ROUTE_READYZ: readyz(ctx, resp); return;
        case ROUTE_METRICS:
                resp->status = 200;
                resp->content_type = CT_METRICS;
                if (ctx->render_metrics)
                        ctx->render_metrics(ctx->userdata, &resp->owned);
                add_owned(resp);
                return;
        case ROUTE_NOT_FOUND: fail_with(resp, 404, "no such endpoint"); return;
        default: break;
        }

        if (!sv) {
                fail_with(resp, 503, "no snapshot loaded yet");
                resp->retry_after = true;
                return;
        }
        const ServedView *v = NULL;
        ssize_t row = -1;
        bool keep[SNAPSHOT_MAX_COLUMNS];
        Selection sel = {.keep = NULL};
        if (r.kind == ROUTE_VIEW || r.kind == ROUTE_ROW) {
                v = served_find_view(sv, r.view.p, r.view.len);
                if (!v) {
                        fail_with(resp, 404, "no view named \"%.*s\"",
                                  (int)MIN(r.view.len, RESPOND_MAX_QUOTED), r.view.p);
                        return;
                }
                if (r.kind == ROUTE_ROW && r.n_keys > v->n_keys) {
                        fail_with(resp, 400, "view %s is keyed by %zu values, got %zu", v->name,
                                  v->n_keys, r.n_keys);
                        return;
                }
                if (r.has_fields) {
                        Segment bad;
                        if (fields_select(v, r.fields.p, r.fields.len, keep, &bad) < 0) {
                                fail_param(resp, "fields", "no column \"%.*s\" in view %s",
                                           (int)MIN(bad.len, RESPOND_MAX_QUOTED), bad.p, v->name);
                                return;
                        }
                        sel.keep = keep;
                }
        }
        if (r.kind == ROUTE_ROW && r.n_keys == v->n_keys) {
                if (r.has_from || r.has_to) {
                        fail_param(resp, r.has_from ? "from" : "to",
                                   "view %s has no key column after the %zu keys in the path",
                                   v->name, r.n_keys);
                        return;
                }
                const char *keys[ROUTE_MAX_KEYS];
                size_t lens[ROUTE_MAX_KEYS];
                for (size_t i = 0; i < r.n_keys; i++) {
                        keys[i] = r.keys[i].p;
                        lens[i] = r.keys[i].len;
                }
                row = row_index_find(&v->index, keys, lens, r.n_keys);
                if (row < 0) {
                        fail_with(resp, 404, "no row with that key in view %s", v->name);
                        return;
                }
        } else if (r.kind == ROUTE_VIEW || r.kind == ROUTE_ROW) {
                if (!select_rows(resp, v, &r, &sel))
                        return;
        }

        const char *etag = r.kind == ROUTE_VIEW || r.kind == ROUTE_ROW ? v->etag
                           : r.kind == ROUTE_VIEWS                     ? sv->etag_views
                                                                       : NULL;
        data_headers(ctx, resp, etag, msgpack);
        if (rep == REP_CSV)
                resp->content_type = CT_CSV;
        if (etag && conditional_not_modified(req->if_none_match, req->if_modified_since, resp->etag,
                                             resp->last_modified)) {
                resp->status = 304;
                resp->no_body = true;
                return;
        }
        switch (r.kind) {
        case ROUTE_VIEWS:
                if (msgpack)
                        add_shared(resp, sv, sv->views_mp);
                else
                        whole(req, resp, sv, sv->views_json, sv->views_json_gz);
                break;
        case ROUTE_VIEW: rows_page(req, resp, sv, v, &r, rep, &sel); break;
        case ROUTE_ROW: {
                if (row < 0) { /* a prefix */
                        rows_page(req, resp, sv, v, &r, rep, &sel);
                        break;
                }
                if (sel.keep) {
                        fields_row(&resp->owned, v, rep, sel.keep, (size_t)row);
                        add_owned(resp);
                        break;
                }
                const ViewBodies *b = bodies_of(v, rep);
                add_shared(resp, sv, b->row_prefix);
                add_shared(resp, sv, served_row(b, (size_t)row));
                if (rep == REP_JSON)
                        add_piece(resp, "}", 1);
                break;
        }
        case ROUTE_SNAPSHOT:
                resp->last_modified = NULL; /* the age changes: no validators */
                resp->etag = NULL;
                snapshot_info(ctx, resp, msgpack);
                break;
        default: fail_with(resp, 500, "unrouted"); break;
        }
}

size_t response_body_length(const Response *resp)
{
        size_t n = 0;
        for (size_t i = 0; i < resp->n_pieces; i++)
                n += resp->pieces[i].len;
        return n;
}

void response_done(Response *resp)
{
        buf_done(&resp->owned);
        resp->n_pieces = 0;
        resp->shared = 0;
        resp->hold = NULL;
}
