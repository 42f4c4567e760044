#include "respond.h"

#include <stdarg.h>

#include "doc.h"
#include "status_page.h"

#define CT_JSON    "application/json; charset=utf-8"
#define CT_MSGPACK "application/msgpack"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

static void add_piece(Response *resp, const char *p, size_t len)
{
        if (len == 0 || resp->n_pieces == RESPONSE_MAX_PIECES)
                return;
        resp->pieces[resp->n_pieces++] = (Piece){p, len};
}

static void fail_with(Response *resp, int status, const char *fmt, ...) _printf_(3, 4);
static void fail_with(Response *resp, int status, const char *fmt, ...)
{
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* the message may quote client bytes: escape through the JSON writer */
        Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, DOC_JSON);
        doc_map(&d, 2);
        doc_key(&d, "error");
        doc_cstr(&d, msg);
        doc_key(&d, "status");
        doc_uint(&d, (uint64_t)status);
        doc_end(&d);
        size_t n = buf_ok(&b) ? MIN(b.len, sizeof(resp->scratch)) : 0;
        if (n)
                memcpy(resp->scratch, b.data, n);
        buf_done(&b);
        resp->status = status;
        resp->content_type = CT_JSON;
        resp->content_encoding = NULL;
        resp->etag = NULL;
        resp->last_modified = NULL;
        resp->vary = false;
        resp->n_pieces = 0;
        add_piece(resp, resp->scratch, n);
}

static void static_json(Response *resp, int status, const char *body)
{
        resp->status = status;
        resp->content_type = CT_JSON;
        add_piece(resp, body, strlen(body));
}

static bool not_modified(const Request *req, const Response *resp)
{
        if (req->if_none_match)
                return etag_list_matches(req->if_none_match, resp->etag);
        return req->if_modified_since && resp->last_modified &&
               strcmp(req->if_modified_since, resp->last_modified) == 0;
}

static void data_headers(const RespondContext *ctx, const Request *req, Response *resp,
                         const char *etag, bool msgpack)
{
        const Served *sv = ctx->served;
        resp->status = 200;
        resp->content_type = msgpack ? CT_MSGPACK : CT_JSON;
        resp->generation = sv->generation;
        resp->last_modified = sv->last_modified;
        resp->etag = etag;
        resp->vary = true;
        resp->stale = ctx->now_usec > (uint64_t)sv->created_usec &&
                      ctx->now_usec - (uint64_t)sv->created_usec > ctx->max_age_usec;
}

/* A pre-rendered document, gzip'd when the client takes it and a compressed copy exists. */
static void whole(const Request *req, Response *resp, Piece plain, Piece gz)
{
        if (gz.p && accept_encoding_gzip(req->accept_encoding)) {
                resp->content_encoding = "gzip";
                add_piece(resp, gz.p, gz.len);
        } else
                add_piece(resp, plain.p, plain.len);
}

static void view_page(const RespondContext *ctx, const Request *req, Response *resp,
                      const ServedView *v, const Route *r, bool msgpack)
{
        const ViewBodies *b = msgpack ? &v->mp : &v->json;
        bool whole_view = r->offset == 0 && (!r->has_limit || r->limit == v->n_rows);
        if (whole_view) {
                whole(req, resp, b->full, msgpack ? (Piece){NULL, 0} : b->full_gz);
                return;
        }
        uint64_t limit = r->has_limit ? r->limit : v->n_rows;
        size_t first = (size_t)MIN(r->offset, (uint64_t)v->n_rows);
        size_t n = (size_t)MIN(limit, (uint64_t)(v->n_rows - first));
        /* head (fixed) + offset/limit/rows header (here) + a slice of the rows + close */
        Buf tmp = BUF_NULL;
        Doc d;
        doc_init(&d, &tmp, msgpack ? DOC_MSGPACK : DOC_JSON);
        /* continue the head's open map: JSON's head already ends with ',' */
        d.depth = 1;
        d.is_map[1] = true;
        d.first[1] = true;
        doc_key(&d, "offset");
        doc_uint(&d, r->offset);
        doc_key(&d, "limit");
        doc_uint(&d, limit);
        doc_key(&d, "rows");
        if (msgpack)
                doc_array(&d, (uint32_t)n);
        else
                buf_putc(&tmp, '[');
        size_t len = buf_ok(&tmp) ? MIN(tmp.len, sizeof(resp->scratch)) : 0;
        if (len)
                memcpy(resp->scratch, tmp.data, len);
        buf_done(&tmp);
        add_piece(resp, b->head.p, b->head.len);
        add_piece(resp, resp->scratch, len);
        Piece rows = served_rows(b, first, n);
        add_piece(resp, rows.p, rows.len);
        if (!msgpack)
                add_piece(resp, "]}", 2);
}

