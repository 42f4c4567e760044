/* Version 2 of the snapshot contract: the serving-ready bodies the worker renders, so that
 * loading a snapshot costs tallyd a read and a validation instead of a render.
 *
 * A v2 file is a v1 file whose payload map has three more members, always last:
 *   serve:  the directory below (offsets into bodies)
 *   pad:    bin of zero bytes, so that the bodies' first byte sits at a multiple of
 *           SNAPSHOT_BODIES_ALIGN in the file (the pages before it can be dropped whole)
 *   bodies: bin, the concatenated documents, row offsets and row index
 * Everything v1 has (views with their rows) stays, so every v1 reader's data is there.
 *
 * serve = {views: [{json: DOC, msgpack: DOC, csv: DOC, index: INDEX}...]  (one per view)
 *          views_list: {json: R, json_gzip: R|nil, msgpack: R}}
 *   R     = [offset, length] into bodies
 *   DOC   = {full: R, head: length, head_cols: length, rows: offset in full, gzip: R|nil,
 *            row_prefix: R, row_offsets: offset}
 *           full is the whole-view document, its first `head` bytes the members through
 *           total_rows (JSON: and the ','), its first `head_cols` <= head bytes those
 *           through the "total_rows" key (a slice says its own count; CSV: head_cols =
 *           head = the header row); row_offsets is n_rows + 1 little-endian uint32
 *           at a 4-aligned offset: row r spans full[rows + o[r] .. rows + o[r+1] - sep),
 *           sep 1 in JSON (the ','), 0 in msgpack and CSV (a record spans its CRLF);
 *           o[0] = 0 when there are rows,
 *           o[r+1] >= o[r] + sep + 1, rows + o[n_rows] within full.
 *   INDEX = {slots: [offset, count], keys: R, key_offsets: offset}
 *           count is a power of two with at least one empty slot; each slot is a
 *           little-endian uint32 row number + 1 (0 = empty); key_offsets is n_rows + 1
 *           little-endian uint32, non-decreasing from 0, within keys (server/rowindex.h
 *           says how keys are spelled and hashed).
 * The reader checks every range against the bytes present, every row offset, key offset
 * and slot, before anything is served: a hostile file is refused with a reason. The
 * bytes of the documents themselves are served as they are. */
#pragma once

#include "snapshot.h"

#define SNAPSHOT_BODIES_ALIGN 4096
/* The largest row index a reader accepts (slots): 2^31, twice the rows a view may have. */
#define SNAPSHOT_MAX_INDEX_SLOTS (UINT32_C(1) << 31)

typedef struct SnapshotRange {
        uint64_t off;
        uint64_t len;
} SnapshotRange;

/* One format's documents of a view; all offsets are into the bodies. */
typedef struct SnapshotBodyDoc {
        SnapshotRange full;
        uint64_t head_len;
        uint64_t head_cols_len; /* a prefix of head: through the "total_rows" key */
        uint64_t rows;          /* offset of the first row inside full */
        SnapshotRange gzip;     /* len 0: none */
        SnapshotRange row_prefix;
        uint64_t row_offsets;
} SnapshotBodyDoc;

typedef struct SnapshotBodyIndex {
        uint64_t slots;
        uint64_t n_slots;
        SnapshotRange keys;
        uint64_t key_offsets;
} SnapshotBodyIndex;

typedef struct SnapshotBodyView {
        SnapshotBodyDoc json;
        SnapshotBodyDoc mp;
        SnapshotBodyDoc csv;
        SnapshotBodyIndex index;
} SnapshotBodyView;

/* A validated directory. base points at the bodies inside the file image. */
typedef struct SnapshotBodies {
        const uint8_t *base;
        size_t len;
        size_t n_views;
        SnapshotBodyView *views;
        SnapshotRange views_json, views_json_gzip, views_mp;
} SnapshotBodies;

/* Reader: decodes the serve directory at c against s's views (their n_rows) and the
 * bodies [base, base+len), allocating in s->arena; every check above. 0 or -EBADMSG with
 * a reason. */
typedef struct MpCursor MpCursor;
int snapshot_bodies_parse(MpCursor *c, const Snapshot *s, const void *base, size_t len,
                          SnapshotBodies **ret, char *reason, size_t reason_size);

/* Writer: the v2 file made of a v1 file image (as snapshot_writer_encode() gives it) plus
 * a directory (offsets into bodies, as above) and the bodies. malloc'd into *ret. */
int snapshot_bodies_encode(const void *v1, size_t v1_len, const SnapshotBodies *dir,
                           const void *bodies, size_t bodies_len, void **ret, size_t *ret_len);

static inline uint32_t snapshot_le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
