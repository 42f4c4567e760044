/* journald's native protocol, spoken directly.
 *
 * The protocol is a stable public interface (systemd.io/JOURNAL_NATIVE_PROTOCOL): one
 * datagram per entry on an AF_UNIX socket, each field "KEY=value\n", or, when the value
 * holds a newline, "KEY\n" + 64-bit little-endian length + value + "\n". Speaking it here
 * keeps libsystemd and its chain of libraries (libgcrypt, lz4, zstd, lzma, libcap) out
 * of tally-worker, a oneshot whose every start pays for loading them. */
#pragma once

#include <sys/uio.h>

#include "util.h"

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

/* A datagram socket connected to path; a new fd, or negative errno. */
int journal_open(const char *path);

/* Sends one entry made of fields, each "KEY=value" (value may hold any bytes, newlines
 * included). Keys are not checked: callers pass fixed uppercase names. 0 or negative
 * errno (the caller falls back to stderr). */
int journal_send(int fd, const struct iovec *fields, size_t n_fields);
