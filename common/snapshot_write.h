/* Building and atomically publishing a snapshot (the worker's side of the contract).
 *
 * Cells are packed as they are added, so the writer holds only the encoded bytes.
 * Publishing takes the directory lock, picks generation = newest + 1, writes a temp file
 * in the same directory, fsyncs it, renames it onto its final name, fsyncs the directory,
 * then prunes to the newest `keep`. A reader never sees a partial file. */
#pragma once

#include "snapshot.h"

typedef struct SnapshotWriter SnapshotWriter;

int snapshot_writer_new(SnapshotWriter **ret);

/* How bytes are appended to the writer's buffers: msgpack_sbuffer_write unless set
 * otherwise; non-zero is an allocation failure. Set before anything is added (it resets
 * the buffers). Tests set one that fails at the Nth call to prove that a failure anywhere
 * publishes nothing. */
typedef int (*SnapshotBufferWrite)(void *sbuffer, const char *buf, size_t len);
void snapshot_writer_set_buffer_write(SnapshotWriter *w, SnapshotBufferWrite write);
SnapshotWriter *snapshot_writer_free(SnapshotWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(SnapshotWriter *, snapshot_writer_free);

void snapshot_writer_set_stats(SnapshotWriter *w, const SnapshotStats *stats);
int snapshot_writer_add_source(SnapshotWriter *w, const SnapshotSource *src);

/* Starts a view with n_rows rows; exactly n_rows * n_columns cells must follow, row-major,
 * each nil or of its column's type. -EINVAL on misuse (checked, not assumed). */
int snapshot_writer_begin_view(SnapshotWriter *w, const char *name, size_t n_keys, size_t n_columns,
                               const SnapshotColumn *columns, size_t n_rows);
int snapshot_writer_put_nil(SnapshotWriter *w);
int snapshot_writer_put_str(SnapshotWriter *w, const char *s, size_t len);
int snapshot_writer_put_int(SnapshotWriter *w, int64_t v);
int snapshot_writer_put_num(SnapshotWriter *w, double v);
int snapshot_writer_put_time(SnapshotWriter *w, int64_t usec);
int snapshot_writer_put_value(SnapshotWriter *w, const Value *v);
int snapshot_writer_end_view(SnapshotWriter *w);

/* Publishes into dir (see above). On success *ret_generation and *ret_bytes (optional) are
 * set. On failure nothing is left behind but the previous snapshots. If deadline_usec
 * (CLOCK_MONOTONIC) is non-zero and passes before the rename, returns -ETIME. */
int snapshot_writer_publish(SnapshotWriter *w, const char *dir, unsigned keep,
                            uint64_t deadline_usec, uint64_t *ret_generation, uint64_t *ret_bytes);

/* Turns the encoded (v1) file into the one published: the worker renders the serving-ready
 * bodies of version 2 here (server/prerender.h), with the generation already chosen. The
 * result is malloc'd into *ret, *ret_len. */
typedef int (*SnapshotTransform)(const void *file, size_t len, void **ret, size_t *ret_len);
/* A transformed file larger than max_bytes (0: no bound) is dropped and the v1 file is
 * published instead: readers refuse files over max_snapshot_bytes, and the bodies of a big
 * view are several times its v1 size, while v1 they can still render. */
void snapshot_writer_set_transform(SnapshotWriter *w, SnapshotTransform transform,
                                   uint64_t max_bytes);
/* Whether the last publish fell back to v1 because the transformed file was too large. */
bool snapshot_writer_transform_skipped(const SnapshotWriter *w);

/* Encodes the whole file for generation into a malloc'd buffer, without touching disk
 * (tests and fuzz seeds use it). -ENOMEM when any buffer write failed, now or while
 * cells were added; -EINVAL inside a view. */
int snapshot_writer_encode(SnapshotWriter *w, uint64_t generation, int64_t created_usec,
                           void **ret_buf, size_t *ret_len);

/* Publishes a file image that was encoded elsewhere (tally-sync: a snapshot received from
 * another host, already validated) under its own generation, with the same temp, fsync,
 * rename, fsync-dir steps and pruning. Returns SNAPSHOT_INSTALL_NOT_NEWER and writes
 * nothing if dir already holds that generation or a newer one: a host never goes back. */
#define SNAPSHOT_INSTALL_NOT_NEWER 1
int snapshot_install(const char *dir, uint64_t generation, const void *buf, size_t len,
                     unsigned keep);
