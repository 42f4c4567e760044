/* Version 2 snapshots: the bodies rendered once, by the worker, and adopted by tallyd.
 *
 * The worker's half renders exactly what tallyd would (render.c, rowindex.c, through
 * served_new) and lays it out as the contract says (snapshot_bodies.h); tallyd's half
 * points a Served into the validated file image instead of rendering, so a load costs a
 * read, a checksum and the bounds checks, not a render: it stays fast on a busy core.
 * What depends on tallyd (the file's own size, pinning, request time) stays tallyd's
 * (render_validators, render_info). */
#pragma once

#include "served.h"

/* The worker's SnapshotTransform (snapshot_write.h): the v1 file becomes a v2 file. */
int prerender_transform(const void *v1, size_t len, void **ret, size_t *ret_len);

/* tallyd: fills sv (allocated by served_new_prerendered) from s, a v2 snapshot read with
 * snapshot_read_file_image(); takes over the image mapping (the pages before the bodies
 * are unmapped, the rest made read-only) on success. */
int prerender_adopt(Served *sv, const Snapshot *s, void *image, size_t image_size);
