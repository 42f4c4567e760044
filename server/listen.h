/* The listening socket: bound here (so TCP_NODELAY is set on it and inherited by every
 * accepted socket, which evhttp_bind_socket cannot do) or passed by socket activation. */
#pragma once

#include "util.h"

/* Parses "host:port" or "[v6]:port"; binds, listens, non-blocking, close-on-exec.
 * -EINVAL for a malformed address, -EADDRNOTAVAIL for a host that does not resolve, or
 * the errno of socket/bind/listen. */
int listen_open(const char *address, int *ret_fd);
/* Prepares an inherited listening fd the same way (non-blocking, TCP_NODELAY). */
int listen_adopt(int fd);
/* Splits "host:port" / "[v6]:port" into its parts; -EINVAL if malformed. */
int listen_parse_address(const char *address, char *host, size_t host_size, char *port,
                         size_t port_size);
