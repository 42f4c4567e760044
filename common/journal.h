/* journald's native protocol, spoken directly.
 *
 * The protocol is a stable public interface (systemd.io/JOURNAL_NATIVE_PROTOCOL): one
 * datagram per entry on an AF_UNIX socket, each field "KEY=value\n", or, when the value
 * holds a newline, "KEY\n" + 64-bit little-endian length + value + "\n". Speaking it here
 * keeps libsystemd and its chain of libraries (libgcrypt, lz4, zstd, lzma, libcap) out
 * of tally-worker, a oneshot whose every start pays for loading them. */
#pragma once

#include <sys/uio.h>
#include <sys/un.h>

#include "util.h"

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

/* Each entry is addressed to the path, not sent on a connected socket, so entries reach
 * a journald that restarted and bound the path anew. */
typedef struct Journal {
        int fd;
        struct sockaddr_un addr;
} Journal;

#define JOURNAL_NULL ((Journal){.fd = -1})

/* Opens a datagram socket for path; fails (negative errno) when nothing listens there. */
int journal_open(Journal *j, const char *path);
void journal_close(Journal *j);

/* Sends one entry made of fields, each "KEY=value" (value may hold any bytes, newlines
 * included). Keys are not checked: callers pass fixed uppercase names. 0 or negative
 * errno (the caller falls back to stderr). */
int journal_send(const Journal *j, const struct iovec *fields, size_t n_fields);
