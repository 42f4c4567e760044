/* A snapshot prepared for serving, and its lifetime: every body pre-rendered (render.c),
 * rows indexed by key (rowindex.c), one reference count for all of it.
 *
 * Built from a validated Snapshot in the loader thread, then shared read-only by every
 * event loop. All of it lives in one Arena (the Served struct included); the last
 * served_unref() unmaps it in one piece, so RSS returns to baseline after each swap.
 * References are held by each loop's current pointer and by every response body that
 * still points into it (evbuffer_add_reference), so memory is freed only when the last
 * byte of an old snapshot has left the socket. */
#pragma once

#include <stdatomic.h>

#include <pthread.h>

#include "arena.h"
#include "buf.h"
#include "rowindex.h"
#include "slice.h"
#include "snapshot.h"

/* Bodies larger than this are also kept gzip-compressed. */
#define SERVED_GZIP_MIN 1024

typedef struct Piece {
        const char *p;
        size_t len;
} Piece;

/* One format's renderings of a view. */
typedef struct ViewBodies {
        Piece head;       /* the fixed leading members, through "total_rows" */
        Piece full;       /* the default whole-view document */
        Piece full_gz;    /* .p NULL when not compressed */
        Piece row_prefix; /* {"view":..,"generation":..,"row": */
        const char *rows; /* start of the concatenated rows in full */
        uint32_t *off;    /* row i spans rows[off[i]..off[i+1]-sep) */
        unsigned sep;     /* bytes between rows: 1 in JSON (','), 0 in msgpack */
        Piece head_cols;  /* head through the "total_rows" key: slices say their own count */
} ViewBodies;

/* A column's name and type, for documents rendered per request (?fields=). */
typedef struct ServedColumn {
        const char *name;
        ValueType type;
} ServedColumn;

typedef struct ServedView {
        const char *name;
        size_t name_len;
        size_t n_rows;
        size_t n_keys;
        ViewBodies json;
        ViewBodies mp;
        RowIndex index;
        SliceIndex slices; /* prefix and range lookups */
        size_t n_columns;
        ServedColumn *columns;
        ViewBodies csv; /* head = row_prefix = the header row; rows end in CRLF, sep 0 */
        char etag[48];
} ServedView;

typedef struct ServedMapping {
        void *p;
        size_t size;
} ServedMapping;

typedef struct Served {
        Arena *arena;
        /* multi-megabyte bodies are their own mappings, rendered in place, not copied */
        ServedMapping *maps;
        size_t n_maps, max_maps;
        /* the arena and maps while views render on several threads (served_run) */
        pthread_mutex_t lock;
        atomic_uint refs;
        /* Unique in the process, never reused (unlike the address once freed): what a
         * cache of bytes derived from this snapshot (conn.c's header block) is keyed by. */
        uint64_t id;
        uint64_t generation;
        int64_t created_usec;
        uint64_t file_bytes;
        uint64_t total_rows;
        uint64_t prepare_usec;
        SnapshotStats stats;    /* the header's worker map (host in the arena) */
        char last_modified[40]; /* IMF-fixdate of created_usec */
        char etag_views[48];
        size_t n_views;
        ServedView *views;
        Piece views_json, views_json_gz, views_mp;
        /* /v1/snapshot: everything but age_seconds is fixed; the body is head + age + tail */
        Piece snap_json_head, snap_json_tail, snap_mp_head, snap_mp_tail;
        struct Served *next_retired; /* the loader's list of snapshots to unmap */
} Served;

/* Renders s into a new Served with one reference. s is not consumed. */
int served_new(const Snapshot *s, Served **ret);
/* How served_new spreads its renderings (each view's JSON, msgpack and CSV, with their
 * gzip) over threads: run(n, fn, userdata) calls fn(k, n, userdata) for every k < n, at
 * once, and returns the first non-zero result (worker/parallel.h's parallel_run). The
 * worker sets it, rendering on the threads it already has; unset (tallyd: v1 files on
 * its one idle helper) everything renders on the calling thread. */
typedef int (*ServedRunner)(size_t n, int (*fn)(size_t k, size_t n, void *userdata),
                            void *userdata);
void served_set_runner(ServedRunner run, size_t n_threads);
/* A version 2 snapshot, no rendering: the Served points into the file image read by
 * snapshot_read_file_image(), which it takes over on success (prerender.h). */
int served_new_prerendered(const Snapshot *s, void *image, size_t image_size, Served **ret);
Served *served_ref(Served *sv);
/* Drops a reference; frees everything at zero. NULL is fine. */
void served_unref(Served *sv);
static inline void served_unrefp(Served **sv)
{
        served_unref(*sv);
}
/* The cleanup signature evbuffer_add_reference wants. */
void served_unref_cb(const void *data, size_t len, void *sv);

const ServedView *served_find_view(const Served *sv, const char *name, size_t len);
static inline Piece served_row(const ViewBodies *b, size_t row)
{
        return (Piece){b->rows + b->off[row], b->off[row + 1] - b->off[row] - b->sep};
}
/* Rows [first, first+n) as one contiguous slice of the rendered body. */
static inline Piece served_rows(const ViewBodies *b, size_t first, size_t n)
{
        if (n == 0)
                return (Piece){b->rows, 0};
        return (Piece){b->rows + b->off[first], b->off[first + n] - b->off[first] - b->sep};
}
/* Memory that lives exactly as long as sv (for render.c): a copy of p[0..len) in sv's
 * arena, or a whole mapped Buf taken over (b is left empty). *ret covers the bytes. */
int served_copy(Served *sv, const char *p, size_t len, Piece *ret);
int served_keep_mapping(Served *sv, Buf *b, Piece *ret);
/* size bytes in sv's arena (NULL when out of memory); safe from several render threads. */
void *served_alloc_mem(Served *sv, size_t size, size_t align);
/* Where the last reference goes: unmapping megabytes takes page-table work that an event
 * loop should not do between two requests, so the server hands it to the loader thread.
 * Without a hook (tests, tools) the memory is released at once. */
void served_set_retire_hook(void (*hook)(Served *sv, void *userdata), void *userdata);
/* Unmaps and frees sv now; for the retire hook's receiver. */
void served_release(Served *sv);
/* Number of live Served objects in the process (tests and metrics). */
unsigned served_live(void);