static void snapshot_info(const RespondContext *ctx, Response *resp, bool msgpack)
{
        const Served *sv = ctx->served;
        uint64_t age = ctx->now_usec > (uint64_t)sv->created_usec
                           ? (ctx->now_usec - (uint64_t)sv->created_usec) / USEC_PER_SEC
                           : 0;
        Buf tmp = BUF_NULL;
        Doc d;
        doc_init(&d, &tmp, msgpack ? DOC_MSGPACK : DOC_JSON);
        doc_uint(&d, age);
        size_t len = buf_ok(&tmp) ? MIN(tmp.len, sizeof(resp->scratch)) : 0;
        if (len)
                memcpy(resp->scratch, tmp.data, len);
        buf_done(&tmp);
        Piece head = msgpack ? sv->snap_mp_head : sv->snap_json_head;
        Piece tail = msgpack ? sv->snap_mp_tail : sv->snap_json_tail;
        add_piece(resp, head.p, head.len);
        add_piece(resp, resp->scratch, len);
        add_piece(resp, tail.p, tail.len);
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
        uint64_t age = ctx->now_usec > (uint64_t)sv->created_usec
                           ? (ctx->now_usec - (uint64_t)sv->created_usec) / USEC_PER_SEC
                           : 0;
        bool stale = ctx->now_usec > (uint64_t)sv->created_usec &&
                     ctx->now_usec - (uint64_t)sv->created_usec > ctx->max_age_usec;
        int n = snprintf(resp->scratch, sizeof(resp->scratch),
                         "{\"status\":\"%s\",%s\"generation\":%llu,\"age_seconds\":%llu,"
                         "\"max_age_seconds\":%llu}",
                         stale ? "not ready" : "ready",
                         stale ? "\"reason\":\"snapshot older than max_age\"," : "",
                         (unsigned long long)sv->generation, (unsigned long long)age,
                         (unsigned long long)(ctx->max_age_usec / USEC_PER_SEC));
        resp->status = stale ? 503 : 200;
        resp->content_type = CT_JSON;
        resp->generation = sv->generation;
        resp->stale = stale;
        add_piece(resp, resp->scratch, n > 0 ? MIN((size_t)n, sizeof(resp->scratch)) : 0);
}

void respond(const RespondContext *ctx, const Request *req, Response *resp)
{
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
        if (k == -ENAMETOOLONG) {
                fail_with(resp, 414, "request target longer than %d bytes", ROUTE_MAX_TARGET);
                return;
        }
        if (k < 0) {
                fail_with(resp, 400, "malformed request target or query");
                return;
        }
        resp->route = r.kind;
        resp->no_body = req->method == METHOD_HEAD;
        bool msgpack = accept_wants_msgpack(req->accept);
        Served *sv = ctx->served;

        switch (r.kind) {
        case ROUTE_HEALTHZ: static_json(resp, 200, "{\"status\":\"ok\"}"); return;
        case ROUTE_READYZ: readyz(ctx, resp); return;
        case ROUTE_METRICS:
                resp->status = 200;
                resp->content_type = CT_METRICS;
                if (ctx->render_metrics)
                        ctx->render_metrics(ctx->userdata, &resp->owned);
                if (!buf_ok(&resp->owned)) {
                        buf_done(&resp->owned);
                        fail_with(resp, 500, "out of memory");
                        return;
                }
                add_piece(resp, resp->owned.data, resp->owned.len);
                return;
        case ROUTE_STATUS:
        case ROUTE_HISTORY: status_page_respond(ctx->status, req, r.kind, msgpack, resp); return;
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
        if (r.kind == ROUTE_VIEW || r.kind == ROUTE_ROW) {
                v = served_find_view(sv, r.view.p, r.view.len);
                if (!v) {
                        fail_with(resp, 404, "no view named \"%.*s\"", (int)MIN(r.view.len, 64),
                                  r.view.p);
                        return;
                }
        }
        if (r.kind == ROUTE_ROW) {
                if (r.n_keys != v->n_keys) {
                        fail_with(resp, 400, "view %s is keyed by %zu values, got %zu", v->name,
                                  v->n_keys, r.n_keys);
                        return;
                }
                const char *keys[ROUTE_MAX_KEYS];
                size_t lens[ROUTE_MAX_KEYS];
                for (size_t i = 0; i < r.n_keys; i++) {
                        keys[i] = r.keys[i].p;
                        lens[i] = r.keys[i].len;
                }
                row = served_find_row(v, keys, lens, r.n_keys);
                if (row < 0) {
                        fail_with(resp, 404, "no row with that key in view %s", v->name);
                        return;
                }
        }

        const char *etag = r.kind == ROUTE_VIEW || r.kind == ROUTE_ROW ? v->etag
                           : r.kind == ROUTE_VIEWS                     ? sv->etag_views
                                                                       : NULL;
        data_headers(ctx, req, resp, etag, msgpack);
        if (etag && not_modified(req, resp)) {
                resp->status = 304;
                resp->no_body = true;
                return;
        }
        switch (r.kind) {
        case ROUTE_VIEWS:
                if (msgpack)
                        add_piece(resp, sv->views_mp.p, sv->views_mp.len);
                else
                        whole(req, resp, sv->views_json, sv->views_json_gz);
                break;
        case ROUTE_VIEW: view_page(ctx, req, resp, v, &r, msgpack); break;
        case ROUTE_ROW: {
                const ViewBodies *b = msgpack ? &v->mp : &v->json;
                Piece p = served_row(b, (size_t)row);
                add_piece(resp, b->row_prefix.p, b->row_prefix.len);
                add_piece(resp, p.p, p.len);
                if (!msgpack)
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
        if (resp->keep)
                resp->keep_unref(NULL, 0, resp->keep);
        resp->keep = NULL;
        resp->n_pieces = 0;
}
