/* How a snapshot describes itself: the members tallyd's /v1/snapshot, /v1/views and view
 * documents and tallyctl's show and dump have in common, written once so the server and
 * the operator's tool never spell a snapshot differently.
 *
 * Each call writes one member, key and value, into a map the caller opened (doc_map) and
 * counted; describe_generation_created writes two. */
#pragma once

#include "doc.h"
#include "snapshot.h"

/* "generation", then "created" (RFC 3339 UTC). */
void describe_generation_created(Doc *d, const Snapshot *s);
/* "worker": {rows_read, rows_rejected, duration_ms, host ("" when unknown)}, plus
 * peak_rss_kib, cpu_ms and wall_ms when usage is asked for and s carries it. */
void describe_worker(Doc *d, const Snapshot *s, bool usage);
/* "sources": one {name, type, files, rows_read, rows_rejected} per source. */
void describe_sources(Doc *d, const Snapshot *s);
/* "keys": the names of the key columns, which lead the columns. */
void describe_keys(Doc *d, const SnapshotView *v);
/* "columns": one {name, type} per column, in the view's order. */
void describe_columns(Doc *d, const SnapshotView *v);
