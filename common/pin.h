/* The pin: an operator's "serve this generation, not the newest" (tallyctl pin GEN).
 *
 * It is a file named "pin" in the snapshot directory holding the generation in decimal
 * and one newline, so it survives restarts and every program that opens the directory
 * sees the same answer: tallyd serves that generation, the worker's pruning keeps it.
 * Written like a snapshot (temp file beside it, fsync, rename, fsync of the directory)
 * under the writers' directory lock, so pruning and pinning never interleave. Read as
 * untrusted input: a regular file of at most PIN_MAX_BYTES, digits and an optional
 * newline, nothing else. */
#pragma once

#include "util.h"

#define PIN_FILE_NAME  "pin"
#define PIN_TMP_PREFIX ".tmp-pin-"
#define PIN_MAX_BYTES  32

/* Parses a pin file's bytes: 1..UINT64_MAX-1 in decimal without leading zeros or sign,
 * optionally followed by one "\n". -EBADMSG otherwise. (UINT64_MAX is refused: no
 * snapshot can follow it, so the worker never writes it, and readers use it as a mark.) */
int pin_parse(const char *buf, size_t len, uint64_t *ret);

/* 0: no pin file. 1: pinned, *ret set. Negative: a pin file is there but unusable
 * (-EBADMSG bad content, -EFBIG too long, -EINVAL not a regular file, other -errno). */
int pin_read(int dirfd, uint64_t *ret);

/* Replaces the pin atomically. The caller holds snapshot_dir_lock(), which also makes
 * it safe to sweep temp files a killed pinner left. */
int pin_write(int dirfd, uint64_t generation);

/* 1 if a pin was removed (and the removal made durable), 0 if there was none. */
int pin_remove(int dirfd);
