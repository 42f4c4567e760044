/* Loading a snapshot file as untrusted input (the server's side of the contract).
 *
 * The file is read whole into a fresh arena (never mmap'd: a file that is truncated or
 * grows under us must not fault or change after validation), then the format name,
 * version and checksum are verified before the payload is decoded; every count is bounded
 * by the bytes present. Versions 1 and 2 are read; a v2 file's bodies are validated too
 * (snapshot_bodies.h), so every reader (tallyd, tallyctl, tally-sync) refuses the same files. On
 * rejection a one-line reason is written to reason. */
#pragma once

#include "snapshot.h"

/* Reads dir/name; refuses anything but a regular file of at most max_bytes. */
int snapshot_read_file(int dirfd, const char *name, uint64_t max_bytes, Snapshot **ret,
                       char *reason, size_t reason_size);
/* For tallyd: the file is read into its own anonymous mapping (*ret_image, *ret_size,
 * page-aligned; the caller munmaps it) which the Snapshot's strings and bodies point
 * into. With SNAPSHOT_READ_BODIES_ONLY a v2 file's cells are checked for shape but not
 * decoded (views keep n_rows, cells is NULL): the bodies are what is served. */
#define SNAPSHOT_READ_BODIES_ONLY 1u
int snapshot_read_file_image(int dirfd, const char *name, uint64_t max_bytes, unsigned flags,
                             Snapshot **ret, void **ret_image, size_t *ret_size, char *reason,
                             size_t reason_size);
/* Decodes a whole file image (copied into the snapshot's arena). */
int snapshot_read_buffer(const void *buf, size_t len, Snapshot **ret, char *reason,
                         size_t reason_size);
Snapshot *snapshot_free(Snapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Snapshot *, snapshot_free);
