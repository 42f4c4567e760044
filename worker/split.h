/* Splitting a mapped file between threads at line boundaries.
 *
 * A piece ends just after a LF, so each starts a line; whether it also starts a record
 * (a quoted field may hold a LF) is only known after the scan, which checks that the
 * piece before ended exactly there (see csv.h: where records end depends only on the
 * bytes) and otherwise rescans the file in one piece. */
#pragma once

#include "util.h"

/* How many pieces len bytes become for this many threads: 1 up to min_piece bytes,
 * then one per min_piece, at most 4 per thread (so threads that finish early find work). */
size_t split_pieces(size_t len, size_t threads, size_t min_piece);

/* Cuts buf[start, end) into at most pieces ranges, each but the last ending after the
 * first LF at or past its nominal share; the shares fall as pieces, pieces - 1, ..., 1, so
 * threads taking them in order end close together. Writes the boundaries to bounds[0..n] (room for
 * pieces + 1: bounds[0] = start, bounds[n] = end) and returns n, 0 if start == end. */
size_t split_at_lines(const char *buf, size_t start, size_t end, size_t pieces, size_t *bounds);
