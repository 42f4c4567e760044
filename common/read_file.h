/* Reading a whole untrusted file of bounded size into memory (the config file, a
 * snapshot): one place that refuses what is not a regular file or is too large, and reads
 * exactly the size fstat saw, so a file that grows while we read is judged on that prefix
 * and cannot keep us reading, and one that shrinks is noticed. */
#pragma once

#include "util.h"

typedef enum ReadFileOutcome {
        READ_FILE_NOT_REGULAR = 1, /* a directory, FIFO, device... */
        READ_FILE_TOO_LARGE,       /* *ret_len is the file's size */
        READ_FILE_SHRANK,          /* fewer bytes than fstat said */
} ReadFileOutcome;

/* Reads all of fd into alloc(userdata, size) (the caller owns that memory, even on
 * failure). 0 with *ret_buf and *ret_len; a ReadFileOutcome; -ENOMEM when alloc returns
 * NULL; -errno from fstat or pread. */
int read_file_bounded(int fd, uint64_t max_bytes, void *(*alloc)(void *userdata, size_t size),
                      void *userdata, void **ret_buf, size_t *ret_len);
/* The reading part alone, for a caller that did its own fstat (snapshot_read.c): exactly
 * len bytes of fd from its start into buf. 0, READ_FILE_SHRANK, or -errno from pread. */
int read_file_exact(int fd, void *buf, size_t len);
