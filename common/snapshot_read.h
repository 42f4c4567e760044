/* Loading a snapshot file as untrusted input (the server's side of the contract).
 *
 * The file is read whole into a fresh arena (never mmap'd: a file that is truncated or
 * grows under us must not fault or change after validation), then the format name,
 * version and checksum are verified before the payload is decoded; every count is bounded
 * by the bytes present. On rejection a one-line reason is written to reason. */
#pragma once

#include "snapshot.h"

/* Reads dir/name; refuses anything but a regular file of at most max_bytes. */
int snapshot_read_file(int dirfd, const char *name, uint64_t max_bytes, Snapshot **ret,
                       char *reason, size_t reason_size);
/* Decodes a whole file image (copied into the snapshot's arena). */
int snapshot_read_buffer(const void *buf, size_t len, Snapshot **ret, char *reason,
                         size_t reason_size);
Snapshot *snapshot_free(Snapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Snapshot *, snapshot_free);
