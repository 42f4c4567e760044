/* CSV renderings of a view (RFC 4180), pre-rendered at load beside JSON and msgpack so
 * text/csv requests only pick pieces, like the others.
 *
 * A header row of column names, then one record per row, CRLF after every record. Cells
 * read as JSON shows them: time as RFC 3339 UTC, numbers as the shortest round-trip
 * decimal, invalid UTF-8 as U+FFFD; a missing value or a non-finite number is an empty
 * field, an empty string is "" (so the two stay apart, as tally-worker reads CSV). A
 * field is quoted when it holds a comma, a quote, CR or LF; quotes inside are doubled. */
#pragma once

#include "served.h"

/* Renders v into *out: full = header + records (and full_gz), head = row_prefix = the
 * header row, rows/off per record with sep 0 (each record spans its CRLF). */
int render_csv_view(Served *sv, const SnapshotView *v, ViewBodies *out);
/* One field: s[0..n) quoted when needed. */
void csv_field(Buf *b, const char *s, size_t n);
/* One cell as a field. */
void csv_value(Buf *b, const Value *v);
