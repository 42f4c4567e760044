/* Pre-rendering: every document a snapshot can be asked for, in JSON and msgpack, built
 * once on the loader thread so a request only picks pieces (respond.c).
 *
 * Per view: the whole document (and its gzip), its fixed head, the single-row prefix and
 * the row offsets that let a page or a row be sliced out of the whole; the views list;
 * /v1/snapshot split around its age. Shapes are written through doc.h, so both formats
 * agree by construction. */
#pragma once

#include "doc.h"
#include "served.h"

/* Fills sv's validators, dates, views list and /v1/snapshot from s, in sv's memory
 * (served_copy, served_keep_mapping); sv->views must have s->n_views entries. Each view's
 * documents are render_view_format()'s and csv.h's, which served_new may run on several
 * threads at once (every allocation goes through sv's lock). */
int render_snapshot(Served *sv, const Snapshot *s);
/* View number view of s in fmt (JSON or msgpack: whole document, its gzip, head, row
 * prefix and offsets) into out. */
int render_view_format(Served *sv, const Snapshot *s, size_t view, DocFormat fmt, ViewBodies *out);
/* The pieces a version 2 snapshot leaves to tallyd (prerender.h): the validators and dates,
 * and /v1/snapshot, whose file_bytes is the file's own size and which carries tallyd's
 * state; both need only s's header, never its rows. */
void render_validators(Served *sv, const Snapshot *s);
int render_info(Served *sv, const Snapshot *s);

/* in's gzip (libdeflate, the level whole bodies use) into sv's memory; *ret stays
 * {NULL, 0} for bodies under SERVED_GZIP_MIN. For renderings kept beside these (csv.c). */
int render_gzip(Served *sv, Piece in, Piece *ret);
