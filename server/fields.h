/* ?fields=a,b: documents that keep only some columns of a view (the key columns always).
 *
 * Rendered per request, but without the rows' typed cells (which are not kept after
 * load): each kept cell is cut out of the pre-rendered row again (a JSON member, a msgpack
 * element, a CSV field; the renderings are this server's own, so the cuts are exact) and
 * copied. Work is one pass over the bytes of the rows in the page, i.e. bounded by
 * limit/offset like the response itself. */
#pragma once

#include "negotiate.h"
#include "route.h"
#include "served.h"

/* Which columns ?fields= keeps: keys always, then each named one. 0, or -ENOENT with
 * *ret_bad (into list) naming the first unknown column. */
int fields_select(const ServedView *v, const char *list, size_t len, bool *keep, Segment *ret_bad);

/* The view document for rows [first, first+n) with the kept columns, into out: the shape
 * of the whole view's, with "columns" listing the kept ones. */
void fields_page(Buf *out, const Served *sv, const ServedView *v, Representation rep,
                 const bool *keep, uint64_t total, uint64_t offset, uint64_t limit, size_t first,
                 size_t n);
/* The one-row document for row with the kept columns, into out. */
void fields_row(Buf *out, const ServedView *v, Representation rep, const bool *keep, size_t row);
